package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/runtime"
)

// lockContainer takes the container's cross-process lock. A container
// removed meanwhile is not found.
func lockContainer(c *Container) (func(), error) {
	f, err := os.OpenFile(filepath.Join(c.dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("No such container: %s: %w", c.Name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// lockedState finds a container, takes its lock and reads its row again
// under it (another process may have started, stopped or removed it
// meanwhile).
func (e *Engine) lockedState(ref string) (*Container, func(), error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := lockContainer(c)
	if err != nil {
		return nil, nil, err
	}
	if err := e.reload(c); err != nil {
		unlock()
		return nil, nil, err
	}
	return c, unlock, nil
}

// reload reads c's row again and folds it.
func (e *Engine) reload(c *Container) error {
	err := e.reloadRow(c)
	if err == nil {
		e.fold(c)
	}
	return err
}

// reloadRow reads c's row again, without the fold.
func (e *Engine) reloadRow(c *Container) error {
	r, err := e.db.Container(context.Background(), c.ID)
	if err != nil {
		return err
	}
	*c = *e.parseRow(r)
	return nil
}

// ContainerStopOptions tune ContainerStop.
type ContainerStopOptions struct {
	Timeout int // seconds before SIGKILL; -1: the container's own (default 10)
}

// ContainerStop sends the stop signal, waits, then kills. Stopping a
// container that is not running succeeds, as in Docker. The lock is held
// throughout, so a start or restart cannot interleave.
func (e *Engine) ContainerStop(ctx context.Context, ref string, o ContainerStopOptions) (ContainerStopResult, error) {
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return ContainerStopResult{}, err
	}
	defer unlock()
	notRunning := !c.Running() && c.State.Status != runtime.StatusStarting
	if err := e.stopLocked(ctx, c, o); err != nil {
		return ContainerStopResult{}, err
	}
	e.containerEvent(ctx, c, "stop", nil)
	return ContainerStopResult{ID: c.ID, NotRunning: notRunning}, nil
}

// ContainerStopResult names the container stopped.
type ContainerStopResult struct {
	ID         string
	NotRunning bool // it was not running: nothing done (Docker's API answers 304)
}

// stopLocked stops c, whose lock the caller holds.
func (e *Engine) stopLocked(ctx context.Context, c *Container, o ContainerStopOptions) error {
	if c.State.Status == runtime.StatusStarting && !e.waitStarted(ctx, c) {
		return fmt.Errorf("container %s is still starting: try again: %w", c.Name, errdefs.ErrConflict)
	}
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
	e.requestStop(c)
	before := c.State
	if before.Status == runtime.StatusRestarting {
		// No init to signal: the monitor ends its backoff on the request.
		st := c.State
		st.Status = runtime.StatusStopping
		if err := e.transition(c, st); err != nil {
			return err
		}
		if !e.waitExit(ctx, c, 10*time.Second) {
			return e.restore(c, before, fmt.Errorf("container %s did not stop restarting", c.Name))
		}
		return nil
	}
	if c.State.Status != runtime.StatusStopping {
		st := c.State
		st.Status = runtime.StatusStopping
		if err := e.transition(c, st); err != nil {
			return err
		}
	}
	if timeout > 0 {
		if err := e.signal(c, sig, before.Status == runtime.StatusPaused); err != nil {
			return e.restore(c, before, err)
		}
		if e.waitExit(ctx, c, time.Duration(timeout)*time.Second) {
			return nil
		}
	}
	if err := e.signal(c, unix.SIGKILL, before.Status == runtime.StatusPaused); err != nil {
		return e.restore(c, before, err)
	}
	if !e.waitExit(ctx, c, 10*time.Second) {
		return e.restore(c, before, fmt.Errorf("container %s did not exit after SIGKILL", c.Name))
	}
	return nil
}

// requestStop tells the container's monitor that the user ends this run:
// its restart policy gives up (runtime.StopRequestFile). A monitor that is
// gone has no run directory to write to, and needs no telling.
func (e *Engine) requestStop(c *Container) {
	runtime.RequestStop(e.runDir(c.ID))
}

// restore puts back the status a failed stop found (it changes nothing if
// the container exited meanwhile).
func (e *Engine) restore(c *Container, st runtime.State, err error) error {
	if ok, _ := e.writeState(c.ID, st, runtime.StatusStopping); ok {
		c.State = st
	}
	return err
}

// waitStarted waits, briefly, for a starting container to run or fail.
func (e *Engine) waitStarted(ctx context.Context, c *Container) bool {
	deadline := time.Now().Add(10 * time.Second)
	for delay := time.Millisecond; c.State.Status == runtime.StatusStarting; delay = min(delay*2, 50*time.Millisecond) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(delay)
		if err := e.reload(c); err != nil {
			return false
		}
	}
	return true
}

// signal delivers sig to the container's init. With a private PID
// namespace, SIGKILL to init takes the whole container down. A frozen
// process acts on its signal once thawed: stop, kill and rm -f of a paused
// container thaw it, as Docker does (the monitor's exit record, whenever it
// comes, wins over the status the engine recorded).
func (e *Engine) signal(c *Container, sig unix.Signal, paused bool) error {
	if c.State.Pid <= 0 {
		return fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	err := runtime.Signal(e.stateRoot(), c.ID, sig)
	if errdefs.IsConflict(err) {
		err = nil // it exited meanwhile: its monitor records that
	} else if err != nil {
		err = fmt.Errorf("signalling container %s: %w", c.Name, err)
	} else {
		// Docker logs every signal it delivers, those of stop and rm -f too.
		e.containerEvent(context.Background(), c, "kill", map[string]string{"signal": strconv.Itoa(int(sig))})
	}
	if paused {
		err = errors.Join(err, runtime.Resume(e.stateRoot(), c.ID))
	}
	return err
}

// waitExit polls the container's row until it exited.
func (e *Engine) waitExit(ctx context.Context, c *Container, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		if err := e.reload(c); err != nil {
			return errdefs.IsNotFound(err) // removed: its exit went with it
		}
		if !c.Running() {
			return true
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
func (e *Engine) ContainerKill(ctx context.Context, ref string, o ContainerKillOptions) (ContainerKillResult, error) {
	sig, err := runtime.ParseSignal(firstNonEmpty(o.Signal, "SIGKILL"))
	if err != nil {
		return ContainerKillResult{}, invalid("invalid signal %q", o.Signal)
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerKillResult{}, err
	}
	if !c.Running() {
		return ContainerKillResult{}, fmt.Errorf("cannot kill container %s: it is not running: %w", c.Name, errdefs.ErrConflict)
	}
	e.requestStop(c)
	if c.State.Status == runtime.StatusRestarting {
		return ContainerKillResult{ID: c.ID}, nil // the monitor gives up the restart, as Docker's does
	}
	return ContainerKillResult{ID: c.ID}, e.signal(c, sig, c.State.Status == runtime.StatusPaused)
}

// ContainerKillResult names the container signalled.
type ContainerKillResult struct {
	ID string
}

// exitFromMonitor asks the container's monitor for the exit code; ok is
// false when the monitor cannot be reached or hangs up without it.
func (e *Engine) exitFromMonitor(ctx context.Context, c *Container) (int, bool) {
	a, err := runtime.Dial(e.runDir(c.ID))
	if err != nil {
		return 0, false
	}
	return a.WaitExit(ctx)
}

// ContainerRemoveOptions tune ContainerRemove.
type ContainerRemoveOptions struct {
	Force   bool // kill a running container first
	Volumes bool // Docker's -v: remove its anonymous volumes too
}

// ContainerRemove deletes a stopped container (a running one with Force):
// record, writable layer, logs, run directory.
func (e *Engine) ContainerRemove(ctx context.Context, ref string, o ContainerRemoveOptions) (ContainerRemoveResult, error) {
	id, err := e.containerRemove(ctx, ref, o)
	return ContainerRemoveResult{ID: id}, err
}

// ContainerRemoveResult names the container removed.
type ContainerRemoveResult struct {
	ID string
}

func (e *Engine) containerRemove(ctx context.Context, ref string, o ContainerRemoveOptions) (string, error) {
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return "", err
	}
	defer unlock()
	if c.Running() {
		if !o.Force {
			return "", fmt.Errorf("cannot remove container %s: it is %s: stop it first or use -f: %w", c.Name, c.State.Status, errdefs.ErrConflict)
		}
		if c.State.Status == runtime.StatusStarting {
			e.waitStarted(ctx, c)
		}
		// The monitor records the exit without the lock; its exit command
		// waits for it and then finds the container gone.
		e.requestStop(c)
		if c.State.Pid > 0 && c.State.Status != runtime.StatusRestarting {
			if err := e.signal(c, unix.SIGKILL, c.State.Status == runtime.StatusPaused); err != nil {
				return "", err
			}
		}
		if !e.waitExit(ctx, c, 10*time.Second) {
			return "", fmt.Errorf("cannot remove container %s: it did not exit after SIGKILL: %w", c.Name, errdefs.ErrConflict)
		}
	}
	if err := e.removeLocked(c); err != nil {
		return c.ID, err
	}
	if o.Volumes {
		e.removeAnonymousVolumes(c)
	}
	return c.ID, nil
}

// removeLocked deletes c, whose lock the caller holds and which is not
// running: it is marked removing first, so an interrupted removal shows in
// ps and the next rm finishes it.
func (e *Engine) removeLocked(c *Container) error {
	if c.State.Status != runtime.StatusRemoving { // a clean-up's fold may have recorded it (foldTo)
		st := c.State
		st.Status = runtime.StatusRemoving
		if err := e.transition(c, st); err != nil {
			return err
		}
	}
	e.releaseRuntime(c)
	e.releaseVolumes(c)
	if _, err := e.imageStore(); err != nil {
		return err
	}
	// The record's files go beside the layer: everything but the lock,
	// which we hold (a waiter that gets it next finds the row gone). A
	// container whose layer stays (an error below) is removing, and the
	// next rm finishes it.
	files := make(chan struct{})
	go func() {
		defer close(files)
		entries, _ := os.ReadDir(c.dir)
		for _, ent := range entries {
			if ent.Name() != "lock" {
				os.RemoveAll(filepath.Join(c.dir, ent.Name()))
			}
		}
	}()
	// Deleting the container unmounts its layer first (every count).
	err := e.store.DeleteContainer(c.ID)
	<-files
	if err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	// Spooled events name the container from its row: fold them while
	// there is one.
	e.foldSpool(context.Background())
	// The row goes with its destroy event: one transaction.
	destroy := statedb.Event{Time: time.Now(), Type: EventContainer, Action: "destroy", ActorID: c.ID, Attributes: containerAttrs(c, nil)}
	if err := e.db.DeleteContainer(context.Background(), c.ID, e.eventsMax(), destroy); err != nil {
		return err
	}
	return os.RemoveAll(c.dir)
}

// releaseRuntime removes what a run leaves under the run root. A container
// whose monitor was killed may still run: libcontainer's state names its
// init (pid and start time, so a reused pid is never hit), and it is killed.
func (e *Engine) releaseRuntime(c *Container) {
	e.stopOrphan(c)
	e.releaseNetwork(c)
	os.RemoveAll(e.runDir(c.ID))
	os.RemoveAll(filepath.Join(e.stateRoot(), c.ID))
}

// stopOrphan kills and destroys what a monitor that died without recording
// the exit (kill -9, OOM killer) left running: the container dies with its
// monitor (see runtime.KillOrphan), and its leftovers would keep its root
// filesystem busy.
func (e *Engine) stopOrphan(c *Container) { runtime.KillOrphan(e.stateRoot(), c.ID) }

// ContainerCleanup runs after a container exited: it unmounts the root
// filesystem, releases the run directory, and removes --rm containers. The
// monitor runs it as its exit command; a foreground run calls it directly.
func (e *Engine) ContainerCleanup(ctx context.Context, ref string, o ContainerCleanupOptions) (ContainerCleanupResult, error) {
	e.foldSpool(ctx)
	c, err := e.lookupRow(ref)
	return e.cleanup(c, err)
}

// cleanupRun is ContainerCleanup for the run that created container id:
// the lock is taken by its ID at once, the row read only under it.
func (e *Engine) cleanupRun(ctx context.Context, id, name string) (ContainerCleanupResult, error) {
	e.foldSpool(ctx)
	return e.cleanup(&Container{ID: id, Name: name, dir: e.containerDir(id), run: e.runDir(id)}, e.openDB())
}

// cleanup is ContainerCleanup of c (found with err).
func (e *Engine) cleanup(c *Container, err error) (ContainerCleanupResult, error) {
	// The row as recorded, folded only under the lock: a --rm
	// container's exit is recorded there as its removing (foldTo).
	var unlock func()
	if err == nil {
		if unlock, err = lockContainer(c); err == nil {
			if err = e.reloadRow(c); err != nil {
				unlock()
			}
		}
	}
	if errdefs.IsNotFound(err) {
		return ContainerCleanupResult{}, nil
	}
	if err != nil {
		return ContainerCleanupResult{}, err
	}
	defer unlock()
	e.foldTo(c, c.Config.AutoRemove)
	// The exit command of an earlier run can get here after a restart
	// started the container again: the state under the lock decides.
	if c.Running() {
		return ContainerCleanupResult{}, nil
	}
	if c.Config.AutoRemove {
		if err := e.removeLocked(c); err != nil {
			return ContainerCleanupResult{}, err
		}
		e.removeAnonymousVolumes(c)
		e.removeImageAfter(c)
		return ContainerCleanupResult{Removed: true}, nil
	}
	e.releaseRuntime(c)
	e.releaseVolumes(c)
	if _, err := e.imageStore(); err != nil {
		return ContainerCleanupResult{}, err
	}
	return ContainerCleanupResult{}, e.store.Unmount(c.ID, true)
}

// ContainerCleanupOptions tune ContainerCleanup (none yet).
type ContainerCleanupOptions struct{}

// ContainerCleanupResult reports what the clean-up did.
type ContainerCleanupResult struct {
	Removed bool // an AutoRemove container was removed
}

// ContainerRename gives a container a new unique name: the database's
// constraint decides between concurrent renames and creates.
func (e *Engine) ContainerRename(ctx context.Context, ref string, o ContainerRenameOptions) (ContainerRenameResult, error) {
	name := strings.TrimPrefix(o.Name, "/")
	if !validName(name, 2) {
		return ContainerRenameResult{}, invalid("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerRenameResult{}, err
	}
	if c.Name == name {
		return ContainerRenameResult{}, invalid("renaming container %s to the name it already has", name)
	}
	e.foldSpool(ctx) // spooled events of the old name keep it
	if err := e.db.RenameContainer(ctx, c.ID, name); err != nil {
		return ContainerRenameResult{}, err
	}
	old := c.Name
	c.Name = name
	e.containerEvent(ctx, c, "rename", map[string]string{"oldName": old})
	return ContainerRenameResult{ID: c.ID}, nil
}

// ContainerRenameOptions give the new name.
type ContainerRenameOptions struct {
	Name string
}

// ContainerRenameResult names the container renamed.
type ContainerRenameResult struct {
	ID string
}

// ContainerExists reports whether ref names a container.
func (e *Engine) ContainerExists(ctx context.Context, ref string, o ContainerExistsOptions) (ContainerExistsResult, error) {
	_, err := e.lookupContainer(ref)
	if errdefs.IsNotFound(err) {
		return ContainerExistsResult{}, nil
	}
	return ContainerExistsResult{Exists: err == nil}, err
}

// ContainerExistsOptions tune ContainerExists (none yet).
type ContainerExistsOptions struct{}

// ContainerExistsResult says whether the container exists.
type ContainerExistsResult struct {
	Exists bool
}

// ContainerPruneOptions: Docker's filters ("key=value").
type ContainerPruneOptions struct {
	Filters []string
}

// ContainerPruneResult: the IDs removed and the bytes their writable
// layers held.
type ContainerPruneResult struct {
	Removed        []string
	SpaceReclaimed int64
}

// ContainerPrune removes every stopped container matching the filters, and
// carries on past one it cannot remove (the error then joins them all).
func (e *Engine) ContainerPrune(ctx context.Context, o ContainerPruneOptions) (ContainerPruneResult, error) {
	var res ContainerPruneResult
	list, err := e.listMatching(ContainerListOptions{All: true, Filters: o.Filters}, containerPruneSpec(time.Now()))
	if err != nil {
		return res, err
	}
	var errs []error
	for _, c := range list {
		if c.Running() {
			continue
		}
		rw, _, _ := e.containerSizes(c)
		if _, err := e.containerRemove(ctx, c.ID, ContainerRemoveOptions{}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		res.Removed = append(res.Removed, c.ID)
		res.SpaceReclaimed += rw
	}
	e.pruneEvent(ctx, EventContainer, res.SpaceReclaimed)
	return res, errors.Join(errs...)
}

// ContainerRestart stops a container (as ContainerStop), releases what the
// run held, and starts it again detached, all under the container's lock:
// the exit command of the run being stopped waits for it, then finds the
// container running again and leaves it alone (a --rm container is not
// removed by a restart, as in Docker).
func (e *Engine) ContainerRestart(ctx context.Context, ref string, o ContainerRestartOptions) (ContainerRestartResult, error) {
	return ContainerRestartResult{}, e.restart(ctx, ref, ContainerStopOptions(o))
}

// ContainerRestartOptions tune ContainerRestart: the stop's timeout.
type ContainerRestartOptions struct {
	Timeout int // seconds before SIGKILL; -1: the container's own
}

// ContainerRestartResult reports a restart (nothing yet).
type ContainerRestartResult struct{}

func (e *Engine) restart(ctx context.Context, ref string, o ContainerStopOptions) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	if c.Config.LogDriver == runtime.LogPassthrough {
		_, err := passthroughFiles(c.Name, nil) // there is no caller's stdio to start it with
		return err
	}
	// The new run's monitor starts up while the old run stops.
	mp, err := e.StartMonitor(c.ID, c.monitorNetwork(), nil)
	if err != nil {
		return err
	}
	defer mp.Abandon()
	if _, err := e.imageStore(); err != nil {
		return err
	}
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return err
	}
	defer unlock()
	wasRunning := c.Running()
	if err := e.stopLocked(ctx, c, o); err != nil {
		return err
	}
	if wasRunning {
		e.containerEvent(ctx, c, "stop", nil)
	}
	e.releaseRuntime(c)
	if err := e.store.Unmount(c.ID, true); err != nil {
		return err
	}
	if _, err = e.startLocked(c, false, mp, "", nil); err != nil {
		return err
	}
	e.containerEvent(ctx, c, "restart", nil)
	return nil
}
