package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine/archive"
	"github.com/skiff-engine/skiff/runtime"
)

// The container archive operations are docker's archive endpoints (HEAD,
// GET and PUT /containers/{id}/archive): the engine side of cp. The
// renaming rules of cp (trailing "/.", missing or existing destinations)
// are the client's, as in docker, so the API shim serves the same
// operations. Every path is resolved inside the container's own view of
// its files (runtime.InContainerFS): a symlink in the container never
// reaches the host.

// ContainerPathStat is docker's ContainerPathStat (the JSON of the
// X-Docker-Container-Path-Stat header).
type ContainerPathStat = archive.PathStat

// ContainerStatPathOptions: Path in the container.
type ContainerStatPathOptions struct {
	Path string
}

// ContainerStatPathResult is HEAD /containers/{id}/archive's stat.
type ContainerStatPathResult struct {
	Stat ContainerPathStat
}

// ContainerStatPath stats Path in the container: its directory's
// symlinks evaluated, not its last element (a symlink reports its
// LinkTarget, evaluated inside the container). A missing path: NotFound.
func (e *Engine) ContainerStatPath(ctx context.Context, ref string, o ContainerStatPathOptions) (ContainerStatPathResult, error) {
	var st ContainerPathStat
	err := e.inContainerFS(ref, func(c *Container) error {
		var err error
		st, err = archive.Stat(o.Path)
		return pathError(c, o.Path, err)
	})
	return ContainerStatPathResult{Stat: st}, err
}

// ContainerArchiveGetOptions: Path in the container; a trailing "/."
// archives a directory's contents.
type ContainerArchiveGetOptions struct {
	Path string
}

// ContainerArchiveGetResult is GET /containers/{id}/archive: the stat of
// Path and the tar stream of it, which the caller must Close.
type ContainerArchiveGetResult struct {
	Stat    ContainerPathStat
	Content io.ReadCloser
}

// ContainerArchiveGet streams Path out of the container as a tar whose
// entries start with Path's base name (as docker's GET). The error of a
// missing path comes before any content: NotFound.
func (e *Engine) ContainerArchiveGet(ctx context.Context, ref string, o ContainerArchiveGetOptions) (ContainerArchiveGetResult, error) {
	c, view, release, err := e.containerView(ref)
	if err != nil {
		return ContainerArchiveGetResult{}, err
	}
	pr, pw := io.Pipe()
	// A cancelled context ends the stream, and so the walk and the view.
	stop := context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
	type statErr struct {
		st  ContainerPathStat
		err error
	}
	first := make(chan statErr, 1)
	var once sync.Once
	report := func(st ContainerPathStat, err error) { once.Do(func() { first <- statErr{st, err} }) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := runtime.InContainerFS(view, func() error {
			abs := archive.Abs(o.Path)
			st, err := archive.Stat(o.Path)
			if err != nil {
				return pathError(c, o.Path, err)
			}
			resolved, err := archive.Resolve(abs)
			if err != nil {
				return pathError(c, o.Path, err)
			}
			report(st, nil)
			return archive.Tar(pw, resolved, filepath.Base(abs))
		})
		report(ContainerPathStat{}, err)
		pw.CloseWithError(err)
		stop()
		release()
	}()
	r := <-first
	if r.err != nil {
		<-done
		return ContainerArchiveGetResult{}, r.err
	}
	return ContainerArchiveGetResult{Stat: r.st, Content: &archiveReader{PipeReader: pr, done: done}}, nil
}

// archiveReader's Close ends the stream and waits until the container's
// files are released (a stopped container's mount and lock).
type archiveReader struct {
	*io.PipeReader
	done chan struct{}
}

func (a *archiveReader) Close() error {
	a.PipeReader.CloseWithError(errors.New("archive reader closed"))
	<-a.done
	return nil
}

// ContainerArchivePutOptions: Path, an existing directory in the
// container (its symlinks, the last one too, evaluated inside it), and
// Content, a tar stream to extract there.
type ContainerArchivePutOptions struct {
	Path    string
	Content io.Reader
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory and the other way round (docker's default for cp).
	NoOverwriteDirNonDir bool
	// CopyUIDGID gives every entry the container's user and its primary
	// group (cp -a), as docker's engine does; otherwise each entry keeps
	// the uid and gid its header carries.
	CopyUIDGID bool
}

// ContainerArchivePutResult is empty: PUT answers 200 and no body.
type ContainerArchivePutResult struct{}

// ContainerArchivePut extracts Content into the directory Path of the
// container. Path missing: NotFound; not a directory: InvalidArgument;
// inside the read-only root filesystem or a read-only mount:
// FailedPrecondition.
func (e *Engine) ContainerArchivePut(ctx context.Context, ref string, o ContainerArchivePutOptions) (ContainerArchivePutResult, error) {
	// Only bytes cross into the container's view: a pipe in memory, never
	// the caller's file descriptor.
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, o.Content)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	defer context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })()
	err := e.inContainerFS(ref, func(c *Container) error {
		dir, err := filepath.EvalSymlinks(archive.Abs(o.Path))
		if err != nil {
			return pathError(c, o.Path, err)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			return pathError(c, o.Path, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("extraction point is not a directory: %w", errdefs.ErrInvalidArgument)
		}
		if err := writable(c, dir); err != nil {
			return err
		}
		xo := archive.ExtractOptions{NoOverwriteDirNonDir: o.NoOverwriteDirNonDir, KeepOwner: !o.CopyUIDGID}
		if o.CopyUIDGID {
			// Resolved in the container's own /etc/passwd: this thread's
			// root is the container's.
			uid, gid, _, _, err := runtime.ResolveUser("/", c.Config.Spec.User, nil)
			if err != nil {
				return err
			}
			xo.UID, xo.GID = int(uid), int(gid)
		}
		err = archive.Extract(pr, dir, xo)
		if errors.Is(err, archive.ErrBreakout) {
			return fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
		}
		if errors.Is(err, unix.EROFS) {
			return fmt.Errorf("%w: %w", err, errdefs.ErrFailedPrecondition)
		}
		return err
	})
	return ContainerArchivePutResult{}, err
}

