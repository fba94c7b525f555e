// Package storage wraps containers/storage (go.podman.io/storage): layers,
// images and container root filesystems under skiff's graph root.
//
// Layout below the graph root (GraphRoot/storage is containers/storage's own):
//
//	<graphroot>/storage/            overlay (or vfs) layers, images.json, layers.json
//	<runroot>/storage/              mount bookkeeping, lost on reboot
//
// Invariants: callers never see containers/storage error values; Open maps
// them to containerd/errdefs kinds so nothing above imports this library's
// errors. The store is safe for many concurrent processes: containers/storage
// takes its own file locks around every read and write.
package storage

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/containerd/errdefs"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/types"
)

// Options select where and how layers are stored.
type Options struct {
	GraphRoot     string   // skiff's graph root; the store lives in GraphRoot/storage
	RunRoot       string   // skiff's run root; the store keeps RunRoot/storage
	Driver        string   // "overlay", "vfs"; empty picks overlay, then vfs
	DriverOptions []string // e.g. "overlay.mount_program=/usr/bin/fuse-overlayfs"
	// SingleID is set when the rootless namespace maps only the user's own
	// id: chown to any other id fails, so layers keep the owner they can.
	SingleID bool
}

// Store is an open containers/storage store.
type Store struct {
	cs cstorage.Store
}

// Open opens (creating on first use) the store described by o.
func Open(o Options) (*Store, error) {
	so := types.StoreOptions{
		GraphRoot:           filepath.Join(o.GraphRoot, "storage"),
		RunRoot:             filepath.Join(o.RunRoot, "storage"),
		GraphDriverName:     o.Driver,
		GraphDriverPriority: []string{"overlay", "vfs"},
		GraphDriverOptions:  o.DriverOptions,
	}
	if o.SingleID {
		so.GraphDriverOptions = append(so.GraphDriverOptions, driverOpt(o.Driver, "ignore_chown_errors=true")...)
	}
	cs, err := cstorage.GetStore(so)
	if err != nil {
		return nil, fmt.Errorf("opening storage at %s (driver %q): %w", so.GraphRoot, o.Driver, Err(err))
	}
	return &Store{cs: cs}, nil
}

// driverOpt scopes an option to the drivers that understand it.
func driverOpt(driver, opt string) []string {
	switch driver {
	case "", "overlay":
		return []string{"overlay." + opt}
	case "vfs":
		return []string{"vfs." + opt}
	}
	return nil
}

// CS is the underlying containers/storage store, for the image copy code
// (the containers-storage transport of containers/image needs it).
func (s *Store) CS() cstorage.Store { return s.cs }

// Driver is the graph driver in use.
func (s *Store) Driver() string { return s.cs.GraphDriverName() }

// Shutdown releases the store; mounted layers stay mounted unless force.
func (s *Store) Shutdown(force bool) error {
	_, err := s.cs.Shutdown(force)
	return Err(err)
}

// Err maps containers/storage errors to errdefs kinds, keeping the message.
func Err(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, types.ErrImageUnknown), errors.Is(err, types.ErrLayerUnknown),
		errors.Is(err, types.ErrContainerUnknown), errors.Is(err, types.ErrNotAnImage),
		errors.Is(err, types.ErrNotAContainer):
		return kindError{err, errdefs.ErrNotFound}
	case errors.Is(err, types.ErrDuplicateName), errors.Is(err, types.ErrDuplicateID):
		return kindError{err, errdefs.ErrAlreadyExists}
	case errors.Is(err, types.ErrImageUsedByContainer), errors.Is(err, types.ErrLayerUsedByContainer):
		return kindError{err, errdefs.ErrConflict}
	}
	return err
}

// kindError keeps the library's message but answers errors.Is for the kind.
type kindError struct {
	err  error
	kind error
}

func (k kindError) Error() string { return k.err.Error() }
func (k kindError) Unwrap() []error {
	return []error{k.err, k.kind}
}
