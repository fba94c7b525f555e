package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
)

// Pause freezes every process of the container id (libcontainer state
// under stateRoot) with its cgroup's freezer. A container without a cgroup
// of its own (rootless on a host without cgroup delegation, see
// LibcontainerConfig) cannot be paused: NotImplemented, saying why.
// A container that is not running: Conflict.
func Pause(stateRoot, id string, rootless bool) error {
	c, err := libcontainer.Load(stateRoot, id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		return fmt.Errorf("container %s is not running: %w", id, errdefs.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if !hasFreezer(c) {
		return fmt.Errorf("%s: %w", freezerProblem(id, rootless), errdefs.ErrNotImplemented)
	}
	if err := c.Pause(); errors.Is(err, libcontainer.ErrNotRunning) {
		return fmt.Errorf("container %s is not running: %w", id, errdefs.ErrConflict)
	} else if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	return nil
}

// Resume thaws a container frozen by Pause. A container that is gone or
// no longer frozen has nothing to thaw: that is not an error, because
// callers thaw after a signal that may already have killed it (on cgroup
// v2 a fatal signal kills a frozen process).
func Resume(stateRoot, id string) error {
	c, err := libcontainer.Load(stateRoot, id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if err := c.Resume(); err != nil && !errors.Is(err, libcontainer.ErrNotPaused) {
		return fmt.Errorf("container %s: %w", id, err)
	}
	return nil
}

// hasFreezer reports whether the container got a freezer cgroup of its
// own: libcontainer drops the cgroups it could not create from the paths
// it records (cgroup v1), or records a directory it never made (v2), so
// the freezer's control file must exist.
func hasFreezer(c *libcontainer.Container) bool {
	st, err := c.State()
	if err != nil {
		return false
	}
	dir, file := st.CgroupPaths["freezer"], "freezer.state"
	if cgroups.IsCgroup2UnifiedMode() {
		dir, file = st.CgroupPaths[""], "cgroup.freeze"
	}
	if dir == "" {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, file))
	return err == nil
}

// freezerProblem says why the container id has no freezer.
func freezerProblem(id string, rootless bool) string {
	if why := cgroupProblem(rootless); why != "" {
		return "pausing needs a cgroup freezer, and rootless containers on this host have no cgroup (" + why + "): run as root, or on cgroup v2 with delegation"
	}
	return "pausing needs a cgroup freezer, and container " + id + " has none"
}
