package engine

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// Pausing freezes the container's cgroup. The paused status is the
// engine's, recorded in the state database under the container's lock (so
// pause, unpause, stop and restart do not interleave). The monitor records
// only the start and the exit, in its own file; an exit it records wins over
// whatever the engine recorded (see fold), so the order of a freeze and its
// record does not matter: pause freezes first and then records paused (if
// the container exited before the freeze, the freeze fails); unpause thaws
// and then records running.

// ContainerPauseOptions tune ContainerPause and ContainerUnpause (none yet).
type ContainerPauseOptions struct{}

// ContainerPauseResult names the container paused or unpaused.
type ContainerPauseResult struct {
	ID string
}

// ContainerPause freezes every process of a running container.
func (e *Engine) ContainerPause(ctx context.Context, ref string, o ContainerPauseOptions) (ContainerPauseResult, error) {
	id, err := e.pause(ref)
	return ContainerPauseResult{ID: id}, err
}

// ContainerUnpause thaws a paused container.
func (e *Engine) ContainerUnpause(ctx context.Context, ref string, o ContainerPauseOptions) (ContainerPauseResult, error) {
	id, err := e.unpause(ref)
	return ContainerPauseResult{ID: id}, err
}

func (e *Engine) pause(ref string) (string, error) {
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return "", err
	}
	defer unlock()
	switch c.State.Status {
	case runtime.StatusPaused:
		return "", fmt.Errorf("container %s is already paused: %w", c.Name, errdefs.ErrConflict)
	case runtime.StatusRunning:
	default:
		return "", fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	if err := runtime.Pause(e.stateRoot(), c.ID, e.paths.Rootless); err != nil {
		return "", err
	}
	st := c.State
	st.Status = runtime.StatusPaused
	if err := e.transition(c, st); err != nil {
		runtime.Resume(e.stateRoot(), c.ID)
		return "", err
	}
	e.containerEvent(context.Background(), c, "pause", nil)
	return c.ID, nil
}

func (e *Engine) unpause(ref string) (string, error) {
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return "", err
	}
	defer unlock()
	if c.State.Status != runtime.StatusPaused {
		return "", fmt.Errorf("container %s is not paused: %w", c.Name, errdefs.ErrConflict)
	}
	if err := runtime.Resume(e.stateRoot(), c.ID); err != nil {
		return "", err
	}
	st := c.State
	st.Status = runtime.StatusRunning
	if err := e.transition(c, st); err != nil {
		return "", err
	}
	e.containerEvent(context.Background(), c, "unpause", nil)
	return c.ID, nil
}
