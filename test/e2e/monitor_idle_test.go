package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// monitorExe is the binary the container's monitor runs now (its
// /proc/PID/exe), by the pid in monitor.pid.
func monitorExe(t *testing.T, s *Skiff, id string) (pid int, exe string) {
	t.Helper()
	p := monitorOf(t, s, id)
	exe, err := os.Readlink("/proc/" + strconv.Itoa(p.pid) + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	return p.pid, filepath.Base(exe)
}

// Once a container runs, its monitor is the small skiff-monitor-idle (the
// same process: same pid), and it still does the monitor's work: the log,
// the healthcheck, attach (input in, output and the exit out), and the
// restart policy after the init is killed, after which it is the idle
// binary again.
func TestMonitorBecomesIdle(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "-i", "--name", "idle", "--network", "none", "--restart", "always",
			"--health-cmd", "true", "--health-interval", "300ms", bb,
			"sh", "-c", `echo hello; while read l; do echo "got $l"; done; echo eof`).MustSucceed(t).Out()
		var pid int
		eventually(t, 5*time.Second, "the monitor did not become skiff-monitor-idle", func() bool {
			var exe string
			pid, exe = monitorExe(t, s, id)
			return exe == "skiff-monitor-idle"
		})
		eventually(t, 5*time.Second, "no output in the log", func() bool {
			return s.Run("logs", "idle").MustSucceed(t).Stdout == "hello\n"
		})
		eventually(t, 5*time.Second, "the healthcheck did not turn healthy", func() bool {
			return inspectHealth(t, s, "idle").Status == "healthy"
		})
		s.Run("healthcheck", "run", "idle").Assert(t, Expect{Code: 0, Stdout: "healthy"})

		// attach: the input reaches the container, its output and its
		// exit (at the end of input) come back; the policy restarts it.
		got := s.RunStdin(strings.NewReader("one\n"), "attach", "idle").MustSucceed(t).Stdout
		if !strings.Contains(got, "got one\neof\n") {
			t.Errorf("attach output %q, want the container's answer and its end", got)
		}
		eventually(t, 10*time.Second, "the container was not restarted after its exit", func() bool {
			return inspectOut(t, s, "idle", "{{.RestartCount}} {{.State.Status}}") == "1 running"
		})

		// kill -9 of the container's process: restarted under the same
		// monitor, which becomes the idle binary again.
		initPid, _ := strconv.Atoi(inspectOut(t, s, "idle", "{{.State.Pid}}"))
		if initPid <= 0 {
			t.Fatalf("State.Pid %d", initPid)
		}
		syscall.Kill(initPid, syscall.SIGKILL)
		eventually(t, 10*time.Second, "the container was not restarted after kill -9", func() bool {
			return inspectOut(t, s, "idle", "{{.RestartCount}} {{.State.Status}}") == "2 running"
		})
		eventually(t, 5*time.Second, "the restarted container's monitor is not the idle binary", func() bool {
			p, exe := monitorExe(t, s, id)
			return p == pid && exe == "skiff-monitor-idle"
		})
		var logged string
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(logged, "hello\n") != 3 {
			if time.Now().After(deadline) {
				t.Fatalf("after 5s the log holds %d greetings, want 3 (one per start): %q", strings.Count(logged, "hello\n"), logged)
			}
			time.Sleep(50 * time.Millisecond)
			logged = s.Run("logs", "idle").MustSucceed(t).Stdout
		}
		if got := inspectOut(t, s, "idle", "{{.State.Health.Status}}"); got != "starting" && got != "healthy" {
			t.Errorf("health after the restart: %q", got)
		}

		// stop ends it for good, and the exit is recorded.
		s.Run("stop", "-t", "1", "idle").MustSucceed(t)
		if got := inspectOut(t, s, "idle", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}"); got != "exited 137 2" {
			t.Errorf("after stop: %q", got)
		}
		s.Run("rm", "idle").MustSucceed(t)
		waitNoMonitors(t, s, 5*time.Second)
	})
}

// A rootful container on the default bridge network goes idle too (the
// resumed monitor rebuilds the network's undo steps: its veth is gone after
// the exit); rootless, the default network is slirp4netns, which belongs to
// the monitor that started it, so that monitor stays.
func TestMonitorIdleNetwork(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "net", "--restart", "always", bb, "sleep", "100").MustSucceed(t).Out()
		want := "skiff-monitor-idle"
		if s.Rootless() {
			want = "skiff-monitor"
			time.Sleep(time.Second) // it would have become idle by now
		}
		eventually(t, 5*time.Second, "the monitor is not "+want, func() bool {
			_, exe := monitorExe(t, s, id)
			return exe == want
		})
		initPid, _ := strconv.Atoi(inspectOut(t, s, "net", "{{.State.Pid}}"))
		syscall.Kill(initPid, syscall.SIGKILL)
		eventually(t, 10*time.Second, "the container was not restarted after kill -9", func() bool {
			return inspectOut(t, s, "net", "{{.RestartCount}} {{.State.Status}}") == "1 running"
		})
		if !s.Rootless() {
			// The restarted container has its network again.
			if got := s.Run("exec", "net", "cat", "/sys/class/net/eth0/operstate").MustSucceed(t).Out(); got != "up" {
				t.Errorf("eth0 after the restart: %q", got)
			}
		}
		s.Run("rm", "-f", "net").MustSucceed(t)
		waitNoMonitors(t, s, 5*time.Second)
		if !s.Rootless() {
			// ip asks this network namespace (sysfs shows its mounter's).
			out, err := exec.Command("ip", "-o", "link").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "lo:") {
				t.Fatalf("ip -o link: %v %s", err, out)
			}
			if veth := "veth" + id[:8]; strings.Contains(string(out), veth) {
				t.Errorf("the container's veth %s… outlived it:\n%s", veth, out)
			}
		}
	})
}

