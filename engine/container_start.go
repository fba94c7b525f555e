package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// ContainerStartOptions choose between a detached start and a foreground
// one that streams the container's stdio until it exits.
type ContainerStartOptions struct {
	Attach *AttachIO // nil: detached
	// Monitor, when set, is a monitor the caller started ahead (see
	// StartMonitor); the start uses it or, when it has no use for it,
	// abandons it. nil: the start forks one itself.
	Monitor *MonitorProc
	// NotifySocket is systemd's NOTIFY_SOCKET for this start (the caller's
	// environment; "" for none): see ContainerCreateOptions.SdNotify.
	NotifySocket string
	// pending are events to record in the transaction that records the
	// container starting (a run's create), or by themselves if the start
	// gets no further.
	pending []statedb.Event
}

// AttachIO connects a caller's stdio to a container: runtime's attach
// streams (its Starting is the engine's to set).
type AttachIO = runtime.Streams

// ContainerStartResult reports how a foreground start ended.
type ContainerStartResult struct {
	ExitCode       int
	Detached       bool // the user typed the detach keys
	AlreadyRunning bool // nothing started (Docker's API answers 304)
}

// ContainerStart starts a created or exited container. With Attach it waits
// for the container to exit (or the detach keys) and returns its exit code.
func (e *Engine) ContainerStart(ctx context.Context, ref string, o ContainerStartOptions) (ContainerStartResult, error) {
	mp := o.Monitor
	defer mp.Abandon()                             // a no-op once used
	defer func() { e.record(ctx, o.pending...) }() // those startLocked did not take
	// Another start may have won the lock: decide on the state it left.
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return ContainerStartResult{}, err
	}
	e.awaitTeardown(ctx, c)
	if c.Running() {
		unlock()
		e.record(ctx, o.pending...) // now, not after the attach below
		o.pending = nil
		if o.Attach == nil {
			return ContainerStartResult{AlreadyRunning: true}, nil // docker: starting a running container is a no-op
		}
		if o.Attach.Started != nil {
			o.Attach.Started() // another start won: it runs
		}
		return e.attach(ctx, c, o.Attach)
	}
	var stdio []*os.File
	aio := o.Attach
	if c.Config.LogDriver == runtime.LogPassthrough {
		if stdio, err = passthroughFiles(c.Name, aio); err != nil {
			unlock()
			return ContainerStartResult{}, err
		}
		// The container reads and writes the caller's stdio itself: the
		// attach connection carries only the exit code (and resizes).
		stream := *aio
		stream.Stdin, stream.Stdout, stream.Stderr = nil, io.Discard, io.Discard
		aio = &stream
	}
	if mp == nil || mp.ID != c.ID {
		// Fork it now: its start-up overlaps the mount and the spec.
		if mp, err = e.StartMonitor(c.ID, c.monitorNetwork(), stdio); err != nil {
			unlock()
			return ContainerStartResult{}, err
		}
		defer mp.Abandon()
	}
	// A foreground start releases the lock once the container is recorded
	// starting and the monitor waits for its attach: a concurrent start
	// then sees a starting container (running, to it) and leaves it alone.
	conn, err := e.startLocked(c, o.Attach != nil, mp, o.NotifySocket, &o.pending)
	unlock()
	if err != nil {
		return ContainerStartResult{}, err
	}
	if conn == nil {
		return ContainerStartResult{}, nil
	}
	e.checkpointAside() // while the container runs
	return stream(ctx, c, conn, aio, true)
}

// passthroughFiles are the caller's stdin, stdout and stderr, which the
// passthrough log driver hands to the container: only a foreground start
// from a process with real files has them.
func passthroughFiles(name string, aio *AttachIO) ([]*os.File, error) {
	if aio == nil {
		return nil, fmt.Errorf("container %s uses the passthrough log driver, which needs a foreground run (no -d) or start -a: %w", name, errdefs.ErrInvalidArgument)
	}
	out, ok1 := aio.Stdout.(*os.File)
	errf, ok2 := aio.Stderr.(*os.File)
	in, ok3 := aio.Stdin.(*os.File)
	if aio.Stdin == nil {
		in, ok3 = out, true // fills the slot: the monitor reads it only with -i
	}
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("container %s uses the passthrough log driver, which needs the caller's own stdio files: %w", name, errdefs.ErrInvalidArgument)
	}
	return []*os.File{in, out, errf}, nil
}

// runDir is the container's directory under the run root.
func (e *Engine) runDir(id string) string { return filepath.Join(e.paths.RunRoot, "c", id) }

// specPath is the OCI spec of a running container: its bundle's
// config.json, which each start writes into the run directory. A
// container started by a build that wrote it into the container directory
// has it there.
func (e *Engine) specPath(c *Container) string {
	p := filepath.Join(e.runDir(c.ID), "config.json")
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return filepath.Join(c.dir, "config.json")
	}
	return p
}

// eventSpool is where monitors record their events (runtime.WriteSpoolEvent).
func (e *Engine) eventSpool() string { return filepath.Join(e.paths.RunRoot, "events") }

