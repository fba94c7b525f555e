package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/storage"
	"github.com/skiff-engine/skiff/userns"
)

// ContainerDiffOptions tune ContainerDiff (none yet).
type ContainerDiffOptions struct{}

// ContainerDiffResult lists the changes, sorted by path.
type ContainerDiffResult struct {
	Changes []storage.Change
}

// ContainerDiff lists what the container changed in its file system
// against its image, as Docker's diff: A, C and D by path, without the
// mount points the runtime made (see runtimeMountPoints).
func (e *Engine) ContainerDiff(ctx context.Context, ref string, o ContainerDiffOptions) (ContainerDiffResult, error) {
	c, unlock, err := e.lockedLayer(ref)
	if err != nil {
		return ContainerDiffResult{}, err
	}
	defer unlock()
	changes, err := e.store.ContainerChanges(c.ID, runtimeMountPoints)
	return ContainerDiffResult{Changes: changes}, err
}

// lockedLayer opens the store and finds a container under its lock, for
// the operations that read its layer (rm waits for them).
func (e *Engine) lockedLayer(ref string) (*Container, func(), error) {
	if _, err := e.imageStore(); err != nil {
		return nil, nil, err
	}
	return e.lockedState(ref)
}

// ContainerExportOptions: the tar goes to the file Path (made beside it
// and renamed into place, so a failure leaves none), or to Output when
// Path is empty.
type ContainerExportOptions struct {
	Path   string
	Output io.Writer
}

// ContainerExportResult is empty: the tar is in Path or Output.
type ContainerExportResult struct{}

// ContainerExport writes a tar of the container's whole file system (its
// image and its changes, not its volumes), running or not.
func (e *Engine) ContainerExport(ctx context.Context, ref string, o ContainerExportOptions) (ContainerExportResult, error) {
	if o.Path == "" && o.Output == nil {
		return ContainerExportResult{}, fmt.Errorf("export needs a file or a writer for the tar: %w", errdefs.ErrInvalidArgument)
	}
	c, unlock, err := e.lockedLayer(ref)
	if err != nil {
		return ContainerExportResult{}, err
	}
	defer unlock()
	if o.Path == "" {
		return ContainerExportResult{}, e.store.ExportContainer(c.ID, o.Output)
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.Path), ".skiff-export-*")
	if err != nil {
		return ContainerExportResult{}, fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = e.store.ExportContainer(c.ID, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ContainerExportResult{}, err
	}
	// CreateTemp made it 0600; a tar is as readable as any new file.
	mask := unix.Umask(0)
	unix.Umask(mask)
	if err := os.Chmod(tmp.Name(), 0o666&^os.FileMode(mask)); err != nil {
		return ContainerExportResult{}, err
	}
	return ContainerExportResult{}, os.Rename(tmp.Name(), o.Path)
}

// ContainerMountOptions tune ContainerMount (none yet).
type ContainerMountOptions struct{}

// ContainerMountResult is where the root file system is mounted.
type ContainerMountResult struct {
	ID         string
	Mountpoint string
}

// ContainerMount mounts the container's root file system for the user
// (podman's container mount); mounts are counted by containers/storage,
// and each needs an unmount. Rootless the mount lives in skiff's mount
// namespace, which the caller's shell sees only inside `skiff unshare`:
// elsewhere it is refused, as podman refuses it.
func (e *Engine) ContainerMount(ctx context.Context, ref string, o ContainerMountOptions) (ContainerMountResult, error) {
	if err := e.mountVisible(); err != nil {
		return ContainerMountResult{}, err
	}
	c, unlock, err := e.lockedLayer(ref)
	if err != nil {
		return ContainerMountResult{}, err
	}
	defer unlock()
	p, err := e.store.Mount(c.ID)
	return ContainerMountResult{ID: c.ID, Mountpoint: p}, err
}

// mountVisible refuses a rootless mount whose caller cannot see it.
func (e *Engine) mountVisible() error {
	if e.paths.Rootless && !userns.Nested() {
		return fmt.Errorf("rootless, a container's mount is only visible in skiff's mount namespace: run `skiff unshare` first and mount inside it: %w", errdefs.ErrFailedPrecondition)
	}
	return nil
}

// ContainerMountListResult lists the mounted containers.
type ContainerMountListResult struct {
	Mounts []ContainerMountResult
}

// ContainerMountList lists every container whose root file system is
// mounted (by container mount or because it runs), newest first.
func (e *Engine) ContainerMountList(ctx context.Context, o ContainerMountOptions) (ContainerMountListResult, error) {
	if err := e.mountVisible(); err != nil {
		return ContainerMountListResult{}, err
	}
	if _, err := e.imageStore(); err != nil {
		return ContainerMountListResult{}, err
	}
	cs, err := e.listContainers()
	if err != nil {
		return ContainerMountListResult{}, err
	}
	var res ContainerMountListResult
	for _, c := range cs {
		if n, err := e.store.Mounted(c.ID); err != nil || n == 0 {
			continue
		}
		if p, err := e.store.Mountpoint(c.ID); err == nil {
			res.Mounts = append(res.Mounts, ContainerMountResult{ID: c.ID, Mountpoint: p})
		}
	}
	return res, nil
}

// ContainerUnmountOptions: Force releases every mount at once (a running
// container keeps its own).
type ContainerUnmountOptions struct {
	Force bool
}

// ContainerUnmountResult names the container.
type ContainerUnmountResult struct {
	ID string
}

// ContainerUnmount releases one container mount (all of them with Force).
// A container that is not mounted is left as it is; a running container's
// own mount is never released.
func (e *Engine) ContainerUnmount(ctx context.Context, ref string, o ContainerUnmountOptions) (ContainerUnmountResult, error) {
	if err := e.mountVisible(); err != nil {
		return ContainerUnmountResult{}, err
	}
	c, unlock, err := e.lockedLayer(ref)
	if err != nil {
		return ContainerUnmountResult{}, err
	}
	defer unlock()
	keep := 0
	if c.Running() {
		keep = 1
	}
	for {
		n, err := e.store.Mounted(c.ID)
		if err != nil || n <= keep {
			return ContainerUnmountResult{ID: c.ID}, err
		}
		if err := e.store.Unmount(c.ID, o.Force && keep == 0); err != nil {
			return ContainerUnmountResult{ID: c.ID}, err
		}
		if !o.Force {
			return ContainerUnmountResult{ID: c.ID}, nil
		}
	}
}
