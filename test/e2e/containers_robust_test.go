package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A container started with run -d keeps running when the shell (and the
// terminal) that started it go away.
func TestContainerOutlivesShell(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		con, sh := startOnConsole(t, s, s.Command("/bin/sh", "-c", skiffShell(s, "run", "-d", "--name", "survivor", bb, "sleep", "1000")+"; echo shell-done"))
		if code := sh.wait(t, 15*time.Second); code != 0 {
			t.Fatalf("sh -c 'skiff run -d ...': exit %d\n%q", code, con.out.String())
		}
		con.out.waitFor(t, "shell-done", 5*time.Second)
		con.master.Close() // hang up the terminal: its session gets SIGHUP
		time.Sleep(500 * time.Millisecond)
		if st := status(t, s, "survivor"); !strings.HasPrefix(st, "Up") {
			t.Fatalf("after the shell and its terminal are gone, status %q, want Up", st)
		}
		s.Run("exec", "survivor", "true").MustSucceed(t)
		s.Run("rm", "-f", "survivor").MustSucceed(t)
		requireClean(t, s, "rm -f")
	})
}

// Many clients at once: run -d and rm -f in parallel leave nothing behind.
func TestContainerParallelRunRemove(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		const workers, rounds = 20, 2
		var mu sync.Mutex
		var failures []string
		var ids []string
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rounds {
					r := s.Run("run", "-d", "--name", "par-"+strconv.Itoa(w)+"-"+strconv.Itoa(i), bb, "sleep", "1000")
					id := r.Out()
					if r.ExitCode != 0 || !hexID.MatchString(id) {
						mu.Lock()
						failures = append(failures, r.String())
						mu.Unlock()
						continue
					}
					rm := s.Run("rm", "-f", id)
					mu.Lock()
					ids = append(ids, id)
					if rm.ExitCode != 0 {
						failures = append(failures, rm.String())
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("%d of %d run -d/rm -f failed; first:\n%s", len(failures), workers*rounds, failures[0])
		}
		requireClean(t, s, "parallel run -d and rm -f", ids...)
	})
}

// A name is given to one container only, however many ask at once.
func TestContainerNameUnique(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		const n = 10
		results := make([]*Result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.Run("run", "-d", "--name", "same", bb, "sh", "-c", "echo run >> /runs; exec sleep 1000")
			}()
		}
		wg.Wait()
		var won []*Result
		for _, r := range results {
			switch {
			case r.ExitCode == 0:
				won = append(won, r)
			case r.ExitCode != 125 || !strings.Contains(r.Stderr, "already in use"):
				t.Errorf("a losing run --name same should exit 125 'already in use':\n%s", r)
			}
		}
		if len(won) != 1 {
			t.Fatalf("%d of %d parallel run --name same succeeded, want exactly 1", len(won), n)
		}
		if got := psIDs(t, s); len(got) != 1 || got[0] != won[0].Out() {
			t.Fatalf("ps -a lists %q, want only the winner %s", got, won[0].Out())
		}
		if st := status(t, s, "same"); !strings.HasPrefix(st, "Up") {
			t.Fatalf("the winner: %q", st)
		}
		s.Run("run", "--rm", "--name", "same", bb, "true").MustFail(t, 125, "already in use")

		// Parallel stops, then parallel starts, of one container: all succeed
		// (stopping a stopped and starting a running container are no-ops).
		for _, op := range [][]string{{"stop", "-t", "0", "same"}, {"start", "same"}} {
			for i := range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = s.Run(op...)
				}()
			}
			wg.Wait()
			for _, r := range results[:5] {
				if r.ExitCode != 0 {
					t.Errorf("one of 5 parallel %s:\n%s", op[0], r)
				}
			}
		}
		if st := status(t, s, "same"); !strings.HasPrefix(st, "Up") || len(monitors(s)) != 1 {
			t.Fatalf("after parallel starts: status %q, monitors %v, want Up with one monitor", st, monitors(s))
		}
		// One of the starts started it, the others found it running.
		if got := s.Run("exec", "same", "cat", "/runs").MustSucceed(t).Stdout; got != "run\nrun\n" {
			t.Errorf("after run -d, stop and 5 parallel starts, the container ran %d times, want 2", strings.Count(got, "run"))
		}
		s.Run("rm", "-f", "same").MustSucceed(t)
		requireClean(t, s, "rm -f")
	})
}