func (e *Engine) stateRoot() string { return filepath.Join(e.paths.RunRoot, "runc") }

// startLocked records c starting with its monitor mp, and launches it; c's
// lock is held. The events in *pending (pending may be nil) are recorded
// with the starting state, and *pending emptied, when that is recorded. A
// start that fails before the monitor took over restores the status it
// found, with the error; one that the monitor failed is recorded by the
// monitor (exited, 125/126/127).
func (e *Engine) startLocked(c *Container, wait bool, mp *MonitorProc, notify string, pending *[]statedb.Event) (*runtime.AttachConn, error) {
	if _, err := e.imageStore(); err != nil {
		return nil, err
	}
	before := c.State
	st := runtime.State{Status: runtime.StatusStarting, MonitorPid: mp.Pid, MonitorStart: mp.Start}
	var evs []statedb.Event
	if pending != nil {
		evs = *pending
	}
	if err := e.transitionEvents(c, st, evs); err != nil {
		return nil, err
	}
	if pending != nil {
		*pending = nil
	}
	conn, handedOver, err := e.launch(c, wait, mp, notify)
	if err != nil && !handedOver {
		before.Error = err.Error()
		e.writeState(c.ID, before, runtime.StatusStarting)
	}
	if err == nil {
		// One transaction, before the reload below, whose fold may find
		// the exit (die).
		var evs []statedb.Event
		for _, ep := range c.Config.Network.Endpoints {
			if n, err := e.lookupNetwork(context.Background(), ep.ref()); err == nil {
				evs = append(evs, networkEventRow(n, "connect", c.ID))
			}
		}
		if wait {
			evs = append(evs, containerEventRow(c, "attach", nil))
		}
		e.record(context.Background(), append(evs, containerEventRow(c, "start", nil))...)
	}
	if err == nil && !wait {
		// "started": record it now rather than in the next reader's fold.
		e.reload(c)
	}
	return conn, err
}

