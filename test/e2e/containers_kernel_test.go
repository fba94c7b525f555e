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
