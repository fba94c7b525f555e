package engine

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/runtime"
)

// ContainerRunOptions are `run`: a create, then a start that is detached or
// attached to IO until the container exits.
type ContainerRunOptions struct {
	Create ContainerCreateOptions
	Detach bool
	// IO is the foreground run's streams (ignored with Detach). Its
	// CleanupOwner is set by ContainerRun, which cleans up itself.
	IO AttachIO
	// Signals are forwarded to the container while a foreground run
	// waits (the CLI's --sig-proxy); nil forwards nothing.
	Signals <-chan unix.Signal
	// Created, when set, is called once the container exists, before it
	// starts: the CLI writes its --cidfile there, and a foreground run's
	// terminal goes raw only after the pull's progress is printed (io is
	// the foreground run's streams, nil when detached). An error removes
	// the container and ends the run.
	Created func(id string, io *AttachIO) error
	// NotifySocket is systemd's NOTIFY_SOCKET for the start ("": none).
	NotifySocket string
}

// ContainerRunResult is the new container and, for a foreground run, how
// it ended.
type ContainerRunResult struct {
	ID       string
	Name     string
	Warnings []string
	ExitCode int
	Detached bool // the user typed the detach keys
}

// ContainerRun creates and starts a container. Detached, it returns once
// the container runs; a start that fails leaves the container (Created, or
// Exited with 126/127) as Docker does, unless AutoRemove. In the
// foreground it streams IO until the container exits, then cleans up (and
// removes it with AutoRemove) and returns its exit code.
func (e *Engine) ContainerRun(ctx context.Context, o ContainerRunOptions) (ContainerRunResult, error) {
	if o.Create.ID == "" {
		o.Create.ID = NewContainerID()
	}
	var stdio []*os.File
	if o.Create.LogConfig.Type == runtime.LogPassthrough {
		if o.Detach {
			return ContainerRunResult{}, invalid("the passthrough log driver hands the container the caller's stdio, which a detached run gives up: choose another log driver")
		}
		var err error
		if stdio, err = passthroughFiles(o.Create.Name, &o.IO); err != nil {
			return ContainerRunResult{}, err
		}
	}
	// A run whose fixed host port is taken fails before anything exists.
	if err := e.checkHostPorts(o.Create.PortBindings); err != nil {
		return ContainerRunResult{}, err
	}
	// The monitor starts up while the container is created. It is forked
	// before the create's prefetch (containerCreate) starts goroutines,
	// which could hold both CPUs when the fork, which waits for the
	// monitor's exec, returns: 3 to 5% quicker rootless runs in ABBA
	// rounds (docs/performance.md, 2026-12-07 14:06Z).
	mp, err := e.StartMonitor(o.Create.ID, e.createMonitorNetwork(o.Create), stdio)
	if err != nil {
		return ContainerRunResult{}, err
	}
	defer mp.Abandon()
	// The create event goes with the start's first state (pending).
	created, createEvent, err := e.containerCreate(ctx, o.Create)
	if err != nil {
		return ContainerRunResult{}, err
	}
	pending := []statedb.Event{createEvent}
	res := ContainerRunResult{ID: created.ID, Name: created.Name, Warnings: created.Warnings}
	aio := o.IO
	aio.CleanupOwner = true
	if o.Created != nil {
		io := &aio
		if o.Detach {
			io = nil
		}
		if err := o.Created(created.ID, io); err != nil {
			e.record(ctx, pending...)
			e.ContainerRemove(context.WithoutCancel(ctx), created.ID, ContainerRemoveOptions{Force: true})
			return ContainerRunResult{}, err
		}
	}
	cleanup := func() error {
		_, err := e.cleanupRun(context.WithoutCancel(ctx), created.ID, created.Name)
		return err
	}
	if o.Detach {
		if _, err := e.ContainerStart(ctx, created.ID, ContainerStartOptions{Monitor: mp, NotifySocket: o.NotifySocket, pending: pending}); err != nil {
			cleanup()
			return res, err
		}
		return res, nil
	}
	if o.Signals != nil {
		done := make(chan struct{})
		defer close(done)
		go e.forwardSignals(created.ID, o.Signals, done)
	}
	started, err := e.ContainerStart(ctx, created.ID, ContainerStartOptions{Attach: &aio, Monitor: mp, NotifySocket: o.NotifySocket, pending: pending})
	if started.Detached {
		res.Detached = true
		return res, nil
	}
	if cerr := cleanup(); cerr != nil && err == nil {
		err = cerr
	}
	res.ExitCode = started.ExitCode
	return res, err
}

// forwardSignals passes signals on to container id until done.
func (e *Engine) forwardSignals(id string, sigs <-chan unix.Signal, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case sig, ok := <-sigs:
			if !ok {
				return
			}
			if c, err := e.lookupContainer(id); err == nil && c.Running() {
				e.signal(c, sig, c.State.Status == runtime.StatusPaused)
			}
		}
	}
}

// ContainerAttachOptions are attach's streams.
type ContainerAttachOptions struct {
	IO AttachIO
}

// ContainerAttachResult is how an attachment ended.
type ContainerAttachResult struct {
	ExitCode int
	Detached bool
}

