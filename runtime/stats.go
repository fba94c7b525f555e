package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// Stats is one sample of a running container's resource use, in Docker's
// terms (moby's container.StatsResponse without its previous sample).
// CPU times are nanoseconds, memory and I/O bytes.
type Stats struct {
	Read   time.Time
	CPU    CPUStats
	Memory MemoryStats
	Pids   PidsStats
	// BlkioBytes and BlkioOps are Docker's io_service_bytes_recursive and
	// io_serviced_recursive.
	BlkioBytes, BlkioOps []BlkioEntry
	Networks             map[string]InterfaceCounters
	// FromProcesses: the container has no cgroup of its own (rootless on
	// a host without delegation), so the sample sums its processes'
	// /proc entries instead (see readProcessStats).
	FromProcesses bool
}

// CPUStats: the container's CPU time, and the host's (System, all CPUs,
// from /proc/stat) for Docker's CPU % formula.
type CPUStats struct {
	Total, Kernel, User uint64
	PerCPU              []uint64 // cgroup v1 only (cpuacct.usage_percpu)
	System              uint64
	Online              uint32
	Periods             uint64 // CFS throttling, with a CPU limit
	ThrottledPeriods    uint64
	ThrottledTime       uint64
}

// MemoryStats: Usage includes the page cache; Stats is memory.stat.
// Limit is the cgroup's, or the host's memory when that is less.
type MemoryStats struct {
	Usage, MaxUsage, Limit, Failcnt uint64
	Stats                           map[string]uint64
}

// PidsStats: tasks (threads) in the container, and its pids limit (0: none).
type PidsStats struct {
	Current, Limit uint64
}

// BlkioEntry is one device's count for one operation ("read", "write"...).
type BlkioEntry struct {
	Major, Minor uint64
	Op           string
	Value        uint64
}

// ReadStats samples container id (libcontainer state under stateRoot;
// pid its init, in the caller's PID namespace). A container that is not
// running: Conflict. Without a cgroup of its own (rootless and
// !CgroupsUsable) the container's processes are summed from /proc: CPU
// time of the live ones, their resident memory (shared pages counted in
// each), their threads, their storage I/O; the limit is the host's memory.
func ReadStats(stateRoot, id string, pid int, rootless bool) (Stats, error) {
	var st Stats
	var err error
	if rootless && !CgroupsUsable(true) {
		st, err = readProcessStats(pid)
	} else {
		st, err = readCgroupStats(stateRoot, id)
	}
	if err != nil {
		return Stats{}, err
	}
	if st.CPU.System, st.CPU.Online, err = hostCPU(); err != nil {
		return Stats{}, err
	}
	if host := hostMemory(); host > 0 && (st.Memory.Limit == 0 || st.Memory.Limit > host) {
		st.Memory.Limit = host
	}
	if st.Networks, err = networkCounters(pid); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Stats{}, fmt.Errorf("container %s: network counters: %w", id, err)
	}
	st.Read = time.Now()
	return st, nil
}

func notRunning(id string) error {
	return fmt.Errorf("container %s is not running: %w", id, errdefs.ErrConflict)
}

// readCgroupStats reads the container's cgroup (v1, hybrid or v2) through
// libcontainer's manager.
func readCgroupStats(stateRoot, id string) (Stats, error) {
	c, err := libcontainer.Load(stateRoot, id)
	if errors.Is(err, libcontainer.ErrNotExist) {
		return Stats{}, notRunning(id)
	}
	if err != nil {
		return Stats{}, fmt.Errorf("container %s: %w", id, err)
	}
	ls, err := c.Stats()
	if err != nil {
		return Stats{}, fmt.Errorf("container %s: %w", id, err)
	}
	cg := ls.CgroupStats
	u, m := cg.CpuStats.CpuUsage, cg.MemoryStats
	st := Stats{
		CPU: CPUStats{Total: u.TotalUsage, Kernel: u.UsageInKernelmode, User: u.UsageInUsermode, PerCPU: u.PercpuUsage,
			Periods: cg.CpuStats.ThrottlingData.Periods, ThrottledPeriods: cg.CpuStats.ThrottlingData.ThrottledPeriods,
			ThrottledTime: cg.CpuStats.ThrottlingData.ThrottledTime},
		Memory: MemoryStats{Usage: m.Usage.Usage, MaxUsage: m.Usage.MaxUsage, Limit: m.Usage.Limit, Failcnt: m.Usage.Failcnt, Stats: m.Stats},
		Pids:   PidsStats{Current: cg.PidsStats.Current, Limit: cg.PidsStats.Limit},
	}
	st.BlkioBytes = blkioEntries(cg.BlkioStats.IoServiceBytesRecursive)
	st.BlkioOps = blkioEntries(cg.BlkioStats.IoServicedRecursive)
	return st, nil
}

func blkioEntries(in []cgroups.BlkioStatEntry) []BlkioEntry {
	out := make([]BlkioEntry, 0, len(in))
	for _, e := range in {
		out = append(out, BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value})
	}
	return out
}

// clockTick is USER_HZ, the unit of /proc's CPU times: 100 on every
// Linux architecture Go supports.
const clockTick = 100

// hostCPU reads /proc/stat: the host's CPU time (Docker's
// system_cpu_usage: user, nice, system, idle, iowait, irq and softirq of
// all CPUs, in nanoseconds) and the number of online CPUs.
func hostCPU() (uint64, uint32, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (uint64, uint32, error) {
	var total uint64
	var online uint32
	found := false
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		switch {
		case len(f) == 0 || !strings.HasPrefix(f[0], "cpu"):
		case f[0] == "cpu":
			if len(f) < 8 {
				return 0, 0, errors.New("/proc/stat: short cpu line")
			}
			for _, v := range f[1:8] {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return 0, 0, fmt.Errorf("/proc/stat: %v", err)
				}
				total += n
			}
			found = true
		default:
			online++
		}
	}
	if !found {
		return 0, 0, errors.New("/proc/stat: no cpu line")
	}
	return total * (1e9 / clockTick), online, nil
}

// hostMemory is the host's RAM in bytes (0 if unknown).
func hostMemory() uint64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}
