package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/skiff-engine/skiff/runtime"
)

// attach connects to a running container.
func (e *Engine) attach(ctx context.Context, c *Container, aio *AttachIO) (ContainerStartResult, error) {
	a, err := runtime.DialWait(e.runDir(c.ID))
	if err != nil {
		return ContainerStartResult{}, fmt.Errorf("container %s: its monitor does not answer: %w", c.Name, err)
	}
	return stream(ctx, c, a, aio, false)
}

// stream runs an attachment to its end; starting is set for the client a
// foreground start's monitor waits for.
func stream(ctx context.Context, c *Container, a *runtime.AttachConn, aio *AttachIO, starting bool) (ContainerStartResult, error) {
	s := *aio
	s.Starting = starting
	res, err := a.Stream(ctx, s)
	var se *runtime.StartError
	if errors.As(err, &se) {
		return ContainerStartResult{}, &ExitError{Code: se.Code, Err: fmt.Errorf("container %s: %s", c.Name, se.Message)}
	}
	return ContainerStartResult{ExitCode: res.ExitCode, Detached: res.Detached}, err
}
