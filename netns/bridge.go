package netns

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// setupBridge puts the namespace of pid on cfg.Bridge and publishes
// cfg.Ports (rootful).
func setupBridge(n *Network, cfg Config, pid int) error {
	return fmt.Errorf("network mode %s: %w", cfg.Mode, errdefs.ErrNotImplemented)
}