// kill -9 of a container's monitor: ps shows it exited and rm -f cleans
// up everything, the container's processes included.
func TestContainerKilledMonitor(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		// SIGTERM to a monitor (a system shutdown) stops its container like
		// `stop` does, and the exit is recorded.
		id := s.Run("run", "-d", "--init", "--name", "termed", bb, "sh", "-c", "echo up; exec sleep 1000").MustSucceed(t).Out()
		// A signal that reaches the init before tini installs its handlers
		// is dropped (pid 1 of a namespace): wait until tini runs the child.
		eventually(t, 10*time.Second, "the container never printed up", func() bool {
			return s.Run("logs", "termed").Stdout == "up\n"
		})
		syscall.Kill(monitorOf(t, s, id).pid, syscall.SIGTERM)
		waitStatus(t, s, "termed", "Exited (143)", 10*time.Second)
		s.Run("rm", "termed").MustSucceed(t)
		requireClean(t, s, "SIGTERM to the monitor, then rm", id)
		// As stop: a container that ignores its stop signal is killed after
		// its stop timeout.
		id = s.Run("run", "-d", "--stop-timeout", "1", "--name", "deaf", bb, "sh", "-c", "trap '' TERM; echo up; while true; do sleep 0.1; done").MustSucceed(t).Out()
		eventually(t, 10*time.Second, "the container never printed up", func() bool {
			return s.Run("logs", "deaf").Stdout == "up\n"
		})
		syscall.Kill(monitorOf(t, s, id).pid, syscall.SIGTERM)
		waitStatus(t, s, "deaf", "Exited (137)", 10*time.Second)
		s.Run("rm", "deaf").MustSucceed(t)

		id = s.Run("run", "-d", "--name", "orphan", bb, "sleep", "1000").MustSucceed(t).Out()
		init := containerInit(t, s, "orphan")
		mon := monitorOf(t, s, id)
		if err := syscall.Kill(mon.pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the killed monitor is still alive", func() bool { return !mon.alive() })
		waitStatus(t, s, "orphan", "Exited", 10*time.Second)
		if got := s.Run("ps", "-q").MustSucceed(t).Out(); got != "" {
			t.Errorf("ps (running only) still lists %q", got)
		}
		if v := s.Run("inspect", "-f", "{{.State.Running}}", "orphan").MustSucceed(t).Out(); v != "false" {
			t.Errorf("inspect State.Running = %s", v)
		}
		// start replaces what the dead monitor left with a fresh run.
		s.Run("start", "orphan").MustSucceed(t)
		waitStatus(t, s, "orphan", "Up", 5*time.Second)
		if init.alive() {
			t.Errorf("start of a container whose monitor was killed left the old process (pid %d) running", init.pid)
		}
		init = containerInit(t, s, "orphan")
		s.Run("exec", "orphan", "true").MustSucceed(t)

		syscall.Kill(monitorOf(t, s, id).pid, syscall.SIGKILL)
		waitStatus(t, s, "orphan", "Exited", 10*time.Second)
		s.Run("rm", "-f", "orphan").MustSucceed(t)
		eventually(t, 10*time.Second, "rm -f left the container's process running", func() bool { return !init.alive() })
		requireClean(t, s, "rm -f of a container whose monitor was killed", id)
	})
}

// After a reboot the run root is empty: containers show Exited and start again.
func TestContainerEmptiedRunRoot(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "reboot", bb, "sh", "-c", `echo run >> /runs; trap "exit 0" TERM; while :; do sleep 0.1; done`).MustSucceed(t).Out()
		init := containerInit(t, s, "reboot")
		mon := monitorOf(t, s, id)
		// What a power cut does: everything dies at once, nothing is recorded.
		syscall.Kill(mon.pid, syscall.SIGKILL)
		syscall.Kill(init.pid, syscall.SIGKILL)
		eventually(t, 10*time.Second, "the monitor and the container die", func() bool { return !mon.alive() && !init.alive() })
		emptyRunRoot(t, s)

		waitStatus(t, s, "reboot", "Exited", 5*time.Second)
		s.Run("start", "reboot").Assert(t, Expect{Stdout: "reboot"})
		waitStatus(t, s, "reboot", "Up", 5*time.Second)
		// "Up" comes before the shell's first line: wait for its append.
		eventually(t, 5*time.Second, "after the start, /runs does not show two runs of the same container", func() bool {
			return s.Run("exec", "reboot", "cat", "/runs").Stdout == "run\nrun\n"
		})
		s.Run("stop", "reboot").MustSucceed(t)
		s.Run("rm", "reboot").MustSucceed(t)
		requireClean(t, s, "stop and rm after the run root was emptied", id)
	})
}

