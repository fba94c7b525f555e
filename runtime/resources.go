package runtime

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// moreResources adds Docker's cgroup settings beyond the limits (shares,
// cpuset, reservation, swap, swappiness, the OOM killer) to r, with
// Docker's rules and messages.
func moreResources(r *specs.LinuxResources, o Resources, h host) error {
	if o.CPUShares < 0 {
		return invalidf("invalid CPU shares %d: use a positive relative weight (1024 is the default)", o.CPUShares)
	}
	if o.CPUShares > 0 || o.CpusetCpus != "" || o.CpusetMems != "" {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
	}
	if o.CPUShares > 0 {
		shares := uint64(o.CPUShares)
		r.CPU.Shares = &shares
	}
	if o.CpusetCpus != "" {
		if err := checkCpuset(o.CpusetCpus, h.numCPU, "CPUs"); err != nil {
			return err
		}
		r.CPU.Cpus = o.CpusetCpus
	}
	if o.CpusetMems != "" {
		if err := checkCpuset(o.CpusetMems, h.numMems(), "memory nodes"); err != nil {
			return err
		}
		r.CPU.Mems = o.CpusetMems
	}
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	if o.MemoryReservation != 0 {
		switch {
		case o.MemoryReservation < MinMemory:
			return invalidf("Minimum memory reservation allowed is 6MB")
		case o.Memory > 0 && o.MemoryReservation > o.Memory:
			return invalidf("Minimum memory limit can not be less than memory reservation limit, see usage")
		}
		v := o.MemoryReservation
		mem().Reservation = &v
	}
	if o.MemorySwap != 0 {
		switch {
		case o.MemorySwap < -1:
			return invalidf("invalid memory swap %d: use a size at least the memory limit, or -1 for unlimited swap", o.MemorySwap)
		case o.MemorySwap > 0 && o.Memory == 0:
			return invalidf("You should always set the Memory limit when using Memoryswap limit, see usage")
		case o.MemorySwap > 0 && o.MemorySwap < o.Memory:
			return invalidf("Minimum memoryswap limit should be larger than memory limit, see usage")
		}
		v := o.MemorySwap
		mem().Swap = &v
	}
	if p := o.MemorySwappiness; p != nil && *p != -1 {
		if *p < 0 || *p > 100 {
			return invalidf("Invalid value: %d, valid memory swappiness range is 0-100", *p)
		}
		if h.cgroup2 {
			return invalidf("memory swappiness cannot be set on cgroup v2 (the kernel has no such setting there)")
		}
		v := uint64(*p)
		mem().Swappiness = &v
	}
	if o.OomKillDisable {
		if h.cgroup2 {
			return invalidf("the OOM killer cannot be disabled on cgroup v2")
		}
		t := true
		mem().DisableOOMKiller = &t
	}
	return nil
}

// checkCpuset validates a cpuset list ("0-2,4") against the n CPUs or
// memory nodes this host has, with Docker's message.
func checkCpuset(list string, n int, what string) error {
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return invalidf("invalid cpuset %q: use a list of numbers and ranges, e.g. 0-2,4", list)
		}
		if b >= n {
			return invalidf("Requested %s are not available - requested %s, available: %s", what, list, available(n))
		}
	}
	return nil
}

func available(n int) string {
	if n == 1 {
		return "0"
	}
	return fmt.Sprintf("0-%d", n-1)
}
