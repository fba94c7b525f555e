package runtime

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
)

// Restart policies, Docker's HostConfig.RestartPolicy: the monitor runs
// them itself (skiff-monitor's restart.go), no daemon or systemd involved.
const (
	RestartNo            = "no"
	RestartOnFailure     = "on-failure"
	RestartAlways        = "always"
	RestartUnlessStopped = "unless-stopped"
)

// RestartPolicy is Docker's: a name and, for on-failure only, the most
// restarts (0: no limit).
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// IsNone reports the policy "no" (or none given).
func (p RestartPolicy) IsNone() bool { return p.Name == "" || p.Name == RestartNo }

// CheckRestartPolicy validates a policy as Docker's daemon does; a
// container removed when it exits cannot have one.
func CheckRestartPolicy(p RestartPolicy, autoRemove bool) error {
	switch p.Name {
	case "", RestartNo, RestartAlways, RestartUnlessStopped:
		if p.MaximumRetryCount != 0 {
			return fmt.Errorf("invalid restart policy: maximum retry count can only be used with '%s': %w", RestartOnFailure, errdefs.ErrInvalidArgument)
		}
	case RestartOnFailure:
		if p.MaximumRetryCount < 0 {
			return fmt.Errorf("invalid restart policy: maximum retry count cannot be negative: %w", errdefs.ErrInvalidArgument)
		}
	default:
		return fmt.Errorf("invalid restart policy: unknown policy %q; use one of 'no', 'always', 'on-failure', or 'unless-stopped': %w", p.Name, errdefs.ErrInvalidArgument)
	}
	if autoRemove && !p.IsNone() {
		return fmt.Errorf("a container removed when it exits (auto-remove) cannot have a restart policy: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// StopRequestFile, in a container's RunDir, tells its monitor that the
// user stopped, killed or removed the container: the restart policy ends,
// and the exit is recorded as State.ManuallyStopped. The engine writes it
// before it signals the container (RequestStop).
const StopRequestFile = "stop-requested"

// RequestStop writes the stop request of the container whose run directory
// is runDir (it exists while a monitor runs).
func RequestStop(runDir string) error {
	f, err := os.OpenFile(filepath.Join(runDir, StopRequestFile), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// StopRequested reports a stop request in runDir.
func StopRequested(runDir string) bool {
	_, err := os.Lstat(filepath.Join(runDir, StopRequestFile))
	return err == nil
}