// emptyRunRoot removes what a reboot removes from the run root (tmpfs).
// Rootless, `system migrate` first ends the pause process and its
// namespaces, as a reboot would, and its files stay.
func emptyRunRoot(t *testing.T, s *Skiff) {
	t.Helper()
	if s.Rootless() {
		s.Run("system", "migrate").MustSucceed(t)
	}
	entries, err := os.ReadDir(s.RunRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "pause") || strings.HasPrefix(e.Name(), ".pause") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.RunRoot, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	// Rootful, the root filesystem stays mounted (a reboot would end the
	// mount too): skiff must cope with a mount it has no record of.
}

// After rm nothing of a container is left: no mount, no monitor, no
// run-root state; a stopped container holds no mount either.
func TestContainerNoLeaks(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "leak", bb, "sleep", "1000").MustSucceed(t).Out()
		if len(containerMounts(t, s)) == 0 {
			t.Errorf("a running container should have its root filesystem mounted (is the check blind?)")
		}
		// Right after the start the monitor may be in its execve into
		// skiff-monitor-idle, with no command line for that instant.
		eventually(t, 2*time.Second, "a running container has not one monitor", func() bool { return len(monitors(s)) == 1 })
		if len(runState(s, id)) != 2 {
			t.Errorf("a running container: monitors %v, run-root state %q", monitors(s), runState(s, id))
		}
		s.Run("exec", "leak", "true").MustSucceed(t)
		s.Run("stop", "-t", "0", "leak").MustSucceed(t)
		waitNoMonitors(t, s, 10*time.Second)
		eventually(t, 10*time.Second, "a stopped container still holds mounts or run-root state", func() bool {
			return len(containerMounts(t, s)) == 0 && len(runState(s, id)) == 0
		})
		s.Run("start", "leak").MustSucceed(t)
		s.Run("rm", "-f", "leak").MustSucceed(t)
		requireClean(t, s, "rm -f", id)

		// run -d --rm: the container removes itself when it exits.
		gone := s.Run("run", "-d", "--rm", bb, "sh", "-c", "sleep 0.3").MustSucceed(t).Out()
		eventually(t, 10*time.Second, "run -d --rm: the exited container is still listed", func() bool { return len(psIDs(t, s)) == 0 })
		requireClean(t, s, "run -d --rm", gone)

		// The same for a foreground run, with and without --rm.
		s.Run("run", "--name", "fg", bb, "true").MustSucceed(t)
		s.Run("rm", "fg").MustSucceed(t)
		s.Run("run", "--rm", bb, "true").MustSucceed(t)
		requireClean(t, s, "foreground runs")
		if m := mounts(t, s); len(m) > 0 && !s.Rootless() {
			t.Errorf("with no container left, mounts remain below the test directory: %q", m)
		}
	})
}

