package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestContainerKernelOptions: --pid, --ipc and --uts host share the
// host's namespaces; --domainname, --shm-size, --sysctl, --oom-score-adj
// and --device reach the process; inspect shows them; what would change
// the host (a sysctl outside the container's namespaces) or cannot be
// done (another container's namespace, a file that is not a device, a
// rootless lowered OOM score) is one line, exit 125, nothing created.
func TestContainerKernelOptions(t *testing.T) {
	t.Parallel()
	hostNS := func(kind string) string {
		l, err := os.Readlink("/proc/self/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		// Rootless on this host (no cgroup delegation) a container keeps
		// a PID namespace of its own: --pid host is refused there.
		pid, want := []string{"--pid", "host"}, hostNS("pid")
		if s.Rootless() {
			s.Run("run", "--rm", "--pid", "host", image, "true").MustFail(t, 125, "the host's PID namespace cannot be shared")
			pid, want = nil, ""
		}
		out := s.Run(append(append([]string{"run", "--rm", "--network", "none", "--ipc", "host", "--uts", "host"}, pid...), image,
			"sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; hostname")...).MustSucceed(t).Stdout
		got := strings.Split(out, "\n")
		if len(got) != 4 || !s.Rootless() && got[0] != want || got[1] != hostNS("ipc") || got[2] != hostname {
			t.Errorf("host namespaces: %q, want pid %q, ipc %q, hostname %q", out, want, hostNS("ipc"), hostname)
		}
		out = s.Run("run", "--rm", "--network", "none", image, "sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc").MustSucceed(t).Stdout
		if strings.Contains(out, hostNS("pid")) || strings.Contains(out, hostNS("ipc")) {
			t.Errorf("private namespaces by default, got the host's: %q", out)
		}

		score := "500"
		s.Run("run", "-d", "--name", "tuned", "--network", "none", "--domainname", "example.org", "--shm-size", "128m",
			"--sysctl", "net.ipv4.ip_unprivileged_port_start=0", "--oom-score-adj", score, "--device", "/dev/null:/dev/xnull:rw",
			image, "sleep", "100").MustSucceed(t)
		out = s.Run("exec", "tuned", "sh", "-c", `cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/1/oom_score_adj
df -k /dev/shm | awk 'NR==2{print $2}'
test -c /dev/xnull && echo x > /dev/xnull && echo device=ok`).MustSucceed(t).Stdout
		if want := "example.org\n0\n" + score + "\n131072\ndevice=ok\n"; out != want {
			t.Errorf("tuned container: %q, want %q", out, want)
		}
		s.Run("inspect", "--format", "{{.HostConfig.ShmSize}} {{.HostConfig.OomScoreAdj}} {{index .HostConfig.Sysctls \"net.ipv4.ip_unprivileged_port_start\"}} {{(index .HostConfig.Devices 0).PathInContainer}} {{.HostConfig.IpcMode}}",
			"tuned").Assert(t, Expect{Stdout: "134217728 500 0 /dev/xnull private"})
		s.Run("rm", "-f", "tuned").MustSucceed(t)

		before := s.Run("ps", "-aq").MustSucceed(t).Stdout
		bad := []struct {
			args []string
			msg  string
		}{
			{[]string{"--sysctl", "vm.swappiness=10"}, `sysctl "vm.swappiness" is not allowed`},
			{[]string{"--network", "host", "--sysctl", "net.ipv4.ip_forward=1"}, "not allowed with the host's network namespace"},
			{[]string{"--pid", "container:other"}, "sharing another container's PID namespace is not supported"},
			{[]string{"--ipc", "bogus"}, `invalid --ipc "bogus"`},
			{[]string{"--device", "/etc/passwd"}, `device "/etc/passwd" is not a character or block device`},
			{[]string{"--device", "/dev/nonexistent-e2e"}, `device "/dev/nonexistent-e2e"`},
			{[]string{"--shm-size", "-1"}, `invalid --shm-size "-1"`},
			{[]string{"--oom-score-adj", "2000"}, "invalid OOM score adjustment 2000"},
			{[]string{"--uts", "host", "--hostname", "h"}, "cannot be set with the host's UTS namespace"},
		}
		if s.Rootless() {
			bad = append(bad, struct {
				args []string
				msg  string
			}{[]string{"--oom-score-adj", "-10"}, "needs root"})
		}
		for _, b := range bad {
			requireOneLine(t, s.Run(append(append([]string{"run", "--rm"}, b.args...), image, "true")...).MustFail(t, 125, b.msg))
		}
		if after := s.Run("ps", "-aq").MustSucceed(t).Stdout; after != before {
			t.Errorf("a refused run left a container: %q", after)
		}
	})
}

