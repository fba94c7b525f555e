package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stop: the timeout then SIGKILL for a process that ignores SIGTERM; quick
// with --init; kill -s; restart; wait.
func TestContainerStopKillRestart(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "stubborn", bb, "sh", "-c", `trap "" TERM; sleep 1000`).MustSucceed(t)
		// The slow stop runs while the rest of the case goes on.
		slow := startBackground(t, s.Cmd("stop", "-t", "2", "stubborn"))

		s.Run("run", "-d", "--init", "--name", "polite", bb, "sleep", "1000").MustSucceed(t)
		// A signal that reaches tini before it installs its handlers is
		// dropped (pid 1 of a namespace): wait until it runs its child.
		eventually(t, 10*time.Second, "tini never started sleep", func() bool {
			return strings.Contains(s.Run("top", "polite").Stdout, "sleep 1000")
		})
		if r := s.Run("stop", "polite").MustSucceed(t); r.Duration > 2*time.Second {
			t.Errorf("stop of sleep under --init took %v: the init should pass SIGTERM on", r.Duration)
		}
		if st := status(t, s, "polite"); !strings.HasPrefix(st, "Exited (143)") {
			t.Errorf("status after SIGTERM: %q, want Exited (143)", st)
		}

		// kill -s USR1 reaches the process, which keeps running.
		s.Run("run", "-d", "--name", "sig", bb, "sh", "-c",
			`trap "echo got USR1" USR1; echo ready; while :; do sleep 0.1; done`).MustSucceed(t)
		logsUntil(t, s, "sig", "ready", 10*time.Second)
		s.Run("kill", "-s", "USR1", "sig").Assert(t, Expect{Stdout: "sig"})
		logsUntil(t, s, "sig", "got USR1", 10*time.Second)
		s.Run("kill", "--signal", "SIGUSR1", "sig").MustSucceed(t)
		if out := logsUntil(t, s, "sig", "got USR1\ngot USR1", 10*time.Second); strings.Count(out, "got USR1") != 2 {
			t.Errorf("two USR1, logs:\n%s", out)
		}
		if st := status(t, s, "sig"); !strings.HasPrefix(st, "Up") {
			t.Errorf("after USR1 the container should run, status %q", st)
		}
		s.Run("kill", "-s", "NOSUCHSIG", "sig").MustFail(t, 125, "")
		s.Run("kill", "sig").MustSucceed(t) // SIGKILL by default
		waitStatus(t, s, "sig", "Exited (137)", 10*time.Second)
		s.Run("kill", "sig").MustFail(t, 125, "not running")

		// restart runs the command again in the same container (same writable layer).
		s.Run("run", "-d", "--name", "again", bb, "sh", "-c",
			`echo started >> /starts; trap "exit 0" TERM; while :; do sleep 0.1; done`).MustSucceed(t)
		first := inspect(t, s, "again")
		s.Run("restart", "again").Assert(t, Expect{Stdout: "again"})
		if got := s.Run("exec", "again", "cat", "/starts").MustSucceed(t).Stdout; got != "started\nstarted\n" {
			t.Errorf("after restart the command should have run twice: /starts = %q", got)
		}
		second := inspect(t, s, "again")
		p1, _ := field(first, "State.Pid")
		p2, _ := field(second, "State.Pid")
		s1, _ := field(first, "State.StartedAt")
		s2, _ := field(second, "State.StartedAt")
		if p1 == p2 || s1 == s2 {
			t.Errorf("restart: pid %v → %v, started %v → %v", p1, p2, s1, s2)
		}
		if running, _ := field(second, "State.Running"); running != true {
			t.Errorf("after restart State.Running = %v", running)
		}
		// A stopped container restarts too.
		s.Run("stop", "again").MustSucceed(t)
		s.Run("restart", "again").MustSucceed(t)
		waitStatus(t, s, "again", "Up", 5*time.Second)
		// A --rm container survives a restart (its old run's clean-up must
		// not remove it) and goes when it stops.
		s.Run("run", "-d", "--rm", "--name", "rmre", bb, "sleep", "1000").MustSucceed(t)
		s.Run("restart", "-t", "0", "rmre").MustSucceed(t)
		time.Sleep(500 * time.Millisecond) // the old run's exit command has run by now
		waitStatus(t, s, "rmre", "Up", 5*time.Second)
		s.Run("stop", "-t", "0", "rmre").MustSucceed(t)
		eventually(t, 10*time.Second, "the stopped --rm container is still there", func() bool {
			return s.Run("container", "exists", "rmre").ExitCode == 1
		})

		// wait prints the exit code.
		s.Run("run", "-d", "--name", "nine", bb, "sh", "-c", "sleep 0.5; exit 9").MustSucceed(t)
		if got := s.Run("wait", "nine").MustSucceed(t).Out(); got != "9" {
			t.Errorf("wait printed %q, want 9", got)
		}
		if got := s.Run("wait", "nine").MustSucceed(t).Out(); got != "9" {
			t.Errorf("wait on an exited container printed %q, want 9", got)
		}
		s.Run("wait", "nope").MustFail(t, 125, "No such container")
		// A --rm container is removed as it exits: wait still gets its code.
		s.Run("run", "-d", "--rm", "--name", "gone", bb, "sh", "-c", "sleep 0.5; exit 7").MustSucceed(t)
		if got := s.Run("wait", "gone").MustSucceed(t).Out(); got != "7" {
			t.Errorf("wait on a --rm container printed %q, want 7", got)
		}
		eventually(t, 10*time.Second, "the --rm container is still there", func() bool {
			return s.Run("container", "exists", "gone").ExitCode == 1
		})

		if code := slow.wait(t, 15*time.Second); code != 0 {
			t.Fatalf("stop -t 2 of a shell ignoring SIGTERM:\n%s", slow)
		}
		if slow.dur < 2*time.Second || slow.dur > 5*time.Second {
			t.Errorf("stop -t 2 of a shell ignoring SIGTERM took %v, want the 2 s timeout then SIGKILL", slow.dur)
		}
		if st := status(t, s, "stubborn"); !strings.HasPrefix(st, "Exited (137)") {
			t.Errorf("status after stop by SIGKILL: %q, want Exited (137)", st)
		}
		if code, _ := field(inspect(t, s, "stubborn"), "State.ExitCode"); code != float64(137) {
			t.Errorf("inspect State.ExitCode after SIGKILL: %v", code)
		}
		// --stop-timeout set at run is stop's default.
		s.Run("run", "-d", "--name", "brief", "--stop-timeout", "1", bb, "sh", "-c", `trap "" TERM; sleep 1000`).MustSucceed(t)
		if r := s.Run("stop", "brief").MustSucceed(t); r.Duration < time.Second || r.Duration > 4*time.Second {
			t.Errorf("stop of a container run with --stop-timeout 1 took %v", r.Duration)
		}
		// --stop-signal replaces SIGTERM.
		s.Run("run", "-d", "--name", "usr2", "--stop-signal", "USR2", bb, "sh", "-c", `trap "exit 12" USR2; trap "" TERM; echo trapped; while :; do sleep 0.1; done`).MustSucceed(t)
		// The container's init is its PID 1, which gets only the signals it
		// has a handler for: a stop before the trap is set loses the
		// signal (so does Docker's), which a loaded machine can show.
		eventually(t, 10*time.Second, "the container did not set its trap", func() bool {
			return strings.Contains(s.Run("logs", "usr2").MustSucceed(t).Stdout, "trapped")
		})
		if r := s.Run("stop", "usr2").MustSucceed(t); r.Duration > 3*time.Second {
			t.Errorf("stop with --stop-signal USR2 took %v", r.Duration)
		}
		if st := status(t, s, "usr2"); !strings.HasPrefix(st, "Exited (12)") {
			t.Errorf("status after the stop signal USR2: %q", st)
		}
		// Stopping a stopped container succeeds, as in Docker.
		s.Run("stop", "stubborn").MustSucceed(t)
		s.Run("rm", "-f", "stubborn", "polite", "sig", "again", "nine", "brief", "usr2").MustSucceed(t)
		requireClean(t, s, "rm -f")
	})
}