// writable refuses, as docker, a destination in the read-only root
// filesystem (unless a writable mount covers it) or in a read-only mount.
// dir is the resolved path inside the container.
func writable(c *Container, dir string) error {
	var best *runtime.Mount
	for i, m := range c.Config.Spec.Mounts {
		if dir == m.Destination || strings.HasPrefix(dir, strings.TrimSuffix(m.Destination, "/")+"/") {
			if best == nil || len(m.Destination) > len(best.Destination) {
				best = &c.Config.Spec.Mounts[i]
			}
		}
	}
	switch {
	case best != nil && best.ReadOnly:
		return fmt.Errorf("mounted volume is marked read-only: %w", errdefs.ErrFailedPrecondition)
	case best == nil && c.Config.Spec.ReadOnly:
		return fmt.Errorf("container rootfs is marked read-only: %w", errdefs.ErrFailedPrecondition)
	}
	return nil
}

// ErrPathNotFound is a path missing in a container (a NotFound error),
// told apart from a missing container.
var ErrPathNotFound = errors.New("no such path in the container")

// pathError names a missing path as docker does.
func pathError(c *Container, path string, err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return &pathNotFound{path: path, name: c.Name}
	}
	return err
}

type pathNotFound struct{ path, name string }

func (p *pathNotFound) Error() string {
	return fmt.Sprintf("Could not find the file %s in container %s", p.path, p.name)
}

func (p *pathNotFound) Unwrap() []error { return []error{ErrPathNotFound, errdefs.ErrNotFound} }

// inContainerFS runs fn inside the container's view of its files.
func (e *Engine) inContainerFS(ref string, fn func(*Container) error) error {
	c, view, release, err := e.containerView(ref)
	if err != nil {
		return err
	}
	defer release()
	return runtime.InContainerFS(view, func() error { return fn(c) })
}

// containerView finds the container and how to see its files: a running
// (or paused) one through its init's mount namespace, with no lock (cp
// must not hold up a stop); a stopped one through its root filesystem,
// mounted here, with the spec's binds and volumes and its /etc/hosts,
// /etc/hostname and /etc/resolv.conf, under its lock so that no start,
// clean-up or removal interleaves. release undoes that.
func (e *Engine) containerView(ref string) (*Container, runtime.FSView, func(), error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, runtime.FSView{}, nil, err
	}
	if v, ok := runningView(c); ok {
		return c, v, func() {}, nil
	}
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return nil, runtime.FSView{}, nil, err
	}
	if v, ok := runningView(c); ok {
		unlock() // it started meanwhile
		return c, v, func() {}, nil
	}
	if _, err := e.imageStore(); err != nil {
		unlock()
		return nil, runtime.FSView{}, nil, err
	}
	rootfs, err := e.store.Mount(c.ID)
	if errdefs.IsNotFound(err) {
		err = fmt.Errorf("container %s has no root filesystem (its creation was interrupted): remove it with skiff rm: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	if err != nil {
		unlock()
		return nil, runtime.FSView{}, nil, err
	}
	v := runtime.FSView{Rootfs: rootfs, ReadOnly: c.Config.Spec.ReadOnly, Mounts: stoppedMounts(c)}
	return c, v, func() {
		e.store.Unmount(c.ID, false)
		unlock()
	}, nil
}

func runningView(c *Container) (runtime.FSView, bool) {
	if !c.Running() || c.State.Pid <= 0 {
		return runtime.FSView{}, false
	}
	return runtime.FSView{Pid: c.State.Pid, MonitorPid: c.State.MonitorPid, MonitorStart: c.State.MonitorStart}, true
}

// stoppedMounts are what a start would bind: the files skiff writes for
// the container (unless a user mount covers them), then the user's binds
// and volumes in order; tmpfs mounts are empty in a stopped container, so
// what is under them in the root filesystem is what cp sees, as in docker.
func stoppedMounts(c *Container) []runtime.Mount {
	var out []runtime.Mount
	for _, f := range []struct{ dst, src string }{
		{"/etc/hosts", c.HostsFile()}, {"/etc/hostname", c.HostnameFile()}, {"/etc/resolv.conf", c.ResolvConfFile()},
	} {
		covered := false
		for _, m := range c.Config.Spec.Mounts {
			if f.dst == m.Destination || strings.HasPrefix(f.dst, strings.TrimSuffix(m.Destination, "/")+"/") {
				covered = true
			}
		}
		if _, err := os.Stat(f.src); err == nil && !covered {
			out = append(out, runtime.Mount{Type: "bind", Source: f.src, Destination: f.dst, ReadOnly: c.Config.Spec.ReadOnly})
		}
	}
	for _, m := range c.Config.Spec.Mounts {
		if m.Type == "bind" || m.Type == "volume" {
			out = append(out, m)
		}
	}
	return out
}