// A container started with a client attached (a foreground run) keeps its
// monitor (skiff-monitor-lean: it has no network) while the client is there (a short run pays no exec there
// and back), and goes idle once its last client leaves: its health carries
// on, its output still reaches the log and a new attach, and the clean-up
// of --rm happens at its end.
func TestMonitorForegroundThenIdle(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		cmd := s.Cmd("run", "--rm", "-i", "--name", "fg", "--network", "none", "--health-cmd", "true", "--health-interval", "200ms",
			bb, "sh", "-c", `echo up; while read x; do echo "got $x"; done`)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		lines, bg := startStreaming(t, cmd)
		select {
		case l := <-lines:
			if l.Text != "up" {
				t.Fatalf("first line %q\n%s", l.Text, bg)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no output\n%s", bg)
		}
		id := inspectOut(t, s, "fg", "{{.Id}}")
		eventually(t, 5*time.Second, "the healthcheck did not turn healthy", func() bool {
			return inspectHealth(t, s, "fg").Status == "healthy"
		})
		pid, exe := monitorExe(t, s, id)
		if exe != "skiff-monitor-lean" {
			t.Errorf("the foreground run's monitor is %s, want skiff-monitor-lean (--network none)", exe)
		}
		stdin.Write([]byte("one\n"))
		if l := <-lines; l.Text != "got one" {
			t.Errorf("second line %q\n%s", l.Text, bg)
		}

		// The client goes (kill -9): the monitor becomes idle, the same process.
		bg.cmd.Process.Kill()
		bg.wait(t, 10*time.Second)
		eventually(t, 5*time.Second, "the monitor did not become idle once its client left", func() bool {
			p, exe := monitorExe(t, s, id)
			return p == pid && exe == "skiff-monitor-idle"
		})
		if h := inspectHealth(t, s, "fg").Status; h != "healthy" {
			t.Errorf("health after going idle: %q, want healthy carried on", h)
		}
		if logs := s.Run("logs", "fg").Stdout; logs != "up\ngot one\n" {
			t.Errorf("logs: %q", logs)
		}
		// Its input's end (attach's, StdinOnce) ends the container.
		got := s.RunStdin(strings.NewReader("two\n"), "attach", "fg").MustSucceed(t).Stdout
		if !strings.Contains(got, "got two\n") {
			t.Errorf("attach to the idle monitor: %q", got)
		}
		waitNoMonitors(t, s, 10*time.Second)
		eventually(t, 10*time.Second, "the --rm container was not removed at its end", func() bool {
			return len(psIDs(t, s)) == 0
		})
	})
}

// An exec's monitor is skiff-monitor-lean whatever the container's network
// (it joins the container's namespaces and sets up none), and so is the
// process libcontainer re-executes to enter the container; a container
// with the default network keeps skiff-monitor, which sets it up.
func TestMonitorLeanForExec(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "withnet", bb, "sleep", "100").MustSucceed(t).Out()
		// In the foreground: a detached exec's monitor exits once it started.
		cmd := s.Cmd("exec", "withnet", "sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		var execs []string
		eventually(t, 5*time.Second, "no exec monitor runs", func() bool {
			execs = nil
			for _, p := range monitors(s) {
				if p.args[1] == "exec" {
					exe, _ := os.Readlink("/proc/" + strconv.Itoa(p.pid) + "/exe")
					execs = append(execs, filepath.Base(exe))
				}
			}
			return len(execs) > 0
		})
		if len(execs) != 1 || execs[0] != "skiff-monitor-lean" {
			t.Errorf("the exec's monitor is %v, want skiff-monitor-lean", execs)
		}
		// Rootless it keeps slirp4netns, so it stays; rootful the bridge's
		// monitor goes idle, and is to become skiff-monitor again (its
		// Handoff's "monitor").
		pid, exe := monitorExe(t, s, id)
		switch env, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ"); {
		case s.Rootless() && exe != "skiff-monitor":
			t.Errorf("the monitor of a container with a network is %s, want skiff-monitor", exe)
		case !s.Rootless() && exe == "skiff-monitor-idle" && !bytes.Contains(env, []byte(`/skiff-monitor"`+"\n")):
			t.Errorf("the idle monitor of a container with a network is to become another than skiff-monitor: %q", env)
		case !s.Rootless() && exe != "skiff-monitor-idle" && exe != "skiff-monitor":
			t.Errorf("the monitor of a container with a network is %s, want skiff-monitor or its idle form", exe)
		}
	})
}
