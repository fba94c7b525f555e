package engine

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// ContainerResizeOptions: the terminal's new size, in characters.
type ContainerResizeOptions struct {
	Height, Width uint16
}

// ContainerResizeResult is empty.
type ContainerResizeResult struct{}

// ContainerResize sets the size of a running container's terminal (the
// API's POST /containers/{id}/resize, which Docker clients send when
// their own terminal changes), through its monitor's attach socket. A
// container without a terminal ignores it, as Docker's; one that is not
// running: Conflict.
func (e *Engine) ContainerResize(ctx context.Context, ref string, o ContainerResizeOptions) (ContainerResizeResult, error) {
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
	conn, err := runtime.Dial(e.runDir(c.ID))
	if err != nil {
		return ContainerResizeResult{}, fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	defer conn.Close()
	if err := conn.Resize(o.Height, o.Width); err != nil {
		return ContainerResizeResult{}, fmt.Errorf("container %s: resizing its terminal: %w", c.Name, err)
	}
	return ContainerResizeResult{}, nil
}
