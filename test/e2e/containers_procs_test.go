package e2e

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// top lists the container's processes (and nothing of the host's) with
// the host's ps columns.
func TestContainerTop(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "busy", bb, "sh", "-c", "sleep 1000 & while true; do sleep 0.1; done").MustSucceed(t)
		eventually(t, 10*time.Second, "the container's sleep 1000 never started", func() bool {
			return strings.Contains(s.Run("top", "busy").Stdout, "sleep 1000")
		})
		lines := s.Run("top", "busy").MustSucceed(t).Lines()
		header := strings.Fields(lines[0])
		if len(header) < 4 || header[0] != "UID" || header[1] != "PID" || header[len(header)-1] != "CMD" {
			t.Fatalf("top header: %q, want ps -ef's UID PID ... CMD", lines[0])
		}
		var cmds []string
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if pid, _ := strconv.Atoi(f[1]); pid == os.Getpid() || pid == 1 {
				t.Errorf("top lists a host process: %s", l)
			}
			cmds = append(cmds, strings.Join(f[7:], " "))
		}
		if !slices.Contains(cmds, "sleep 1000") || !slices.ContainsFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "sh -c sleep 1000 &") }) {
			t.Errorf("top should list the shell and its sleep 1000, got commands %q", cmds)
		}
		// ps options pass through.
		lines = s.Run("top", "busy", "-o", "pid,comm").MustSucceed(t).Lines()
		if strings.Join(strings.Fields(lines[0]), " ") != "PID COMMAND" || !slices.ContainsFunc(lines[1:], func(l string) bool { return strings.HasSuffix(l, " sh") }) {
			t.Errorf("top busy -o pid,comm:\n%s", strings.Join(lines, "\n"))
		}
		s.Run("top", "busy", "-o", "comm").MustFail(t, 125, "no PID column")
		s.Run("top", "nope").MustFail(t, 125, "No such container")
		s.Run("create", "--name", "idle", bb, "true").MustSucceed(t)
		s.Run("top", "idle").MustFail(t, 125, "not running")
		s.Run("top").MustFail(t, 125, "requires at least 1 argument")
		s.Run("rm", "-f", "busy", "idle").MustSucceed(t)
		requireClean(t, s, "rm -f")
	})
}

// pause freezes the container where the host gave it a freezer cgroup
// (rootful here; rootless only with cgroup v2 delegation) and says so
// clearly where it has none.
func TestContainerPause(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		ticker := []string{"sh", "-c", "i=0; while true; do i=$((i+1)); echo $i; sleep 0.05; done"}
		s.Run(append([]string{"run", "-d", "--name", "ticker", bb}, ticker...)...).MustSucceed(t)
		lines := func() int { return len(s.Run("logs", "ticker").MustSucceed(t).Lines()) }
		if !ownFreezer(t, s, "ticker") {
			// No cgroup for the container: a clear error, nothing changed.
			s.Run("pause", "ticker").MustFail(t, 125, "needs a cgroup freezer")
			if got := status(t, s, "ticker"); !strings.HasPrefix(got, "Up") || strings.Contains(got, "Paused") {
				t.Errorf("after a refused pause: %q", got)
			}
			s.Run("unpause", "ticker").MustFail(t, 125, "not paused")
			s.Run("rm", "-f", "ticker").MustSucceed(t)
			requireClean(t, s, "rm -f")
			return
		}
		r := s.Run("pause", "ticker").MustSucceed(t)
		if r.Out() != "ticker" {
			t.Errorf("pause printed %q, want the name given", r.Out())
		}
		if got := status(t, s, "ticker"); !strings.HasPrefix(got, "Up") || !strings.HasSuffix(got, "(Paused)") {
			t.Errorf("ps STATUS of a paused container: %q", got)
		}
		if got := s.Run("inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", "ticker").MustSucceed(t).Out(); got != "paused true true" {
			t.Errorf("inspect of a paused container: %q", got)
		}
		if got := s.Run("ps", "-q", "--filter", "status=paused").MustSucceed(t).Out(); got == "" {
			t.Errorf("ps --filter status=paused lists nothing")
		}
		frozen := lines()
		time.Sleep(500 * time.Millisecond)
		if n := lines(); n != frozen {
			t.Errorf("a paused container kept writing: %d lines, then %d", frozen, n)
		}
		s.Run("pause", "ticker").MustFail(t, 125, "already paused")
		s.Run("exec", "ticker", "true").MustFail(t, 125, "is paused, unpause the container before exec")
		s.Run("container", "unpause", "ticker").MustSucceed(t)
		eventually(t, 5*time.Second, "an unpaused container does not write again", func() bool { return lines() > frozen })
		s.Run("unpause", "ticker").MustFail(t, 125, "not paused")
		// stop, kill and rm -f of a paused container thaw it so that it can die.
		s.Run("container", "pause", "ticker").MustSucceed(t)
		s.Run("stop", "-t", "1", "ticker").MustSucceed(t)
		waitStatus(t, s, "ticker", "Exited", 10*time.Second)
		s.Run("pause", "ticker").MustFail(t, 125, "not running")
		s.Run("start", "ticker").MustSucceed(t)
		s.Run("pause", "ticker").MustSucceed(t)
		s.Run("kill", "ticker").MustSucceed(t)
		waitStatus(t, s, "ticker", "Exited (137)", 10*time.Second)
		s.Run(append([]string{"run", "-d", "--name", "ticker2", bb}, ticker...)...).MustSucceed(t)
		s.Run("pause", "ticker2").MustSucceed(t)
		s.Run("rm", "-f", "ticker2").MustSucceed(t)
		s.Run("pause", "nope").MustFail(t, 125, "No such container")
		s.Run("rm", "ticker").MustSucceed(t)
		requireClean(t, s, "rm")
	})
}

// ownFreezer reports whether the container's init sits in a freezer cgroup
// made for it (its path ends in the container's ID): cgroup v2's unified
// hierarchy, else v1's freezer controller.
func ownFreezer(t *testing.T, s *Skiff, name string) bool {
	t.Helper()
	doc := inspect(t, s, name)
	id, _ := field(doc, "Id")
	pid, _ := field(doc, "State.Pid")
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid.(float64))) + "/cgroup")
	if err != nil {
		t.Fatalf("the cgroups of %s's init: %v", name, err)
	}
	var st unix.Statfs_t
	v2 := unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && (v2 && f[1] == "" || !v2 && slices.Contains(strings.Split(f[1], ","), "freezer")) {
			return strings.HasSuffix(f[2], "/"+id.(string))
		}
	}
	return false
}

// port: nothing is published with --network none|host yet; Docker's
// answers for that, and its checks of the port given.
func TestContainerPort(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("create", "--name", "web", bb, "true").MustSucceed(t)
		if r := s.Run("port", "web").MustSucceed(t); r.Stdout != "" {
			t.Errorf("port of a container without published ports printed %q", r.Stdout)
		}
		s.Run("port", "web", "80").MustFail(t, 1, "No public port '80/tcp' published for web")
		s.Run("port", "web", "53/udp").MustFail(t, 1, "No public port '53/udp' published for web")
		s.Run("port", "web", "http").MustFail(t, 125, "invalid port")
		s.Run("port", "web", "70000").MustFail(t, 125, "invalid port")
		s.Run("port", "web", "80/xyz").MustFail(t, 125, "invalid protocol")
		s.Run("port", "nope").MustFail(t, 125, "No such container")
		s.Run("port").MustFail(t, 125, "")
		s.Run("rm", "web").MustSucceed(t)
		requireClean(t, s, "rm")
	})
}
