package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The rootless namespace: what a user sees when the pause process dies,
// when the environment names another run root, and when the account has
// no subordinate ids. Rootless only: rootful skiff has no pause process,
// no XDG run root and maps no ids.

// After kill -9 of the pause process (or system migrate), the next command
// re-makes it inside the namespaces the running containers' monitors still
// hold, so exec and top reach them; with no monitor left, fresh namespaces
// are made and a stopped container starts again.
func TestRootlessPauseKilled(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootless)
	bb := setup(t, s)
	id := s.Run("run", "-d", "--name", "keep", bb, "sleep", "1000").MustSucceed(t).Out()
	mon := monitorOf(t, s, id)
	old := pausePid(t, s.RunRoot)
	oldNS := nsLink(t, old, "user")
	killPause(t, old)

	s.Run("exec", "keep", "echo", "hi").Assert(t, Expect{Stdout: "hi\n"})
	s.Run("top", "keep").Assert(t, Expect{Stdout: "sleep 1000"})
	pause := pausePid(t, s.RunRoot)
	if pause == old {
		t.Fatalf("pause.pid still names the killed pause process %d", old)
	}
	for _, ns := range []string{"user", "mnt"} {
		if got, want := nsLink(t, pause, ns), nsLink(t, mon.pid, ns); got != want {
			t.Errorf("the new pause process is in %s, the container's monitor in %s", got, want)
		}
	}
	s.Run("run", "--rm", bb, "echo", "ok").Assert(t, Expect{Stdout: "ok\n"})
	if got := status(t, s, "keep"); !strings.HasPrefix(got, "Up") {
		t.Errorf("status after the pause was re-made: %q", got)
	}
	// system migrate ends the pause the same way, and says what happens next.
	s.Run("system", "migrate").Assert(t, Expect{Stderr: "WARNING: 1 container(s) still run in the old namespace, so the next skiff command joins it again"})
	s.Run("exec", "keep", "echo", "hi").Assert(t, Expect{Stdout: "hi\n"})
	pause = pausePid(t, s.RunRoot)

	// No monitor left: fresh namespaces, and the container starts in them.
	s.Run("stop", "-t", "0", "keep").MustSucceed(t)
	waitNoMonitors(t, s, 10*time.Second)
	killPause(t, pause)
	s.Run("start", "keep").MustSucceed(t)
	s.Run("exec", "keep", "echo", "again").Assert(t, Expect{Stdout: "again\n"})
	if fresh := pausePid(t, s.RunRoot); nsLink(t, fresh, "user") == oldNS {
		t.Errorf("with no monitor running, the pause process %d kept the old user namespace", fresh)
	}
	s.Run("rm", "-f", "keep").MustSucceed(t)
}

// A store is used with the run root it was first used with (recorded in
// the graph root) whatever XDG_RUNTIME_DIR says, as long as that run root
// exists; after a reboot (it is gone) the environment's is adopted.
func TestRootlessRunRootRecorded(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootless)
	bb := setup(t, s)
	id := s.Run("run", "-d", "--name", "keep", bb, "sleep", "1000").MustSucceed(t).Out()
	pause := pausePid(t, s.RunRoot)

	other := filepath.Join(s.Dir, "other", "run") // below Dir/*/run/skiff, where the cleanup looks too
	rootOwned := filepath.Join(s.Dir, "root-run") // what `su` leaves: the previous user's directory
	for _, d := range []string{filepath.Dir(other), other, rootOwned} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.Chown(filepath.Dir(other))
	s.Chown(other)
	for _, env := range []struct{ name, xdg string }{
		{"another XDG_RUNTIME_DIR", other},
		{"root's XDG_RUNTIME_DIR", rootOwned},
		{"no XDG_RUNTIME_DIR", ""},
	} {
		s.Setenv("XDG_RUNTIME_DIR", env.xdg)
		if got := status(t, s, "keep"); !strings.HasPrefix(got, "Up") {
			t.Errorf("%s: status %q", env.name, got)
		}
		s.Run("exec", "keep", "echo", "hi").Assert(t, Expect{Stdout: "hi\n"})
		s.Run("top", "keep").Assert(t, Expect{Stdout: "sleep 1000"})
		if got := pausePid(t, s.RunRoot); got != pause {
			t.Errorf("%s: pause process %d, want the first one, %d", env.name, got, pause)
		}
	}
	for _, left := range []string{filepath.Join(other, "skiff"), filepath.Join(rootOwned, "skiff"),
		filepath.Join(fmt.Sprintf("/tmp/skiff-run-%d", s.UID()), "c", id)} {
		if _, err := os.Lstat(left); err == nil {
			t.Errorf("%s was created: the recorded run root should have been used", left)
		}
	}
	s.Setenv("XDG_RUNTIME_DIR", other)
	s.Run("--log-level", "info", "ps").Assert(t, Expect{Stderr: "using the run root " + s.RunRoot + " recorded in "})

	// A reboot empties the run root (tmpfs): the environment's is adopted.
	s.Run("rm", "-f", "keep").MustSucceed(t)
	s.Run("system", "migrate").MustSucceed(t)
	if err := os.RemoveAll(s.RunRoot); err != nil {
		t.Fatal(err)
	}
	s.Run("run", "--rm", bb, "echo", "ok").Assert(t, Expect{Stdout: "ok\n"})
	pausePid(t, filepath.Join(other, "skiff"))
	s.Setenv("XDG_RUNTIME_DIR", s.RuntimeDir)
	s.Run("run", "--rm", bb, "echo", "ok").Assert(t, Expect{Stdout: "ok\n"})
	if _, err := os.Lstat(s.RunRoot); err == nil {
		t.Errorf("%s was created again although the store now records %s/skiff", s.RunRoot, other)
	}
}

