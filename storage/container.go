package storage

import (
	"github.com/containerd/errdefs"
	cstorage "go.podman.io/storage"
)

// CreateOptions describe a container's writable layer.
type CreateOptions struct {
	ID      string
	ImageID string
	// Volatile records the container and its layer without fsync and
	// mounts its overlay with "volatile": for --rm containers, which an
	// unclean shutdown may lose without harm.
	Volatile bool
}

// CreateContainer creates the writable layer of container o.ID on its
// image. The record has no name: skiff's names live in its state database.
func (s *Store) CreateContainer(o CreateOptions) error {
	_, err := s.cs.CreateContainer(o.ID, nil, o.ImageID, "", "", &cstorage.ContainerOptions{Volatile: o.Volatile})
	return Err(err)
}

// ContainerSizes are Docker's SizeRw (what the container wrote on top of
// its image) and SizeRootFs (that plus the image).
func (s *Store) ContainerSizes(id string) (rw, rootfs int64, err error) {
	c, err := s.cs.Container(id)
	if err != nil {
		return 0, 0, Err(err)
	}
	if rw, err = s.cs.DiffSize("", c.LayerID); err != nil {
		return 0, 0, Err(err)
	}
	img, err := s.cs.ImageSize(c.ImageID)
	if err != nil {
		return 0, 0, Err(err)
	}
	return rw, rw + img, nil
}

// Mount mounts the container's root filesystem and returns its path. Mounts
// are counted: every Mount needs an Unmount.
func (s *Store) Mount(id string) (string, error) {
	p, err := s.cs.Mount(id, "")
	return p, Err(err)
}

// Unmount releases one mount (all of them with force).
func (s *Store) Unmount(id string, force bool) error {
	_, err := s.cs.Unmount(id, force)
	if errdefs.IsNotFound(Err(err)) {
		return nil
	}
	return Err(err)
}

// DeleteContainer removes the record, its layer and its directories.
func (s *Store) DeleteContainer(id string) error { return Err(s.cs.DeleteContainer(id)) }
