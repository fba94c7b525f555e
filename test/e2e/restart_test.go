package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// inspectOut is one --format field of inspect.
func inspectOut(t *testing.T, s *Skiff, name, format string) string {
	t.Helper()
	return s.Run("inspect", "-f", format, name).MustSucceed(t).Out()
}

// on-failure:3 on a command that fails: three restarts (each run writes the
// same log), then exited for good with RestartCount 3.
func TestRestartOnFailure(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "fail", "--restart", "on-failure:3", bb, "sh", "-c", "echo run; exit 1").MustSucceed(t).Out()
		// The backoffs are 100, 200 and 400 ms.
		eventually(t, 15*time.Second, "on-failure:3 did not end exited after 3 restarts", func() bool {
			return inspectOut(t, s, "fail", "{{.State.Status}} {{.RestartCount}}") == "exited 3"
		})
		if got := inspectOut(t, s, "fail", "{{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.State.Restarting}}"); got != "1 on-failure:3 false" {
			t.Errorf("inspect: exit code, policy, restarting = %q", got)
		}
		waitStatus(t, s, "fail", "Exited (1)", 5*time.Second)
		time.Sleep(500 * time.Millisecond) // a fourth restart would come within 800 ms
		if got := inspectOut(t, s, "fail", "{{.State.Status}} {{.RestartCount}}"); got != "exited 3" {
			t.Errorf("after giving up: %q", got)
		}
		if got := s.Run("logs", "fail").MustSucceed(t).Stdout; got != strings.Repeat("run\n", 4) {
			t.Errorf("logs of 4 runs = %q", got)
		}
		// A success is not restarted.
		s.Run("run", "-d", "--name", "ok", "--restart", "on-failure", bb, "true").MustSucceed(t)
		waitStatus(t, s, "ok", "Exited (0)", 10*time.Second)
		time.Sleep(300 * time.Millisecond)
		if got := inspectOut(t, s, "ok", "{{.State.Status}} {{.RestartCount}}"); got != "exited 0" {
			t.Errorf("on-failure after exit 0: %q", got)
		}
		s.Run("rm", "fail", "ok").MustSucceed(t)
		requireClean(t, s, "rm", id)
	})
}

// A container that keeps failing shows "Restarting (N) ... ago" between its
// runs; stop during the backoff ends the policy at once.
func TestRestartBackoffStop(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "flap", "--restart", "always", bb, "sh", "-c", "exit 3").MustSucceed(t).Out()
		// The fifth backoff lasts 1.6 s: long enough to look at it.
		eventually(t, 15*time.Second, "the container is not in its fifth backoff", func() bool {
			return inspectOut(t, s, "flap", "{{.State.Status}} {{.RestartCount}}") == "restarting 5"
		})
		if got := inspectOut(t, s, "flap", "{{.State.Status}} {{.State.Restarting}} {{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}"); got != "restarting true true 0 3" {
			t.Errorf("inspect during a backoff: %q", got)
		}
		waitStatus(t, s, "flap", "Restarting (3) ", time.Second)
		if got := s.Run("ps", "-q", "--no-trunc", "--filter", "status=restarting").MustSucceed(t).Out(); got != id {
			t.Errorf("ps --filter status=restarting = %q", got)
		}
		start := time.Now()
		s.Run("stop", "flap").Assert(t, Expect{Stdout: "flap"})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stop of a restarting container took %v", d)
		}
		if got := inspectOut(t, s, "flap", "{{.State.Status}} {{.State.Restarting}}"); got != "exited false" {
			t.Errorf("after stop: %q", got)
		}
		count := inspectOut(t, s, "flap", "{{.RestartCount}}")
		time.Sleep(time.Second)
		if got := inspectOut(t, s, "flap", "{{.State.Status}} {{.RestartCount}}"); got != "exited "+count {
			t.Errorf("a stopped container restarted: %q (count was %s)", got, count)
		}
		s.Run("rm", "flap").MustSucceed(t)
		requireClean(t, s, "rm", id)
	})
}

