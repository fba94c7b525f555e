package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// ContainerUpdateOptions are docker update's: each set field replaces
// the container's, nil leaves it.
type ContainerUpdateOptions struct {
	Memory            *int64 // bytes
	NanoCPUs          *int64 // CPUs in units of 1e-9
	PidsLimit         *int64 // 0 or -1: no limit
	CPUShares         *int64
	CpusetCpus        *string
	CpusetMems        *string
	MemoryReservation *int64 // bytes
	MemorySwap        *int64 // memory plus swap, bytes; -1: unlimited swap
	RestartPolicy     *RestartPolicy
}

// limits reports whether o changes any cgroup setting.
func (o ContainerUpdateOptions) limits() bool {
	return o.Memory != nil || o.NanoCPUs != nil || o.PidsLimit != nil || o.CPUShares != nil || o.CpusetCpus != nil ||
		o.CpusetMems != nil || o.MemoryReservation != nil || o.MemorySwap != nil
}

// ContainerUpdateResult names the container updated.
type ContainerUpdateResult struct {
	ID       string
	Warnings []string
}

// ContainerUpdate changes a container's limits and restart policy: in
// its record for later starts and, while it runs, in its cgroup and for
// its monitor. Bad values are InvalidArgument; a limit this host cannot
// apply (rootless without cgroup delegation) FailedPrecondition; either
// way nothing changes. Under the container's lock, so no start or stop
// interleaves.
func (e *Engine) ContainerUpdate(ctx context.Context, ref string, o ContainerUpdateOptions) (ContainerUpdateResult, error) {
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return ContainerUpdateResult{}, err
	}
	defer unlock()
	res := c.Config.Spec.Resources
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&res.Memory, o.Memory)
	set(&res.NanoCPUs, o.NanoCPUs)
	set(&res.PidsLimit, o.PidsLimit)
	set(&res.CPUShares, o.CPUShares)
	set(&res.MemoryReservation, o.MemoryReservation)
	set(&res.MemorySwap, o.MemorySwap)
	if o.CpusetCpus != nil {
		res.CpusetCpus = *o.CpusetCpus
	}
	if o.CpusetMems != nil {
		res.CpusetMems = *o.CpusetMems
	}
	if o.Memory != nil && *o.Memory < 0 {
		return ContainerUpdateResult{}, fmt.Errorf("invalid memory limit %d: %w", *o.Memory, errdefs.ErrInvalidArgument)
	}
	if err := runtime.CheckResources(res, e.paths.Rootless); err != nil {
		return ContainerUpdateResult{}, fmt.Errorf("container %s: %w", c.Name, err)
	}
	policy := c.Config.RestartPolicy
	if o.RestartPolicy != nil {
		policy = *o.RestartPolicy
		if err := runtime.CheckRestartPolicy(policy, c.Config.AutoRemove); err != nil {
			return ContainerUpdateResult{}, err
		}
	}
	if c.Running() {
		if o.limits() {
			if err := runtime.UpdateResources(e.stateRoot(), c.ID, e.specPath(c), res, e.paths.Rootless); err != nil {
				return ContainerUpdateResult{}, err
			}
		}
		if o.RestartPolicy != nil {
			if err := runtime.WriteRestartPolicy(e.runDir(c.ID), policy); err != nil {
				return ContainerUpdateResult{}, fmt.Errorf("container %s: telling its monitor the restart policy: %w", c.Name, err)
			}
		}
	}
	c.Config.Spec.Resources, c.Config.RestartPolicy = res, policy
	b, err := json.Marshal(c.Config)
	if err != nil {
		return ContainerUpdateResult{}, err
	}
	if err := e.db.SetConfig(ctx, c.ID, b); err != nil {
		return ContainerUpdateResult{}, err
	}
	e.containerEvent(ctx, c, "update", nil)
	return ContainerUpdateResult{ID: c.ID, Warnings: []string{}}, nil
}

// CFSPeriod is the CFS period (microseconds) Docker assumes when a quota
// comes without one, and the one skiff's CPU limits use.
const CFSPeriod = 100000

// NanoCPUsFromQuota is a CFS quota per period (period 0: CFSPeriod), as
// Docker's CpuQuota and CpuPeriod, in the nano-CPUs skiff records a CPU
// limit as; a quota of -1 is none (0).
func NanoCPUsFromQuota(quota, period int64) (int64, error) {
	if quota == -1 {
		return 0, nil
	}
	if period == 0 {
		period = CFSPeriod
	}
	if quota < 0 || period < 0 {
		return 0, fmt.Errorf("CPU cfs quota and period cannot be negative: %w", errdefs.ErrInvalidArgument)
	}
	if float64(quota)/float64(period) > math.MaxInt64/1e9 {
		return 0, fmt.Errorf("CPU cfs quota %d is too large: %w", quota, errdefs.ErrInvalidArgument)
	}
	return int64(math.Round(float64(quota) / float64(period) * 1e9)), nil
}
