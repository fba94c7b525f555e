package storage

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	cstorage "go.podman.io/storage"
)

// Container is containers/storage's record of a container: its writable
// layer on top of an image, its unique name, and skiff's metadata (JSON).
type Container struct {
	ID       string
	Name     string
	ImageID  string
	LayerID  string
	Metadata string
	Created  time.Time
}

func fromCS(c *cstorage.Container) Container {
	out := Container{ID: c.ID, ImageID: c.ImageID, LayerID: c.LayerID, Metadata: c.Metadata, Created: c.Created}
	if len(c.Names) > 0 {
		out.Name = c.Names[0]
	}
	return out
}

// CreateOptions are what CreateContainer records besides the name.
type CreateOptions struct {
	ID       string // "" lets the store choose
	ImageID  string
	Metadata string
	// Volatile records the container and its layer without fsync and
	// mounts its overlay with "volatile": for --rm containers, which an
	// unclean shutdown may lose without harm.
	Volatile bool
}

// CreateContainer creates the record and the writable layer in one step. The
// name is claimed atomically: a name in use is errdefs.ErrAlreadyExists.
func (s *Store) CreateContainer(name string, o CreateOptions) (Container, error) {
	c, err := s.cs.CreateContainer(o.ID, []string{name}, o.ImageID, "", o.Metadata, &cstorage.ContainerOptions{Volatile: o.Volatile})
	if err != nil {
		if errdefs.IsAlreadyExists(Err(err)) {
			return Container{}, fmt.Errorf("the container name %q is already in use: remove that container or choose another name: %w", name, errdefs.ErrConflict)
		}
		return Container{}, Err(err)
	}
	return fromCS(c), nil
}

// Containers lists every container record in one read.
func (s *Store) Containers() ([]Container, error) {
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, Err(err)
	}
	out := make([]Container, len(cs))
	for i := range cs {
		out[i] = fromCS(&cs[i])
	}
	return out, nil
}

// Container reads one record by ID or name.
func (s *Store) Container(idOrName string) (Container, error) {
	c, err := s.cs.Container(idOrName)
	if err != nil {
		return Container{}, Err(err)
	}
	return fromCS(c), nil
}

// SetMetadata replaces skiff's metadata of a container.
func (s *Store) SetMetadata(id, metadata string) error { return Err(s.cs.SetMetadata(id, metadata)) }

// Rename gives a container a new unique name.
func (s *Store) Rename(id, oldName, newName string) error {
	if err := s.cs.AddNames(id, []string{newName}); err != nil {
		if errdefs.IsAlreadyExists(Err(err)) {
			return fmt.Errorf("the container name %q is already in use: %w", newName, errdefs.ErrConflict)
		}
		return Err(err)
	}
	return Err(s.cs.RemoveNames(id, []string{oldName}))
}

// Dir is the container's persistent directory (state, logs, spec),
// created if missing.
func (s *Store) Dir(id string) (string, error) {
	d, err := s.cs.ContainerDirectory(id)
	return d, Err(err)
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

// DirOf is where Dir puts a container's directory, computed without taking
// the store's lock: for records just read from the store (ps reads a
// thousand). The layout is containers/storage's own.
func (s *Store) DirOf(id string) string {
	return filepath.Join(s.cs.GraphRoot(), s.cs.GraphDriverName()+"-containers", id, "userdata")
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

// ContainersOf lists the containers that use an image.
func (s *Store) ContainersOf(imageID string) ([]string, error) {
	cs, err := s.cs.Containers()
	if err != nil {
		return nil, Err(err)
	}
	var ids []string
	for _, c := range cs {
		if c.ImageID == imageID {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}