// always survives kill -9 of its process, but not stop or kill; a user's
// restart keeps the policy; rm -f ends it.
func TestRestartAlways(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "svc", "--restart", "always", bb, "sh", "-c", `echo up; trap "exit 0" TERM; while :; do sleep 0.1; done`).MustSucceed(t).Out()
		// restarted waits for the container to run again after its init was killed.
		restarted := func(what string, old proc, count string) proc {
			t.Helper()
			syscall.Kill(old.pid, syscall.SIGKILL)
			eventually(t, 10*time.Second, what+": not restarted", func() bool {
				return inspectOut(t, s, "svc", "{{.State.Status}} {{.RestartCount}}") == "running "+count
			})
			next := containerInit(t, s, "svc")
			if next.pid == old.pid || old.alive() {
				t.Fatalf("%s: the init %v is still the one killed", what, next)
			}
			return next
		}
		init := restarted("kill -9 of the init", containerInit(t, s, "svc"), "1")
		waitStatus(t, s, "svc", "Up", 5*time.Second)
		s.Run("exec", "svc", "true").MustSucceed(t)
		eventually(t, 5*time.Second, "the restarted run writes the same log", func() bool {
			return s.Run("logs", "svc").MustSucceed(t).Stdout == "up\nup\n"
		})

		s.Run("stop", "svc").MustSucceed(t)
		if init.alive() {
			t.Errorf("stop left the init running")
		}
		time.Sleep(500 * time.Millisecond)
		if got := inspectOut(t, s, "svc", "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
			t.Errorf("after stop: %q", got)
		}

		s.Run("start", "svc").MustSucceed(t)
		waitStatus(t, s, "svc", "Up", 5*time.Second)
		s.Run("kill", "svc").MustSucceed(t)
		waitStatus(t, s, "svc", "Exited (137)", 10*time.Second)
		time.Sleep(500 * time.Millisecond)
		if got := inspectOut(t, s, "svc", "{{.State.Status}}"); got != "exited" {
			t.Errorf("after kill: %q", got)
		}

		// restart: a new run, the policy kept (the count starts again).
		s.Run("start", "svc").MustSucceed(t)
		s.Run("restart", "-t", "1", "svc").MustSucceed(t)
		restarted("kill -9 after a restart", containerInit(t, s, "svc"), "1")

		s.Run("rm", "-f", "svc").MustSucceed(t)
		requireClean(t, s, "rm -f", id)
	})
}

// After a reboot (monitors and containers killed at once, the run root
// emptied) system boot starts the always and unless-stopped containers,
// and not a "no" one or an unless-stopped one the user had stopped.
func TestRestartSystemBoot(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		loop := []string{"sh", "-c", `trap "exit 0" TERM; while :; do sleep 0.1; done`}
		ids := map[string]string{}
		for _, c := range []struct{ name, policy string }{{"always", "always"}, {"no", "no"}, {"unless", "unless-stopped"}, {"stopped", "unless-stopped"}} {
			ids[c.name] = s.Run(append([]string{"run", "-d", "--name", c.name, "--restart", c.policy, bb}, loop...)...).MustSucceed(t).Out()
		}
		s.Run("stop", "stopped").MustSucceed(t)
		var procs []proc
		for _, name := range []string{"always", "no", "unless"} {
			procs = append(procs, monitorOf(t, s, ids[name]), containerInit(t, s, name))
		}
		for _, p := range procs {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		eventually(t, 10*time.Second, "the monitors and containers die", func() bool {
			return !slices.ContainsFunc(procs, proc.alive)
		})
		emptyRunRoot(t, s)
		for _, name := range []string{"always", "no", "unless", "stopped"} {
			waitStatus(t, s, name, "Exited", 5*time.Second)
		}

		got := s.Run("system", "boot").MustSucceed(t).Lines()
		slices.Sort(got)
		want := []string{ids["always"], ids["unless"]}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("system boot printed %q, want %q", got, want)
		}
		waitStatus(t, s, "always", "Up", 5*time.Second)
		waitStatus(t, s, "unless", "Up", 5*time.Second)
		for _, name := range []string{"no", "stopped"} {
			if st := inspectOut(t, s, name, "{{.State.Status}}"); st != "exited" {
				t.Errorf("%s after system boot: %s", name, st)
			}
		}
		// The started ones have their policy still.
		restartedInit := containerInit(t, s, "always")
		syscall.Kill(restartedInit.pid, syscall.SIGKILL)
		eventually(t, 10*time.Second, "the always container booted is not restarted after kill -9", func() bool {
			return inspectOut(t, s, "always", "{{.State.Status}} {{.RestartCount}}") == "running 1"
		})
		if got := s.Run("system", "boot").MustSucceed(t).Out(); got != "" {
			t.Errorf("a second system boot started %q", got)
		}
		s.Run("rm", "-f", "always", "no", "unless", "stopped").MustSucceed(t)
		requireClean(t, s, "rm -f", ids["always"], ids["unless"])
	})
}

