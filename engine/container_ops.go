package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// lockContainer takes the container's cross-process lock.
func lockContainer(c *Container) (func(), error) {
	f, err := os.OpenFile(filepath.Join(c.dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// lockedState finds a container, takes its lock and reads its state under
// it (another process may have started or stopped it meanwhile).
func (e *Engine) lockedState(ref string) (*Container, func(), error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := lockContainer(c)
	if err != nil {
		return nil, nil, err
	}
	st, err := runtime.ReadState(c.StatePath())
	if err != nil {
		unlock()
		return nil, nil, err
	}
	c.State = checkLiveness(st)
	return c, unlock, nil
}

// ContainerStopOptions tune ContainerStop.
type ContainerStopOptions struct {
	Timeout int // seconds before SIGKILL; -1: the container's own (default 10)
}

// ContainerStop sends the stop signal, waits, then kills. Stopping a
// container that is not running succeeds, as in Docker.
func (e *Engine) ContainerStop(ctx context.Context, ref string, o ContainerStopOptions) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	return e.stopContainer(ctx, c, o)
}

func (e *Engine) stopContainer(ctx context.Context, c *Container, o ContainerStopOptions) error {
	if !c.Running() {
		return nil
	}
	timeout := c.Config.StopTimeout
	if o.Timeout >= 0 {
		timeout = o.Timeout
	}
	sig, err := runtime.ParseSignal(c.Config.StopSignal)
	if err != nil {
		sig = unix.SIGTERM
	}
	if timeout > 0 {
		if err := e.signal(c, sig); err != nil {
			return err
		}
		if e.waitExit(ctx, c, time.Duration(timeout)*time.Second) {
			return nil
		}
	}
	if err := e.signal(c, unix.SIGKILL); err != nil {
		return err
	}
	if !e.waitExit(ctx, c, 10*time.Second) {
		return fmt.Errorf("container %s did not exit after SIGKILL", c.Name)
	}
	return nil
}

// signal delivers sig to the container's init. With a private PID
// namespace, SIGKILL to init takes the whole container down.
func (e *Engine) signal(c *Container, sig unix.Signal) error {
	if c.State.Pid <= 0 {
		return fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	// A frozen process acts on its signal once thawed: stop, kill and rm -f
	// of a paused container unpause it, as Docker does. It is recorded
	// running before the signal, which may kill it at once (cgroup v2), so
	// that the monitor's exit record comes last (see container_freeze.go).
	paused := c.State.Status == runtime.StatusPaused
	if paused {
		if err := e.recordRunning(c); err != nil {
			return err
		}
	}
	var err error
	if kerr := unix.Kill(c.State.Pid, sig); kerr != nil && kerr != unix.ESRCH {
		err = fmt.Errorf("signalling container %s: %w", c.Name, kerr)
	}
	if paused {
		err = errors.Join(err, e.resume(c))
	}
	return err
}

// waitExit polls the recorded state until the container exited.
func (e *Engine) waitExit(ctx context.Context, c *Container, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		st, err := runtime.ReadState(c.StatePath())
		if err == nil {
			st = checkLiveness(st)
			if st.Status == runtime.StatusExited || st.Status == runtime.StatusCreated {
				c.State = st
				return true
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(delay)
	}
}

// ContainerKillOptions tune ContainerKill.
type ContainerKillOptions struct {
	Signal string // default SIGKILL
}

// ContainerKill sends a signal to a running container.
func (e *Engine) ContainerKill(ctx context.Context, ref string, o ContainerKillOptions) error {
	sig, err := runtime.ParseSignal(firstNonEmpty(o.Signal, "SIGKILL"))
	if err != nil {
		return invalid("invalid signal %q", o.Signal)
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	if !c.Running() {
		return fmt.Errorf("cannot kill container %s: it is not running: %w", c.Name, errdefs.ErrConflict)
	}
	return e.signal(c, sig)
}

// ContainerWait blocks until the container exits and returns its exit code.
func (e *Engine) ContainerWait(ctx context.Context, ref string) (int, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return 0, err
	}
	if c.Running() {
		// The monitor tells its clients the exit code, even of a --rm
		// container whose record is gone right after.
		if code, ok := e.exitFromMonitor(ctx, c); ok {
			return code, nil
		}
		for !e.waitExit(ctx, c, time.Hour) {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
		}
	}
	return c.State.ExitCode, nil
}

// exitFromMonitor connects to the container's attach socket and reads
// frames (ignoring the output) until the monitor reports the exit code. ok
// is false when the monitor cannot be reached or hangs up without it.
func (e *Engine) exitFromMonitor(ctx context.Context, c *Container) (int, bool) {
	a, err := runtime.Dial(e.runDir(c.ID))
	if err != nil {
		return 0, false
	}
	defer a.Close()
	stop := context.AfterFunc(ctx, func() { a.Close() })
	defer stop()
	for {
		kind, payload, err := a.ReadFrame()
		if err != nil {
			return 0, false
		}
		if kind == runtime.FrameExit && len(payload) == 4 {
			return int(int32(binary.BigEndian.Uint32(payload))), true
		}
	}
}

// ContainerRemoveOptions tune ContainerRemove.
type ContainerRemoveOptions struct {
	Force bool // kill a running container first
}

// ContainerRemove deletes a stopped container (a running one with Force):
// record, writable layer, logs, run directory.
func (e *Engine) ContainerRemove(ctx context.Context, ref string, o ContainerRemoveOptions) (string, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return "", err
	}
	if c.Running() {
		if !o.Force {
			return "", fmt.Errorf("cannot remove container %s: it is running: stop it first or use -f: %w", c.Name, errdefs.ErrConflict)
		}
		if err := e.signal(c, unix.SIGKILL); err != nil {
			return "", err
		}
		e.waitExit(ctx, c, 10*time.Second)
	}
	return c.ID, e.removeContainer(c)
}

func (e *Engine) removeContainer(c *Container) error {
	unlock, err := lockContainer(c)
	if err != nil {
		return err
	}
	defer unlock()
	// A start may have won the lock since the caller looked.
	if st, err := runtime.ReadState(c.StatePath()); err == nil && checkLiveness(st).Status == runtime.StatusRunning {
		return fmt.Errorf("cannot remove container %s: it is running (started again meanwhile?): %w", c.Name, errdefs.ErrConflict)
	}
	e.releaseRuntime(c)
	// Deleting the container unmounts its layer first (every count).
	if err := e.store.DeleteContainer(c.ID); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}

// releaseRuntime removes what a run leaves under the run root. A container
// whose monitor was killed may still run: libcontainer's state names its
// init (pid and start time, so a reused pid is never hit), and it is killed.
func (e *Engine) releaseRuntime(c *Container) {
	e.stopOrphan(c)
	os.RemoveAll(e.runDir(c.ID))
	os.RemoveAll(filepath.Join(e.stateRoot(), c.ID))
}

// stopOrphan kills and destroys what a monitor that died without recording
// the exit (kill -9, OOM killer) left running: nobody else would ever stop
// the container's processes, and they would keep its root filesystem busy.
func (e *Engine) stopOrphan(c *Container) {
	lc, err := libcontainer.Load(e.stateRoot(), c.ID)
	if err != nil {
		return // never started, or its monitor destroyed it
	}
	if st, err := lc.Status(); err == nil && st != libcontainer.Stopped {
		lc.Signal(unix.SIGKILL)
		for i := 0; i < 200; i++ {
			if st, err := lc.Status(); err != nil || st == libcontainer.Stopped {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	lc.Destroy()
}

// ContainerCleanup runs after a container exited: it unmounts the root
// filesystem, releases the run directory, and removes --rm containers. The
// monitor runs it as its exit command; a foreground run calls it directly.
func (e *Engine) ContainerCleanup(ctx context.Context, ref string) error {
	c, err := e.lookupContainer(ref)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Running() {
		return nil
	}
	if c.Config.AutoRemove {
		if err := e.removeContainer(c); err != nil {
			return err
		}
		e.removeImageAfter(c)
		return nil
	}
	unlock, err := lockContainer(c)
	if err != nil {
		return err
	}
	defer unlock()
	// The exit command of an earlier run can get here after a restart
	// started the container again: look at the state under the lock.
	if st, err := runtime.ReadState(c.StatePath()); err != nil || checkLiveness(st).Status == runtime.StatusRunning {
		return err
	}
	e.releaseRuntime(c)
	return e.store.Unmount(c.ID, true)
}

// ContainerRename gives a container a new unique name.
func (e *Engine) ContainerRename(ctx context.Context, ref, name string) error {
	if !validName.MatchString(name) {
		return invalid("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	// containers/storage's AddNames takes a name away from the container
	// that has it instead of failing.
	if other, err := e.store.Container(name); err == nil && other.Name == name && other.ID != c.ID {
		return fmt.Errorf("the container name %q is already in use by container %s: %w", name, other.ID[:12], errdefs.ErrConflict)
	}
	if err := e.store.Rename(c.ID, c.Name, name); err != nil {
		return err
	}
	c.Config.Name = name
	meta, err := json.Marshal(c.Config)
	if err != nil {
		return err
	}
	return e.store.SetMetadata(c.ID, string(meta))
}

// ContainerExists reports whether ref names a container.
func (e *Engine) ContainerExists(ctx context.Context, ref string) (bool, error) {
	_, err := e.lookupContainer(ref)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// ContainerPruneResult: the IDs removed and the bytes their writable
// layers held.
type ContainerPruneResult struct {
	Removed        []string
	SpaceReclaimed int64
}

// ContainerPrune removes every stopped container matching the filters, and
// carries on past one it cannot remove (the error then joins them all).
func (e *Engine) ContainerPrune(ctx context.Context, filters []string) (ContainerPruneResult, error) {
	var res ContainerPruneResult
	list, err := e.ContainerList(ctx, ContainerListOptions{All: true, Filters: filters})
	if err != nil {
		return res, err
	}
	var errs []error
	for _, c := range list {
		if c.Running() {
			continue
		}
		rw, _, _ := e.ContainerSizes(c)
		if err := e.removeContainer(c); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		res.Removed = append(res.Removed, c.ID)
		res.SpaceReclaimed += rw
	}
	return res, errors.Join(errs...)
}

// ContainerRestart stops a container (as ContainerStop), releases what the
// run held, and starts it again detached.
func (e *Engine) ContainerRestart(ctx context.Context, ref string, o ContainerStopOptions) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	if c.Config.LogDriver == runtime.LogPassthrough {
		_, err := passthroughFiles(c, nil) // there is no caller's stdio to start it with
		return err
	}
	// The new run's monitor starts up while the old run stops.
	mp, err := e.StartMonitor(c.ID, nil)
	if err != nil {
		return err
	}
	defer mp.Abandon()
	// Stop and start under the container's lock: the exit command of the
	// run being stopped waits for it, then finds the container running
	// again and leaves it alone (a --rm container is not removed by a
	// restart, as in Docker).
	unlock, err := lockContainer(c)
	if err != nil {
		return err
	}
	defer unlock()
	if err := e.stopContainer(ctx, c, o); err != nil {
		return err
	}
	e.releaseRuntime(c)
	if err := e.store.Unmount(c.ID, true); err != nil {
		return err
	}
	_, err = e.launch(c, false, mp)
	return err
}