// TestContainerCgroupSettings: --cpu-shares, --cpuset-cpus,
// --memory-reservation, --memory-swap, --memory-swappiness and
// --oom-kill-disable reach the container's cgroup (rootful; rootless on
// this host has no cgroup and is refused), update changes the shares, the
// cpuset and the reservation of the running container, and inspect shows
// them; Docker's rules refuse bad combinations.
func TestContainerCgroupSettings(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		args := []string{"run", "-d", "--network", "none", "--cpu-shares", "512", "--cpuset-cpus", "0", "--memory", "64m",
			"--memory-reservation", "32m", "--memory-swap", "128m", "--memory-swappiness", "10", "--oom-kill-disable", image, "sleep", "100"}
		if s.Rootless() {
			requireOneLine(t, s.Run(args...).MustFail(t, 125, "cannot be applied: rootless containers on this host have no cgroup delegation"))
			return
		}
		id := s.Run(args...).MustSucceed(t).Stdout
		id = strings.TrimSpace(id)
		for _, c := range []struct{ controller, file, file2, want string }{
			{"cpu", "cpu.shares", "cpu.weight", "512"},
			{"cpuset", "cpuset.cpus", "cpuset.cpus", "0"},
			{"memory", "memory.soft_limit_in_bytes", "memory.low", "33554432"},
			{"memory", "memory.memsw.limit_in_bytes", "memory.swap.max", "134217728"},
			{"memory", "memory.swappiness", "memory.swappiness", "10"},
		} {
			if got := cgroupValue(t, id, c.controller, c.file, c.file2); got != c.want {
				t.Errorf("%s: %q, want %q", c.file, got, c.want)
			}
		}
		if oom := cgroupValue(t, id, "memory", "memory.oom_control", "memory.oom_control"); !strings.Contains(oom, "oom_kill_disable 1") {
			t.Errorf("memory.oom_control: %q", oom)
		}
		s.Run("inspect", "--format", "{{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}} {{.HostConfig.MemoryReservation}} {{.HostConfig.MemorySwap}} {{.HostConfig.OomKillDisable}}", id).
			Assert(t, Expect{Stdout: "512 0 33554432 134217728 true"})

		s.Run("update", "--cpu-shares", "256", "--memory-reservation", "16m", "--cpuset-cpus", "0-1", id).MustSucceed(t)
		for _, c := range []struct{ controller, file, want string }{
			{"cpu", "cpu.shares", "256"}, {"memory", "memory.soft_limit_in_bytes", "16777216"}, {"cpuset", "cpuset.cpus", "0-1"},
		} {
			if got := cgroupValue(t, id, c.controller, c.file, c.file); got != c.want {
				t.Errorf("after update, %s: %q, want %q", c.file, got, c.want)
			}
		}
		s.Run("rm", "-f", id).MustSucceed(t)

		before := s.Run("ps", "-aq").MustSucceed(t).Stdout
		for _, b := range []struct {
			args []string
			msg  string
		}{
			{[]string{"--memory-swap", "1g"}, "You should always set the Memory limit when using Memoryswap limit"},
			{[]string{"--memory", "64m", "--memory-swap", "32m"}, "Minimum memoryswap limit should be larger than memory limit"},
			{[]string{"--memory", "64m", "--memory-reservation", "128m"}, "Minimum memory limit can not be less than memory reservation limit"},
			{[]string{"--cpuset-cpus", "0-63"}, "Requested CPUs are not available - requested 0-63"},
			{[]string{"--cpuset-cpus", "a"}, `invalid cpuset "a"`},
			{[]string{"--memory-swappiness", "101"}, "valid memory swappiness range is 0-100"},
			{[]string{"--cpu-shares", "-5"}, "invalid CPU shares -5"},
		} {
			requireOneLine(t, s.Run(append(append([]string{"run", "--rm"}, b.args...), image, "true")...).MustFail(t, 125, b.msg))
		}
		if after := s.Run("ps", "-aq").MustSucceed(t).Stdout; after != before {
			t.Errorf("a refused run left a container: %q", after)
		}
	})
}