// rm, rename, exists, prune, inspect.
func TestContainerManage(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "web", "-l", "tier=front", bb, "sleep", "1000").MustSucceed(t).Out()

		// inspect: Docker's keys and values.
		doc := inspect(t, s, "web")
		for path, want := range map[string]any{
			"Id": id, "Name": "/web", "State.Status": "running", "State.Running": true, "State.ExitCode": float64(0),
			"Config.Labels.tier": "front", "Path": "sleep", "Config.Image": bb,
		} {
			if got, ok := field(doc, path); !ok || got != want {
				t.Errorf("inspect %s = %#v, want %#v", path, got, want)
			}
		}
		if cmd, _ := field(doc, "Config.Cmd"); !jsonEqual(cmd, []any{"sleep", "1000"}) {
			t.Errorf("inspect Config.Cmd = %#v", cmd)
		}
		if mode, _ := field(doc, "HostConfig.NetworkMode"); mode == nil || mode == "" {
			t.Errorf("inspect HostConfig.NetworkMode is empty")
		}
		if pid, _ := field(doc, "State.Pid"); pid == nil || pid.(float64) <= 0 {
			t.Errorf("inspect State.Pid of a running container: %v", pid)
		}
		for _, key := range []string{"Created", "Image", "State.StartedAt", "State.FinishedAt", "HostConfig", "Mounts", "Config.Env", "NetworkSettings", "LogPath"} {
			if _, ok := field(doc, key); !ok {
				t.Errorf("inspect lacks %s", key)
			}
		}
		if got := s.Run("inspect", "-f", "{{.State.Running}}", "web").MustSucceed(t).Out(); got != "true" {
			t.Errorf("inspect -f {{.State.Running}} = %q", got)
		}
		if got := s.Run("container", "inspect", "--format", "{{.Name}} {{.State.Status}}", id[:12]).MustSucceed(t).Out(); got != "/web running" {
			t.Errorf("inspect by short ID: %q", got)
		}
		s.Run("container", "inspect", "nope").MustFail(t, 125, "No such container")

		// rm refuses a running container without -f.
		s.Run("rm", "web").MustFail(t, 125, "running")
		if st := status(t, s, "web"); !strings.HasPrefix(st, "Up") {
			t.Fatalf("a refused rm must leave the container running: %q", st)
		}

		// rename: the new name works everywhere, the old one is free.
		s.Run("rename", "web", "web2").MustSucceed(t)
		if got := s.Run("inspect", "-f", "{{.Name}}", id).MustSucceed(t).Out(); got != "/web2" {
			t.Errorf("after rename, Name = %q", got)
		}
		if got := s.Run("ps", "--format", "{{.Names}}").MustSucceed(t).Out(); got != "web2" {
			t.Errorf("after rename, ps shows %q", got)
		}
		s.Run("container", "exists", "web2").MustSucceed(t)
		s.Run("container", "exists", "web").MustFail(t, 1, "")
		s.Run("container", "exists", id).MustSucceed(t)
		s.Run("rename", "nope", "x2").MustFail(t, 125, "No such container")
		s.Run("run", "-d", "--name", "web", bb, "sleep", "1000").MustSucceed(t) // the old name is free again
		s.Run("rename", "web", "web2").MustFail(t, 125, "already in use")
		s.Run("exec", "web2", "true").MustSucceed(t)

		// rm -f removes a running container.
		r := s.Run("rm", "-f", "web2")
		r.Assert(t, Expect{Stdout: "web2"})
		s.Run("container", "exists", "web2").MustFail(t, 1, "")
		s.Run("rm", "-f", "web").MustSucceed(t)
		s.Run("rm", "nope").MustFail(t, 125, "No such container")
		s.Run("rm", "-i", "nope").MustSucceed(t)

		// start -a: the output and the exit code of the container's command.
		s.Run("create", "--name", "attached", bb, "sh", "-c", "echo hello; echo oops >&2; exit 6").MustSucceed(t)
		s.Run("start", "-a", "attached").Assert(t, Expect{Code: 6, Stdout: "hello", Stderr: "oops"})
		s.Run("start", "-a", "attached").Assert(t, Expect{Code: 6, Stdout: "hello"}) // again, once exited
		s.Run("rm", "attached").MustSucceed(t)

		// prune removes the stopped containers, not the running ones.
		keep := s.Run("run", "-d", "--name", "keep", bb, "sleep", "1000").MustSucceed(t).Out()
		s.Run("run", "--name", "done1", bb, "dd", "if=/dev/zero", "of=/50k", "bs=1024", "count=50").MustSucceed(t)
		s.Run("run", "--name", "done2", bb, "sh", "-c", "exit 2").MustFail(t, 2, "")
		created := s.Run("create", "--name", "fresh", bb, "true").MustSucceed(t).Out()
		if st := status(t, s, "fresh"); st != "Created" {
			t.Errorf("status of a created container: %q", st)
		}
		pr := s.Run("container", "prune", "-f").MustSucceed(t)
		if !strings.Contains(pr.Stdout, "Deleted Containers:") || !strings.Contains(pr.Stdout, created) || strings.Contains(pr.Stdout, keep) {
			t.Errorf("prune output:\n%s", pr.Stdout)
		}
		// done1 wrote 50 KiB: Docker's human size of what the layers held.
		if !regexp.MustCompile(`Total reclaimed space: 5\d(\.\d+)?kB\n`).MatchString(pr.Stdout) {
			t.Errorf("prune should report about 51kB reclaimed:\n%s", pr.Stdout)
		}
		if got := psIDs(t, s); len(got) != 1 || got[0] != keep {
			t.Errorf("after prune, ps -a lists %q, want only the running %s", got, keep)
		}
		s.Run("rm", "-f", "keep").MustSucceed(t)
		requireClean(t, s, "rm and prune", id, keep, created)
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// A foreground run passes the signals a shell sends it on to the
// container's process (Docker's --sig-proxy, on by default), and exits with
// what the process then exits with.
func TestRunProxiesSignals(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		cmd := s.Cmd("run", "--rm", "--name", "proxied", bb, "sh", "-c",
			`trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done`)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		lines := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		next := func(want string) {
			t.Helper()
			select {
			case l := <-lines:
				if l != want {
					t.Fatalf("line %q, want %q", l, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no %q within 10s", want)
			}
		}
		next("ready")
		cmd.Process.Signal(syscall.SIGUSR1)
		next("got USR1")
		cmd.Process.Signal(syscall.SIGTERM)
		next("got TERM")
		for range lines {
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("skiff run exited with %v, want 7 (the container's exit after its TERM trap)", err)
		}
	})
}

