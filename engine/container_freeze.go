package engine

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// Pausing freezes the container's cgroup. The paused status is recorded in
// State by the engine, under the container's lock (so pause, unpause and
// restart do not interleave). The monitor writes State, without that lock,
// only when the container starts and when it exits, so each engine write
// is ordered to come before anything that could let the container exit:
// pause freezes first and then records "paused" (a frozen process does not
// exit; if it exited before the freeze, the freeze fails and nothing is
// written); unpause and a signal to a paused container record "running"
// first and then signal or thaw. The one window left is a fatal signal from
// outside skiff between freeze and record on cgroup v2 (where it kills a
// frozen process): the record then says paused for a dead container, which
// reads as exited (code 255) once its monitor is gone.

// ContainerPause freezes every process of a running container.
func (e *Engine) ContainerPause(ctx context.Context, ref string) error {
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return err
	}
	defer unlock()
	switch c.State.Status {
	case runtime.StatusPaused:
		return fmt.Errorf("container %s is already paused: %w", c.Name, errdefs.ErrConflict)
	case runtime.StatusRunning:
	default:
		return fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	if err := runtime.Pause(e.stateRoot(), c.ID, e.paths.Rootless); err != nil {
		return err
	}
	st := c.State
	st.Status = runtime.StatusPaused
	if err := runtime.WriteState(c.StatePath(), st, false); err != nil {
		runtime.Resume(e.stateRoot(), c.ID)
		return err
	}
	return nil
}

// ContainerUnpause thaws a paused container.
func (e *Engine) ContainerUnpause(ctx context.Context, ref string) error {
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return err
	}
	defer unlock()
	if c.State.Status != runtime.StatusPaused {
		return fmt.Errorf("container %s is not paused: %w", c.Name, errdefs.ErrConflict)
	}
	if err := e.recordRunning(c); err != nil {
		return err
	}
	return e.resume(c)
}

// recordRunning writes a paused container's State as running, before it is
// thawed or signalled (see the ordering above).
func (e *Engine) recordRunning(c *Container) error {
	st := c.State
	st.Status = runtime.StatusRunning
	if err := runtime.WriteState(c.StatePath(), st, false); err != nil {
		return err
	}
	c.State = st
	return nil
}

// resume thaws a container that recordRunning recorded, and records it
// paused again if it stays frozen. A container that died meanwhile is not
// frozen (runtime.Resume succeeds), so this never overwrites its exit.
func (e *Engine) resume(c *Container) error {
	if err := runtime.Resume(e.stateRoot(), c.ID); err != nil {
		c.State.Status = runtime.StatusPaused
		runtime.WriteState(c.StatePath(), c.State, false)
		return err
	}
	return nil
}
