package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// A container's limits and restart policy change while it runs (docker
// update): the limits in its cgroup through libcontainer, from whichever
// process asks (libcontainer.Load, then Set: any process may, the monitor
// need not be told), and in its spec, which the monitor reads again at
// each restart of its policy; the policy in a file of the run directory
// that the monitor reads when the container exits (RestartPolicyFile).

// CheckResources validates limits as a start would (GenerateSpec): the
// ranges, and whether this host can apply them at all (FailedPrecondition
// for a rootless container without cgroup delegation).
func CheckResources(r Resources, rootless bool) error {
	_, err := containerResources(SpecOptions{Resources: r, Rootless: rootless}, thisHost)
	return err
}

// UpdateResources sets the cgroup limits of the running container id
// (libcontainer state under stateRoot) to r, and records them in the spec
// at specPath so that a restart by the monitor keeps them. A container
// that is not running has nothing to set: not an error (its next start
// generates a new spec). Errors of CheckResources first.
func UpdateResources(stateRoot, id, specPath string, r Resources, rootless bool) error {
	lr, err := containerResources(SpecOptions{Resources: r, Rootless: rootless}, thisHost)
	if err != nil {
		return err
	}
	if rootless && !CgroupsUsable(true) {
		return nil // no limits (checked above) and no cgroup to set them in
	}
	c, err := libcontainer.Load(stateRoot, id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	cfg := c.Config()
	res := *cfg.Cgroups.Resources
	if r.Memory > 0 {
		res.Memory = r.Memory
	}
	if lr != nil && lr.CPU != nil && lr.CPU.Quota != nil {
		res.CpuQuota, res.CpuPeriod = *lr.CPU.Quota, *lr.CPU.Period
	} else {
		res.CpuQuota = -1 // none: unlimited
	}
	pids := int64(-1) // "max"
	if r.PidsLimit > 0 {
		pids = r.PidsLimit
	}
	res.PidsLimit = &pids
	res.CpuShares = uint64(max(r.CPUShares, 0))
	res.CpusetCpus, res.CpusetMems = r.CpusetCpus, r.CpusetMems
	res.MemoryReservation, res.MemorySwap = r.MemoryReservation, r.MemorySwap
	// The device rules stay as the start set them: the CLI's process has
	// no device filter linked (cgroups/devices), and the cgroup managers
	// then leave the rules alone only when given none.
	res.Devices, res.SkipDevices = nil, true
	cg := *cfg.Cgroups
	cg.Resources = &res
	cfg.Cgroups = &cg
	if err := c.Set(cfg); errors.Is(err, libcontainer.ErrNotRunning) {
		return nil
	} else if err != nil {
		return fmt.Errorf("container %s: updating its cgroup: %w", id, err)
	}
	return updateSpecResources(specPath, lr)
}

// updateSpecResources replaces the memory, CPU and pids limits of the
// spec at path with lr's (nil: none), keeping its device rules.
func updateSpecResources(path string, lr *specs.LinuxResources) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	if spec.Linux.Resources == nil {
		spec.Linux.Resources = &specs.LinuxResources{}
	}
	old := spec.Linux.Resources
	old.Memory, old.CPU, old.Pids = nil, nil, nil
	if lr != nil {
		old.Memory, old.CPU, old.Pids = lr.Memory, lr.CPU, lr.Pids
	}
	out, err := json.Marshal(&spec)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, out, 0o644, false)
}

// RestartPolicyFile, in a container's RunDir, is the restart policy
// given by an update while the monitor runs; it replaces
// MonitorConfig.RestartPolicy from the container's next exit on.
const RestartPolicyFile = "restart-policy"

// WriteRestartPolicy records p for the monitor whose run directory is
// runDir (nothing when no monitor runs: the next start passes the
// policy in its MonitorConfig).
func WriteRestartPolicy(runDir string, p RestartPolicy) error {
	if _, err := os.Stat(runDir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(runDir, RestartPolicyFile), b, 0o600, false)
}

// ReadRestartPolicy is the policy an update recorded in runDir, else def.
func ReadRestartPolicy(runDir string, def RestartPolicy) RestartPolicy {
	b, err := os.ReadFile(filepath.Join(runDir, RestartPolicyFile))
	if err != nil {
		return def
	}
	var p RestartPolicy
	if json.Unmarshal(b, &p) != nil {
		return def
	}
	return p
}
