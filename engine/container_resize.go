package engine

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// ContainerResizeOptions are the terminal's new size.
type ContainerResizeOptions struct {
	Height, Width uint16
}

// ContainerResizeResult is empty: the size is the monitor's to apply.
type ContainerResizeResult struct{}

// ContainerResize sets the size of a running container's terminal, through
// its monitor's attach socket (a container without a terminal ignores it,
// as Docker's does).
func (e *Engine) ContainerResize(ctx context.Context, ref string, o ContainerResizeOptions) (ContainerResizeResult, error) {
	if o.Height == 0 || o.Width == 0 {
		return ContainerResizeResult{}, invalid("invalid terminal size %dx%d: both must be positive", o.Height, o.Width)
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerResizeResult{}, err
	}
	// A foreground start's monitor takes its first client as the start's
	// own: connect only once it runs.
	if c.State.Status == runtime.StatusStarting {
		e.waitStarted(ctx, c)
	}
	if !c.Running() || c.State.Status == runtime.StatusStarting {
		return ContainerResizeResult{}, fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	if !c.Config.Tty {
		return ContainerResizeResult{}, nil
	}
	a, err := runtime.Dial(e.runDir(c.ID))
	if err != nil {
		return ContainerResizeResult{}, fmt.Errorf("container %s: its monitor does not answer: %w", c.Name, err)
	}
	defer a.Close()
	return ContainerResizeResult{}, a.Resize(o.Height, o.Width)
}