// Bad input fails with 125 and a message that says what is wrong, and
// leaves no container behind.
func TestContainerBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "taken", bb, "sleep", "1000").MustSucceed(t)
		s.Run("create", "--name", "idle", bb, "true").MustSucceed(t)
		before := psIDs(t, s)
		check := func(what string, r *Result, code int, msg string) {
			t.Helper()
			r.MustFail(t, code, msg)
			if got := psIDs(t, s); strings.Join(got, ",") != strings.Join(before, ",") {
				t.Fatalf("after %s, ps -a lists %q, want %q", what, got, before)
			}
		}
		check("an unknown image", s.Run("run", "--rm", "no-such-image:1", "true"), 125, "no-such-image")
		check("--pull=never", s.Run("run", "--rm", "--pull=never", "no-such-image:1", "true"), 125, "No such image")
		check("stop nope", s.Run("stop", "nope"), 125, "No such container")
		check("start nope", s.Run("start", "nope"), 125, "No such container")
		check("logs nope", s.Run("logs", "nope"), 125, "No such container")
		check("run -it without a terminal", s.Run("run", "-it", "--rm", bb, "sh"), 125, "not a TTY")
		check("a name in use", s.Run("run", "-d", "--name", "taken", bb, "true"), 125, "already in use")
		check("create with a name in use", s.Run("create", "--name", "idle", bb, "true"), 125, "already in use")
		check("exec into a stopped container", s.Run("exec", "idle", "true"), 125, "not running")
		check("--memory abc", s.Run("run", "--rm", "--memory", "abc", bb, "true"), 125, "invalid --memory")
		missing := filepath.Join(s.Dir, "no-such-dir")
		check("a bind mount of a missing path", s.Run("run", "--rm", "-v", missing+":/data", bb, "true"), 125, "does not exist")
		check("a relative bind destination", s.Run("run", "--rm", "-v", s.Dir+":data", bb, "true"), 125, "")
		check("an invalid name", s.Run("run", "--rm", "--name", "bad name!", bb, "true"), 125, "invalid container name")
		check("an unknown network", s.Run("run", "--rm", "--network", "nosuchnet", bb, "true"), 125, "")
		check("an unknown log driver", s.Run("run", "--rm", "--log-driver", "nosuch", bb, "true"), 125, "log driver")
		check("a relative -w", s.Run("run", "--rm", "-w", "rel", bb, "true"), 125, "absolute")
		check("an unknown flag", s.Run("run", "--no-such-flag", bb, "true"), 125, "")
		for _, cmd := range [][]string{{"run", "--rm"}, {"start"}, {"attach"}, {"exec"}} {
			args := append(append(cmd, "--detach-keys", "bogus"), "taken")
			if cmd[0] == "run" {
				args = append(args[:len(args)-1], bb, "true")
			} else if cmd[0] == "exec" {
				args = append(args, "true")
			}
			check(cmd[0]+" --detach-keys bogus", s.Run(args...), 125, "invalid --detach-keys")
		}
		check("an unknown capability", s.Run("create", "--cap-add", "NOPE", bb, "true"), 125, "unknown capability")
		badProfile := filepath.Join(s.Dir, "bad-seccomp.json")
		if err := os.WriteFile(badProfile, []byte("{not json"), 0o644); err != nil {
			t.Fatal(err)
		}
		check("a seccomp profile that is not JSON", s.Run("create", "--security-opt", "seccomp="+badProfile, bb, "true"), 125, "not valid JSON")
		check("an unknown user", s.Run("run", "--rm", "-u", "nosuchuser", bb, "true"), 0, "nosuchuser")
		if s.Rootless() {
			check("--memory 512m rootless", s.Run("run", "--rm", "--memory", "512m", bb, "true"), 125, "cgroup")
		} else {
			s.Run("run", "--rm", "--memory", "512m", bb, "true").MustSucceed(t)
			id := s.Run("run", "-d", "-m", "512m", bb, "sleep", "1000").MustSucceed(t).Out()
			if got := s.Run("inspect", "-f", "{{.HostConfig.Memory}}", id).MustSucceed(t).Out(); got != "536870912" {
				t.Errorf("inspect HostConfig.Memory = %s", got)
			}
			if got := s.Run("exec", id, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes").MustSucceed(t).Out(); got != "536870912" {
				t.Errorf("the container's memory.limit_in_bytes = %s, want 512m", got)
			}
			s.Run("rm", "-f", id).MustSucceed(t)
		}
		s.Run("rm", "-f", "taken", "idle").MustSucceed(t)
		requireClean(t, s, "bad input")
	})
}

// containerInit is the container's first process, from inspect.
func containerInit(t *testing.T, s *Skiff, name string) proc {
	t.Helper()
	v, _ := field(inspect(t, s, name), "State.Pid")
	f, _ := v.(float64)
	pid := int(f)
	if pid <= 0 {
		t.Fatalf("inspect State.Pid of %s: %v", name, v)
	}
	st, ok := startTime(pid)
	if !ok {
		t.Fatalf("the init of %s (pid %d) does not run", name, pid)
	}
	return proc{pid: pid, start: st}
}

// monitorOf is the container's monitor, from its pid file, checked against /proc.
func monitorOf(t *testing.T, s *Skiff, id string) proc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.RunRoot, "c", id, "monitor.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// A monitor that is between its two programs (skiff-monitor becomes
	// skiff-monitor-idle once the container runs) has no command line for
	// the instant of its execve: look again for a moment.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		for _, p := range monitors(s) {
			if p.pid == pid {
				return p
			}
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("monitor.pid says %d, which is not a skiff-monitor of this test (%v)", pid, monitors(s))
	return proc{}
}
