package engine

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// Pausing freezes the container's cgroup. The paused status is recorded in
// State by the engine, under the container's lock: the monitor writes State
// only when the container starts and when it exits, and a frozen container
// cannot exit, so the two never write at the same time. Unpause records
// "running" before it thaws, for the same reason.

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
		runtime.Resume(e.stateRoot(), c.ID, e.paths.Rootless)
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
	return e.thaw(c)
}

// thaw records a paused container running again and resumes it.
func (e *Engine) thaw(c *Container) error {
	st := c.State
	st.Status = runtime.StatusRunning
	if err := runtime.WriteState(c.StatePath(), st, false); err != nil {
		return err
	}
	if err := runtime.Resume(e.stateRoot(), c.ID, e.paths.Rootless); err != nil {
		runtime.WriteState(c.StatePath(), c.State, false)
		return err
	}
	c.State = st
	return nil
}

// lockedState finds a container, takes its lock and reads its state under
// it.
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
