package runtime

import (
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/runc/libcontainer"
)

// FreezerProblem says why the containers of this engine cannot be paused,
// "" when they can: pausing freezes the container's cgroup, and a rootless
// container on a host without cgroup delegation has none (see
// LibcontainerConfig).
func FreezerProblem(rootless bool) string {
	if why := cgroupProblem(rootless); why != "" {
		return "pausing needs a cgroup freezer, and rootless containers on this host have no cgroup (" + why + "): run as root, or on cgroup v2 with delegation"
	}
	return ""
}

// Pause freezes every process of the container id (libcontainer state
// under stateRoot); Resume thaws them.
func Pause(stateRoot, id string, rootless bool) error {
	return freeze(stateRoot, id, rootless, true)
}

// Resume thaws a container frozen by Pause.
func Resume(stateRoot, id string, rootless bool) error {
	return freeze(stateRoot, id, rootless, false)
}

func freeze(stateRoot, id string, rootless, pause bool) error {
	if why := FreezerProblem(rootless); why != "" {
		return fmt.Errorf("%s: %w", why, errdefs.ErrNotImplemented)
	}
	c, err := libcontainer.Load(stateRoot, id)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if pause {
		err = c.Pause()
	} else {
		err = c.Resume()
	}
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	return nil
}
