package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/skiff-engine/skiff/runtime"
)

// SystemBootOptions tune SystemBoot (none yet).
type SystemBootOptions struct{}

// SystemBootResult lists the containers started, by ID, in the order of
// the listing (newest first).
type SystemBootResult struct {
	Started []string
}

// SystemBoot is what dockerd does when it starts: after a reboot (the run
// root is empty, every container reads as exited) it starts each container
// whose restart policy is always, and each unless-stopped one that the
// user had not stopped (runtime.State.ManuallyStopped). Running ones are
// left alone, so a second call starts nothing. One that fails to start
// does not stop the others; the error joins them all.
func (e *Engine) SystemBoot(ctx context.Context, o SystemBootOptions) (SystemBootResult, error) {
	var res SystemBootResult
	list, err := e.listContainers()
	if err != nil {
		return res, err
	}
	var errs []error
	for _, c := range list {
		if c.Running() || !startsAtBoot(c) {
			continue
		}
		if _, err := e.ContainerStart(ctx, c.ID, ContainerStartOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("starting container %s: %w", c.Name, err))
			continue
		}
		res.Started = append(res.Started, c.ID)
	}
	return res, errors.Join(errs...)
}

// startsAtBoot is Docker's choice at a daemon's start.
func startsAtBoot(c *Container) bool {
	switch c.Config.RestartPolicy.Name {
	case runtime.RestartAlways:
		return true
	case runtime.RestartUnlessStopped:
		return !c.State.ManuallyStopped
	}
	return false
}