// ContainerAttach connects IO to a running container until it exits or
// the detach keys; it never starts anything. Input is sent only to a
// container created with an open stdin.
func (e *Engine) ContainerAttach(ctx context.Context, ref string, o ContainerAttachOptions) (ContainerAttachResult, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerAttachResult{}, err
	}
	if c.State.Status == runtime.StatusStarting {
		e.waitStarted(ctx, c)
	}
	if !c.Running() {
		return ContainerAttachResult{}, fmt.Errorf("you cannot attach to a stopped container %s: start it first: %w", c.Name, errdefs.ErrConflict)
	}
	if c.State.Status == runtime.StatusPaused {
		return ContainerAttachResult{}, fmt.Errorf("you cannot attach to a paused container %s: unpause it first: %w", c.Name, errdefs.ErrConflict)
	}
	aio := o.IO
	aio.CleanupOwner = false // the monitor's exit command cleans up
	if !c.Config.OpenStdin {
		aio.Stdin = nil
	}
	e.containerEvent(ctx, c, "attach", nil)
	res, err := e.attach(ctx, c, &aio)
	return ContainerAttachResult{ExitCode: res.ExitCode, Detached: res.Detached}, err
}

// Docker's wait conditions.
const (
	WaitNotRunning = "not-running" // the container is not running (now, or once it exits)
	WaitNextExit   = "next-exit"   // the next exit, even of a container not running now
	WaitRemoved    = "removed"     // the container is removed
)

// ContainerWaitOptions choose what to wait for.
type ContainerWaitOptions struct {
	Condition string // "" is WaitNotRunning
	// Ready, when set, is called once the container is found and the wait
	// set up: an exit from then on ends it (the API flushes its 200 there,
	// and the docker CLI starts the container only after that).
	Ready func()
}

// ContainerWaitResult is the exit code the wait ended with.
type ContainerWaitResult struct {
	ExitCode int
}

// ContainerWait blocks until the condition holds and returns the exit code
// of the container's last run. A running container's monitor tells the code
// as it exits; a container removed meanwhile (--rm) has its code from the
// die event its exit recorded.
func (e *Engine) ContainerWait(ctx context.Context, ref string, o ContainerWaitOptions) (ContainerWaitResult, error) {
	cond := firstNonEmpty(o.Condition, WaitNotRunning)
	switch cond {
	case WaitNotRunning, WaitNextExit, WaitRemoved:
	default:
		return ContainerWaitResult{}, invalid("invalid wait condition %q: use not-running, next-exit or removed", o.Condition)
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerWaitResult{}, err
	}
	seq, err := e.db.LastEventSeq(ctx) // the exits after it are this wait's
	if err != nil {
		return ContainerWaitResult{}, err
	}
	if o.Ready != nil {
		o.Ready()
	}
	code, err := e.awaitExitCode(ctx, c, cond)
	if cond == WaitRemoved && err == nil {
		err = e.poll(ctx, c, func() bool { return false })
	}
	if errdefs.IsNotFound(err) && (cond != WaitNotRunning || c.Running()) {
		// Removed: its last exit, if it exited during the wait.
		if n, ok := e.exitSince(ctx, c.ID, seq); ok {
			code = n
		}
		err = nil
	}
	if err != nil {
		return ContainerWaitResult{}, err
	}
	return ContainerWaitResult{ExitCode: code}, nil
}

// awaitExitCode waits until c is not running, after a next run first with
// WaitNextExit, and returns its exit code.
func (e *Engine) awaitExitCode(ctx context.Context, c *Container, cond string) (int, error) {
	if cond != WaitNotRunning && !c.Running() {
		// Wait for a run that starts after this call.
		last := c.State.StartedAt
		if err := e.poll(ctx, c, func() bool { return c.Running() || !c.State.StartedAt.Equal(last) }); err != nil {
			return c.State.ExitCode, err
		}
	}
	if !c.Running() {
		return c.State.ExitCode, nil
	}
	// A foreground start's monitor takes its first client as the start's
	// own: dial only once it runs.
	if c.State.Status == runtime.StatusStarting && !e.waitStarted(ctx, c) {
		if err := e.reload(c); err != nil {
			return 0, err
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	if !c.Running() {
		return c.State.ExitCode, nil
	}
	if code, ok := e.exitFromMonitor(ctx, c); ok {
		return code, nil
	}
	err := e.poll(ctx, c, func() bool { return !c.Running() })
	return c.State.ExitCode, err
}

// exitSince is the exit code of container id's last die event after seq.
func (e *Engine) exitSince(ctx context.Context, id string, seq int64) (code int, ok bool) {
	e.db.Events(ctx, statedb.EventQuery{AfterSeq: seq}, func(ev statedb.Event) error {
		if ev.Type == EventContainer && ev.Action == "die" && ev.ActorID == id {
			if n, err := strconv.Atoi(ev.Attributes["exitCode"]); err == nil {
				code, ok = n, true
			}
		}
		return nil
	})
	return code, ok
}

// poll re-reads c until done holds, ctx ends, or c is removed (NotFound).
func (e *Engine) poll(ctx context.Context, c *Container, done func() bool) error {
	for delay := time.Millisecond; ; delay = min(delay*2, 50*time.Millisecond) {
		if err := e.reload(c); err != nil {
			return err
		}
		if done() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}