// Bad restart policies: one line, exit 125, nothing created.
func TestRestartBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		refusedFlags(t, s, bb, []refused{
			{[]string{"--restart", "sometimes"}, `invalid restart policy: unknown policy "sometimes"`},
			{[]string{"--restart", "on-failure:-1"}, "invalid restart policy: maximum retry count cannot be negative"},
			{[]string{"--restart", "always:2"}, "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
			{[]string{"--restart", "unless-stopped:1"}, "maximum retry count can only be used with 'on-failure'"},
			{[]string{"--restart", "always", "--rm"}, "Conflicting options: --restart and --rm"},
			{[]string{"--restart", "on-failure:x"}, "the maximum retry count must be an integer"},
		})
		requireNoContainers(t, s, "refused restart policies")
		if entries, _ := os.ReadDir(filepath.Join(s.Root, "containers")); len(entries) != 0 {
			t.Errorf("container directories left: %v", entries)
		}
	})
}

// A restarted container gets its network again: its published port answers
// after kill -9 of its process (the monitor released the port and bound it
// again for the new run).
func TestRestartKeepsPublishedPort(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		port := hostPort(t)
		id := s.Run("run", "-d", "--name", "web", "--restart", "always", "-p", "127.0.0.1:"+strconv.Itoa(port)+":80", bb, "sh", "-c", webScript).MustSucceed(t).Out()
		url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
		if got := fetch(t, s, url); got != "hello-from-web" {
			t.Fatalf("GET / before the restart: %q", got)
		}
		syscall.Kill(containerInit(t, s, "web").pid, syscall.SIGKILL)
		eventually(t, 10*time.Second, "not restarted after kill -9", func() bool {
			return inspectOut(t, s, "web", "{{.State.Status}} {{.RestartCount}}") == "running 1"
		})
		if got := fetch(t, s, url); got != "hello-from-web" {
			t.Fatalf("GET / after the restart: %q", got)
		}
		s.Run("rm", "-f", "web").MustSucceed(t)
		requireNoNetworkLeft(t, s, "rm -f of a restarted container", id, port)
		requireClean(t, s, "rm -f", id)
	})
}

// kill -9 of the monitor takes the container down with it (its
// parent-death signal), and nothing restarts it.
func TestRestartMonitorKilled(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--name", "orphan", "--restart", "always", bb, "sleep", "1000").MustSucceed(t).Out()
		init, mon := containerInit(t, s, "orphan"), monitorOf(t, s, id)
		syscall.Kill(mon.pid, syscall.SIGKILL)
		eventually(t, 10*time.Second, "the container outlived its monitor", func() bool { return !init.alive() })
		waitStatus(t, s, "orphan", "Exited (255)", 5*time.Second)
		time.Sleep(500 * time.Millisecond)
		if got := inspectOut(t, s, "orphan", "{{.State.Status}} {{.RestartCount}}"); got != "exited 0" {
			t.Errorf("after kill -9 of the monitor: %q", got)
		}
		if len(monitors(s)) != 0 {
			t.Errorf("a monitor runs after kill -9 of the container's: %v", monitors(s))
		}
		s.Run("rm", "orphan").MustSucceed(t)
		requireClean(t, s, "rm", id)
	})
}
