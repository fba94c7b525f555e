package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// Healthcheck is Docker's Config.Healthcheck: a container's own (its
// flags or its API body) is merged over the image's HEALTHCHECK at create.
type Healthcheck = runtime.Healthcheck

// Health is Docker's State.Health.
type Health = runtime.Health

// mergeHealthcheck is Docker's merge of a container's healthcheck over
// its image's: none of the container's keeps the image's; a container's
// without a test takes the image's test, and each zero field the image's
// value. The result is nil without a test, and validated.
func mergeHealthcheck(own *Healthcheck, image *Healthcheck) (*Healthcheck, error) {
	var hc Healthcheck
	if image != nil {
		hc = *image
	}
	if own != nil {
		if len(own.Test) > 0 {
			hc.Test = own.Test
		}
		for _, f := range []struct{ dst, src *time.Duration }{
			{&hc.Interval, &own.Interval}, {&hc.Timeout, &own.Timeout},
			{&hc.StartPeriod, &own.StartPeriod}, {&hc.StartInterval, &own.StartInterval},
		} {
			if *f.src != 0 {
				*f.dst = *f.src
			}
		}
		if own.Retries != 0 {
			hc.Retries = own.Retries
		}
	}
	if len(hc.Test) == 0 {
		return nil, nil
	}
	if err := hc.Check(); err != nil {
		return nil, invalid("%s", err.Error())
	}
	if hc.Disabled() {
		return &Healthcheck{Test: []string{"NONE"}}, nil
	}
	return &hc, nil
}

// resolveHealthcheck merges the options' check over the image's and
// checks podman's on-failure action.
func (e *Engine) resolveHealthcheck(o ContainerCreateOptions, imageID string) (*Healthcheck, string, error) {
	if o.HealthOnFailure != "" && !slices.Contains(runtime.HealthOnFailureActions, o.HealthOnFailure) {
		return nil, "", invalid("invalid health-on-failure action %q: use none, kill, restart or stop", o.HealthOnFailure)
	}
	is, err := e.imageStore()
	if err != nil {
		return nil, "", err
	}
	image, err := is.Healthcheck(imageID)
	if err != nil {
		return nil, "", err
	}
	hc, err := mergeHealthcheck(o.Healthcheck, image)
	return hc, o.HealthOnFailure, err
}

// activeHealthcheck is the check the monitor runs, nil when none.
func (c *Container) activeHealthcheck() *Healthcheck {
	if c.Config.Healthcheck == nil || c.Config.Healthcheck.Disabled() {
		return nil
	}
	return c.Config.Healthcheck
}

// Health is what the container's monitor recorded of its healthcheck:
// nil without one; "starting" before the first result.
func (c *Container) Health() *Health {
	if c.activeHealthcheck() == nil {
		return nil
	}
	h, err := runtime.ReadHealth(runtime.HealthPath(c.StatePath()))
	if err != nil || h == nil {
		h = &Health{Status: runtime.HealthStarting}
	}
	if h.Log == nil {
		h.Log = []runtime.HealthResult{}
	}
	return h
}

// healthStatus is the status ps shows and filters on: none without a
// healthcheck; a container that does not run keeps its last one.
func (c *Container) healthStatus() string {
	h := c.Health()
	if h == nil {
		return runtime.HealthNone
	}
	return h.Status
}

// ContainerHealthcheckOptions are `healthcheck run`'s (none yet).
type ContainerHealthcheckOptions struct{}

// ContainerHealthcheckResult is one check's outcome.
type ContainerHealthcheckResult struct {
	Status string // healthy, unhealthy or starting (a failure in the start period)
	Result runtime.HealthResult
}

// ContainerHealthcheck runs the container's healthcheck now, by asking its
// monitor (which alone records Health), and reports the result.
func (e *Engine) ContainerHealthcheck(ctx context.Context, ref string, o ContainerHealthcheckOptions) (ContainerHealthcheckResult, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerHealthcheckResult{}, err
	}
	if c.activeHealthcheck() == nil {
		return ContainerHealthcheckResult{}, fmt.Errorf("container %s has no defined healthcheck: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	if c.State.Status != runtime.StatusRunning {
		return ContainerHealthcheckResult{}, fmt.Errorf("container %s is not running (%s): start it first: %w", c.Name, c.State.Status, errdefs.ErrFailedPrecondition)
	}
	conn, err := runtime.Dial(e.runDir(c.ID))
	if err != nil {
		return ContainerHealthcheckResult{}, fmt.Errorf("container %s: connecting to its monitor: %w", c.Name, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	reply, err := conn.Healthcheck()
	if err != nil {
		return ContainerHealthcheckResult{}, fmt.Errorf("container %s: its monitor did not answer the check (the container may have exited): %v: %w", c.Name, err, errdefs.ErrUnavailable)
	}
	if reply.Error != "" {
		return ContainerHealthcheckResult{}, fmt.Errorf("container %s: %s: %w", c.Name, reply.Error, errdefs.ErrFailedPrecondition)
	}
	return ContainerHealthcheckResult{Status: reply.Status, Result: reply.Result}, nil
}