// launch mounts the root filesystem, writes the spec and the monitor's
// config, and starts the monitor. handedOver reports that the monitor got
// its config (from then on it records the outcome). With wait it returns the attach
// connection the monitor waits for before starting the container. notify
// is systemd's NOTIFY_SOCKET, or "".
func (e *Engine) launch(c *Container, wait bool, mp *MonitorProc, notify string) (conn *runtime.AttachConn, handedOver bool, err error) {
	e.stopOrphan(c) // what a killed monitor left running would make the start fail
	rootfs, err := e.store.Mount(c.ID)
	if errdefs.IsNotFound(err) {
		return nil, false, fmt.Errorf("container %s has no root filesystem (its creation was interrupted): remove it with skiff rm: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	if err != nil {
		return nil, false, err
	}
	if err := e.prepareVolumes(context.Background(), c, rootfs); err != nil {
		e.releaseVolumes(c)
		e.store.Unmount(c.ID, false)
		return nil, false, fmt.Errorf("container %s: %w", c.Name, err)
	}
	if c.Config.AutoRemove { // its files live in its run directory (Container.bootDir)
		err := os.MkdirAll(c.bootDir(), 0o700)
		if err == nil {
			err = writeContainerFiles(c.bootDir(), &c.Config)
		}
		if err != nil {
			os.RemoveAll(e.runDir(c.ID)) // nothing of a run that never began is left
			e.releaseVolumes(c)
			e.store.Unmount(c.ID, false)
			return nil, false, err
		}
	}
	opts := c.Config.Spec
	opts.Rootfs = rootfs
	opts.HostsFile, opts.HostnameFile, opts.ResolvConfFile = c.HostsFile(), c.HostnameFile(), c.ResolvConfFile()
	network, err := e.startNetwork(c, &opts)
	if err != nil {
		e.releaseVolumes(c)
		e.store.Unmount(c.ID, false)
		return nil, false, err
	}
	fail := func(err error) (*runtime.AttachConn, bool, error) {
		if !handedOver {
			e.releaseNetwork(c)
			e.releaseVolumes(c)
		}
		e.store.Unmount(c.ID, false)
		os.RemoveAll(e.runDir(c.ID))
		return nil, handedOver, err
	}
	mc := e.monitorConfig(c, wait)
	if network != nil {
		if mc.Network, err = json.Marshal(network); err != nil {
			return fail(err)
		}
	}
	if err := e.applyNotify(c, notify, &opts, &mc); err != nil {
		return fail(err)
	}
	spec, err := runtime.GenerateSpec(opts)
	if err != nil {
		return fail(fmt.Errorf("container %s: %w", c.Name, err))
	}
	if err := os.MkdirAll(mc.RunDir, 0o700); err != nil {
		return fail(err)
	}
	if err := writeJSONFile(filepath.Join(mc.RunDir, "config.json"), spec); err != nil {
		return fail(err)
	}
	if err := writeJSONFile(filepath.Join(mc.RunDir, "monitor.json"), mc); err != nil {
		return fail(err)
	}
	os.Remove(filepath.Join(mc.RunDir, runtime.StopRequestFile))   // the last run's, if its clean-up has not run yet
	os.Remove(filepath.Join(mc.RunDir, runtime.RestartPolicyFile)) // the last run's update: monitor.json has the record's
	// A fresh log per start, rotated files included, so logs never mixes runs.
	if old, _ := filepath.Glob(c.LogPath() + "*"); len(old) > 0 {
		for _, f := range old {
			os.Remove(f)
		}
	}
	err = mp.Go(mc)
	handedOver = true
	if err != nil {
		if !wait {
			return nil, true, startError(c, err) // the monitor cleans up
		}
		return fail(startError(c, err))
	}
	if !wait {
		return nil, true, nil
	}
	conn, err = runtime.DialWait(mc.RunDir)
	if err != nil {
		return fail(fmt.Errorf("container %s: connecting to its monitor: %w", c.Name, err))
	}
	return conn, true, nil
}

func (e *Engine) monitorConfig(c *Container, wait bool) runtime.MonitorConfig {
	self := e.opts.SkiffBinary
	if self == "" {
		self, _ = os.Executable()
	}
	// The exit command opens the same store with the same settings.
	exit := []string{self, "--root", e.paths.GraphRoot, "--runroot", e.paths.RunRoot}
	if d := e.store.Driver(); d != "" {
		exit = append(exit, "--storage-driver", d)
	}
	if e.opts.ConfigPath != "" {
		exit = append(exit, "--config", e.opts.ConfigPath)
	}
	for _, o := range e.opts.StorageOpts {
		exit = append(exit, "--storage-opt", o)
	}
	exit = append(exit, "container", "cleanup", c.ID)
	return runtime.MonitorConfig{
		ID: c.ID, Bundle: e.runDir(c.ID), StateRoot: e.stateRoot(), RunDir: e.runDir(c.ID), StatePath: c.StatePath(),
		LogDriver: c.Config.LogDriver, LogPath: c.LogPath(), LogMaxSize: c.Config.LogMaxSize, LogMaxFiles: c.Config.LogMaxFiles,
		Terminal: c.Config.Tty, Stdin: c.Config.OpenStdin, WaitAttach: wait, Rootless: e.paths.Rootless, Volatile: c.Config.AutoRemove,
		StopSignal: c.Config.StopSignal, StopTimeout: &c.Config.StopTimeout, Timeout: c.Config.RunTimeout,
		ExitCommand: exit, EventSpool: e.eventSpool(), RestartPolicy: c.Config.RestartPolicy,
		Healthcheck: c.activeHealthcheck(), HealthOnFailure: c.Config.HealthOnFailure,
	}
}

// MonitorProc is a skiff-monitor forked ahead of need (see StartMonitor).
type MonitorProc = runtime.MonitorProcess

// StartMonitor forks the monitor of container id (which may not exist yet:
// see ContainerCreateOptions.ID) for a ContainerStart to come, so that its
// start-up overlaps create. network says whether the container will have
// a network for the monitor to set up (see runtime.ForkMonitor). stdio are
// the caller's stdin, stdout and stderr for the passthrough log driver
// (nil otherwise). One that is never handed to a start must be abandoned.
func (e *Engine) StartMonitor(id string, network bool, stdio []*os.File) (*MonitorProc, error) {
	return runtime.ForkMonitor(id, e.runDir(id), network, stdio)
}

// startError names the container in a failed start, keeping its code.
// The monitor's message is text: the kind's word its %w appended ("...:
// conflict") is dropped, as the CLI drops it from the engine's own errors.
func startError(c *Container, err error) error {
	var se *runtime.StartError
	if errors.As(err, &se) {
		msg := se.Message
		for _, k := range Kinds {
			if t, ok := strings.CutSuffix(msg, ": "+k.Word); ok {
				msg = t
				break
			}
		}
		return &ExitError{Code: se.Code, Err: fmt.Errorf("container %s: %s", c.Name, msg)}
	}
	return err
}

// ExitError is a container's exit status, or Docker's 126/127 for a command
// that could not be run.
type ExitError struct {
	Code int
	Err  error // nil: the container ran and exited with Code
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "exit status " + strconv.Itoa(e.Code)
}

// ExitCode makes the CLI exit with the container's code.
func (e *ExitError) ExitCode() int { return e.Code }

func writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return runtime.WriteFileAtomic(path, b, 0o600, false)
}

// teardownWait bounds awaitTeardown: a monitor tears a run down in
// milliseconds (its network, libcontainer's state).
const teardownWait = 10 * time.Second

// awaitTeardown waits, for a container whose init has exited while its
// monitor still tears the run down (it records the exit last), until the
// exit is recorded: a start right after a kill then starts the container
// again instead of finding it running.
func (e *Engine) awaitTeardown(ctx context.Context, c *Container) {
	if c.State.Status != runtime.StatusRunning || c.State.Pid <= 0 || unix.Kill(c.State.Pid, 0) != unix.ESRCH {
		return
	}
	// A monitor that restarts it (restarting, then running again) ends the wait.
	for deadline := time.Now().Add(teardownWait); c.State.Status == runtime.StatusRunning && c.Running() && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(5 * time.Millisecond)
		if e.reload(c) != nil {
			return
		}
	}
}
