package netns

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// setupSlirp connects the namespace of pid to slirp4netns and forwards
// cfg.Ports into it (rootless).
func setupSlirp(n *Network, cfg Config, pid int) error {
	return fmt.Errorf("network mode %s: %w", cfg.Mode, errdefs.ErrNotImplemented)
}
