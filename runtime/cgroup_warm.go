package runtime

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/moby/sys/userns"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
)

// warmInterval is shorter than any RCU grace period seen (5 ms and more).
const warmInterval = 2 * time.Millisecond

// warmLimit ends a warming that nobody stopped: a start takes a few tens
// of milliseconds, but a restart forks its monitor before the old run
// stops, which may take the stop timeout.
const warmLimit = time.Second

// WarmCgroupAttach hides a kernel wait from a container start or an exec.
// Moving a process into a cgroup takes the kernel's global
// cgroup_threadgroup_rwsem for writing, and when nobody did so for a while
// that waits for an RCU grace period: 5 to 17 ms on the 2-core VMs
// measured, the largest single cost of a `run` or an `exec`, paid by
// libcontainer's cgroup Apply of the new process. Writing our own pid into
// our own cgroup takes the same lock (the kernel locks before it looks at
// the move), so doing it from now until the process is in its cgroups
// keeps the lock on its fast path: the wait overlaps other work instead of
// the start. The engine warms from the monitor's fork (ForkMonitor) until
// the monitor has its config, and the monitor from its own start until the
// container runs, so the wait runs beside the CLI's create; an exec's
// monitor warms from its start. Only the first write waits, on a goroutine
// of its own; later ones take ~0.1 ms. Writes that fail (a read-only
// /sys/fs/cgroup, no permission) end the warming: the start is then as
// slow as it would be without.
//
// stop, which may be called more than once, ends it; it ends on its own
// after warmLimit.
func WarmCgroupAttach() (stop func()) {
	procs := ownCgroupProcs()
	if procs == "" {
		return func() {}
	}
	done := make(chan struct{})
	pid := []byte(strconv.Itoa(os.Getpid()))
	go warmLoop(procs, pid, done, warmLimit)
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// warmLoop writes pid into procs every warmInterval until done closes, a
// write fails or limit has passed.
func warmLoop(procs string, pid []byte, done <-chan struct{}, limit time.Duration) {
	t := time.NewTicker(warmInterval)
	defer t.Stop()
	end := time.NewTimer(limit)
	defer end.Stop()
	for {
		if err := os.WriteFile(procs, pid, 0); err != nil {
			return
		}
		select {
		case <-done:
			return
		case <-end.C:
			return
		case <-t.C:
		}
	}
}

// ownCgroupProcs is the cgroup.procs file of the cgroup this process is
// in: the unified one, or on a v1 host its pids (else cpu) hierarchy's.
func ownCgroupProcs() string {
	if os.Geteuid() != 0 {
		return ""
	}
	if cgroups.IsCgroup2UnifiedMode() {
		own, err := cgroups.ParseCgroupFile("/proc/self/cgroup")
		if err != nil || own[""] == "" {
			return ""
		}
		return filepath.Join("/sys/fs/cgroup", own[""], "cgroup.procs")
	}
	// A rootless engine, root only in its user namespace, cannot write the
	// host's v1 hierarchies, which are never delegated: finding its own
	// cgroup (a parse of mountinfo, about 0.3 ms) would only end in a
	// failed write.
	if userns.RunningInUserNS() {
		return ""
	}
	for _, sub := range []string{"pids", "cpu"} {
		if dir, err := cgroups.GetOwnCgroupPath(sub); err == nil {
			return filepath.Join(dir, "cgroup.procs")
		}
	}
	return ""
}

// WarmCgroupPaths has the cgroups package find what every v1 manager
// needs, which it keeps for the process: the hierarchies' root and the
// cgroup mounts, both from one read of mountinfo, about 0.35 ms here: on a
// hybrid host the first entry of /sys/fs/cgroup is "unified", which fails
// the package's quick check of the root. The monitor runs it while it
// waits for its config, and libcontainer's create then finds both known.
// It computes paths only: nothing is created or joined.
//
// The manager asked for names both a path and a name, which the package
// refuses right after it has found the root (fs.initPaths): what it would
// go on to compute for each hierarchy is not kept, so a warm-up that went
// that far (the earlier one, with the path "/") took another 0.3 ms of
// CPU from the CLI's create, which runs beside it on a 2-core host.
func WarmCgroupPaths() {
	if cgroups.IsCgroup2UnifiedMode() {
		return
	}
	fs.NewManager(&cgroups.Cgroup{Name: "warm", Path: "/warm", Resources: &cgroups.Resources{}}, nil)
}