// A relative XDG_RUNTIME_DIR is refused before anything is created.
func TestRootlessRelativeRuntimeDir(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootless)
	s.Setenv("XDG_RUNTIME_DIR", "relative/run")
	r := s.Run("ps").MustFail(t, 125, "Error: XDG_RUNTIME_DIR=relative/run is not an absolute path: set it to an absolute directory of your own, or unset it\n")
	if n := strings.Count(r.Stderr, "\n"); n != 1 {
		t.Errorf("want one line on stderr, got %d:\n%s", n, r.Stderr)
	}
	for _, p := range []string{filepath.Join(s.Dir, "relative"), s.Root} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
}

// A user without /etc/subuid lines is told the exact command that gives
// them a range no other user has.
func TestRootlessNoSubIDsWarning(t *testing.T) {
	t.Parallel()
	s := NewSkiffWithoutSubIDs(t)
	first := firstFreeSubID(t, "/etc/subuid", "/etc/subgid")
	want := fmt.Sprintf("to fix it run (as root) `usermod --add-subuids %[1]d-%[2]d --add-subgids %[1]d-%[2]d %[3]s` (a range no other user has), then run `skiff system migrate`",
		first, first+65535, NoSubIDsUser)
	r := s.Run("ps").MustSucceed(t)
	var warnings []string
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(l, "WARNING:") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "has no entry in /etc/subuid and /etc/subgid") || !strings.Contains(warnings[0], want) {
		t.Errorf("want one warning line with %q, got:\n%s", want, r.Stderr)
	}
	s.Run("unshare", "cat", "/proc/self/uid_map").Assert(t, Expect{Stdout: fmt.Sprintf(" %d ", s.UID())})
	if r := s.Run("ps").MustSucceed(t); strings.Contains(r.Stderr, "WARNING") {
		t.Errorf("the warning came again, with the pause process running:\n%s", r.Stderr)
	}
}

// pausePid is the live pause process recorded in the run root dir.
func pausePid(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pause.pid"))
	if err != nil {
		t.Fatalf("pause.pid: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "skiff-pause" {
		t.Fatalf("%s/pause.pid names %d, which is not a skiff-pause (%q)", dir, pid, comm)
	}
	return pid
}

func killPause(t *testing.T, pid int) {
	t.Helper()
	syscall.Kill(pid, syscall.SIGKILL)
	eventually(t, 5*time.Second, "the killed pause process is gone", func() bool { _, ok := startTime(pid); return !ok })
}

// nsLink is the namespace of kind ns ("user", "mnt") pid is in.
func nsLink(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// firstFreeSubID is the first id above every range of every owner in the
// files (at least 100000).
func firstFreeSubID(t *testing.T, files ...string) int {
	t.Helper()
	first := 100000
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
			if len(fields) != 3 {
				continue
			}
			start, err1 := strconv.Atoi(fields[1])
			count, err2 := strconv.Atoi(fields[2])
			if err1 == nil && err2 == nil {
				first = max(first, start+count)
			}
		}
	}
	return first
}

// A user without /etc/subuid ranges maps only its own id: --user 1000 is
// refused up front with what to do, and nothing is created.
func TestRootlessSingleIDUser(t *testing.T) {
	t.Parallel()
	s := NewSkiffWithoutSubIDs(t)
	bb := setup(t, s)
	r := s.Run("run", "--rm", "--user", "1000", bb, "id")
	r.MustFail(t, 125, "is not mapped in skiff's user namespace")
	if n := len(strings.Split(strings.TrimSpace(r.Stderr), "\n")); n > 2 { // the warning, then the error
		t.Errorf("want one error line (after the subuid warning), got:\n%s", r.Stderr)
	}
	requireNoContainers(t, s, "a refused --user")
	s.Run("run", "--rm", bb, "true").MustSucceed(t) // root still works
}