// Signals stay caught until skiff exits. SIGTERM sent every 2 ms to a
// foreground run and to an exec, from the process's first line to skiff's
// exit, is passed on (the process ignores it) and never kills skiff, in
// the clean-up after the process's end too: skiff exits with the process's
// own code, not 143.
func TestSignalsCaughtUntilTheExit(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		spammed := func(what string, cmd *exec.Cmd, want int) {
			t.Helper()
			lines, bg := startStreaming(t, cmd)
			select {
			case l := <-lines:
				if l.Text != "up" {
					t.Fatalf("%s: first line %q, want up\n%s", what, l.Text, bg)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: no first line within 30s\n%s", what, bg)
			}
			n := 0
			for running := true; running; {
				select {
				case <-bg.done:
					running = false
				default:
					cmd.Process.Signal(syscall.SIGTERM)
					n++
					time.Sleep(2 * time.Millisecond)
				}
			}
			if code := bg.wait(t, time.Second); code != want {
				t.Errorf("%s under %d SIGTERMs exited %d, want %d\n%s", what, n, code, want, bg)
			}
			if n < 50 {
				t.Errorf("%s: only %d SIGTERMs sent", what, n)
			}
		}
		spammed("skiff run", s.Cmd("run", "--rm", "--name", "spammed", bb, "sh", "-c", `trap "" TERM; echo up; sleep 0.5; exit 3`), 3)
		s.Run("run", "-d", "--name", "spamtarget", bb, "sleep", "60").MustSucceed(t)
		defer s.Run("rm", "-f", "spamtarget")
		spammed("skiff exec", s.Cmd("exec", "spamtarget", "sh", "-c", `trap "" TERM; echo up; sleep 0.5; exit 4`), 4)
		if r := s.Run("ps", "-a", "--format", "{{.Names}}"); strings.Contains(r.Stdout, "spammed") {
			t.Errorf("the spammed run --rm left its container: %q", r.Stdout)
		}
	})
}
