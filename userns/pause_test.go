package userns_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The integration test runs testdata/joiner, a tiny program that calls
// userns.Join like skiff's main, as real unprivileged users. It needs root
// to create them and to give them /etc/subuid ranges.

const (
	subUser   = "skiff-userns-test"  // has "300000:65536" in /etc/subuid and /etc/subgid
	noSubUser = "skiff-userns-nosub" // has no subordinate ids
)

type info struct {
	Euid, HostUID, HostGID int
	UserNS                 uint64 `json:"userns"`
	MntNS                  uint64 `json:"mntns"`
	Rootless, Single       bool
	Reexec                 bool
	StateDir, RuntimeDir   string
	Configured             string
	RootlessUID            string `json:"rootless_uid"`
}

type harness struct {
	bin  string // the joiner, world-executable
	base string // 0755 scratch directory
}

type testUser struct {
	name     string
	uid, gid int
	home     string
}

// suite is the state the ordered subtests of TestPauseProcess share: one
// user with subordinate ids and its runtime dir, and one user without.
type suite struct {
	h     *harness
	u, n  testUser
	xdg   string
	first info
}

func TestPauseProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("requires root to create the test user")
	}
	s := &suite{h: newHarness(t), u: ensureUser(t, subUser, true), n: ensureUser(t, noSubUser, false)}
	s.xdg = s.h.userDir(t, s.u, "xdg")
	t.Cleanup(func() { killPauses(s.u.uid, s.n.uid) })
	t.Run("first run creates the pause", s.firstRun)
	t.Run("second run joins the same namespaces in the constructor", s.secondRunJoins)
	t.Run("a tmpfs mounted inside is seen by the next run and not by the host", s.mountsShared)
	t.Run("concurrent first runs share one pause", s.concurrentFirstRuns)
	t.Run("a stale pid file is replaced", s.stalePidFile)
	t.Run("a reused pid is not joined", s.reusedPid)
	t.Run("migrate from inside replaces the pause", s.migrate)
	t.Run("unshare runs as root inside and reports the exit code", s.unshare)
	t.Run("XDG_RUNTIME_DIR unset falls back to /tmp/skiff-run-UID", s.fallbackDir)
	t.Run("the re-exec guard stops a loop", s.reexecGuard)
	t.Run("rootful is a no-op", s.rootful)
	t.Run("without subuid entries a single id is mapped, with one warning", s.singleID)
	t.Run("a planted fallback directory is refused", s.plantedDir)
}

func (s *suite) firstRun(t *testing.T) {
	s.first = s.h.info(t, s.u, s.xdg)
	if s.first.Euid != 0 || s.first.HostUID != s.u.uid || s.first.HostGID != s.u.gid || !s.first.Rootless || s.first.Single {
		t.Fatalf("inside: got %+v, want euid 0, host ids %d:%d, rootless, not single", s.first, s.u.uid, s.u.gid)
	}
	if !s.first.Reexec || s.first.Configured != "done" || s.first.RootlessUID != strconv.Itoa(s.u.uid) {
		t.Errorf("want the slow path (reexec) and containers/storage variables set, got %+v", s.first)
	}
	pid := s.h.pause(t, s.xdg+"/skiff")
	want := fmt.Sprintf("0 %d 1\n1 300000 65536\n", s.u.uid)
	if got := normalizeMap(readFile(t, fmt.Sprintf("/proc/%d/uid_map", pid))); got != want {
		t.Errorf("pause uid_map = %q, want %q", got, want)
	}
	rss, threads := procStatus(t, pid, "VmRSS"), procStatus(t, pid, "Threads")
	t.Logf("pause process %d: VmRSS %s, Threads %s", pid, rss, threads)
	if threads != "1" {
		t.Errorf("pause has %s threads: the Go runtime started", threads)
	}
}

func (s *suite) secondRunJoins(t *testing.T) {
	pid := s.h.pause(t, s.xdg+"/skiff")
	got := s.h.info(t, s.u, s.xdg)
	if got.Reexec || got.UserNS != s.first.UserNS || got.MntNS != s.first.MntNS || got.Euid != 0 || got.HostUID != s.u.uid {
		t.Fatalf("got %+v, want fast join into userns %d mntns %d", got, s.first.UserNS, s.first.MntNS)
	}
	if s.h.pause(t, s.xdg+"/skiff") != pid {
		t.Errorf("pause process changed")
	}
}

func (s *suite) mountsShared(t *testing.T) {
	dir := s.h.userDir(t, s.u, "mnt")
	if out, err := s.h.run(t, s.u, s.xdg, nil, "mount", dir); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	if out, _ := s.h.run(t, s.u, s.xdg, nil, "check", dir); strings.TrimSpace(out) != "present" {
		t.Errorf("second invocation: marker %q, want present", out)
	}
	if _, err := os.Stat(dir + "/marker"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("host sees %s/marker (err %v): mount leaked out of the namespace", dir, err)
	}
	if strings.Contains(readFile(t, "/proc/self/mountinfo"), dir) {
		t.Errorf("host mountinfo lists %s", dir)
	}
}

func (s *suite) concurrentFirstRuns(t *testing.T) {
	x := s.h.userDir(t, s.u, "xdg-concurrent")
	var wg sync.WaitGroup
	got := make([]info, 4)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = s.h.info(t, s.u, x) }()
	}
	wg.Wait()
	for i := range got {
		if got[i].UserNS != got[0].UserNS || got[i].Euid != 0 {
			t.Errorf("run %d: userns %d euid %d, run 0: userns %d", i, got[i].UserNS, got[i].Euid, got[0].UserNS)
		}
	}
	s.h.pause(t, x+"/skiff")
}

func (s *suite) stalePidFile(t *testing.T) {
	old := s.h.pause(t, s.xdg+"/skiff")
	syscall.Kill(old, syscall.SIGKILL)
	waitGone(t, old)
	got := s.h.info(t, s.u, s.xdg)
	if !got.Reexec || got.Euid != 0 || got.HostUID != s.u.uid {
		t.Fatalf("after kill -9 of the pause: %+v", got)
	}
	if pid := s.h.pause(t, s.xdg+"/skiff"); pid == old {
		t.Errorf("pid file still names the killed pause %d", old)
	}
}

func (s *suite) reusedPid(t *testing.T) {
	old := s.h.pause(t, s.xdg+"/skiff")
	// A live process of the same user with another name, then one of root.
	sleeper := exec.Command("sleep", "60")
	sleeper.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(s.u.uid), Gid: uint32(s.u.gid)}}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	syscall.Kill(old, syscall.SIGKILL)
	waitGone(t, old)
	for _, pid := range []int{sleeper.Process.Pid, 1} {
		os.WriteFile(s.xdg+"/skiff/pause.pid", []byte(strconv.Itoa(pid)+"\n"), 0o600)
		if got := s.h.info(t, s.u, s.xdg); !got.Reexec || got.Euid != 0 {
			t.Errorf("pid file naming %d: %+v", pid, got)
		}
		if p := s.h.pause(t, s.xdg+"/skiff"); p == pid {
			t.Errorf("pid %d kept as the pause", pid)
		}
	}
	if err := syscall.Kill(sleeper.Process.Pid, 0); err != nil {
		t.Errorf("the unrelated process is gone: %v", err)
	}
}

func (s *suite) migrate(t *testing.T) {
	old := s.h.pause(t, s.xdg+"/skiff")
	if out, err := s.h.run(t, s.u, s.xdg, nil, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	waitGone(t, old)
	if _, err := os.Stat(s.xdg + "/skiff/pause.pid"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pause.pid left behind: %v", err)
	}
	if out, err := s.h.run(t, s.u, s.xdg, nil, "migrate"); err != nil {
		t.Errorf("migrate with no pause: %v\n%s", err, out)
	}
	if got := s.h.info(t, s.u, s.xdg); !got.Reexec || s.h.pause(t, s.xdg+"/skiff") == old {
		t.Errorf("next run after migrate: %+v", got)
	}
}

func (s *suite) unshare(t *testing.T) {
	out, err := s.h.run(t, s.u, s.xdg, nil, "unshare", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map; exit 3")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("exit: %v, want status 3", err)
	}
	if f := strings.Fields(out); len(f) < 4 || f[0] != "0" || f[2] != strconv.Itoa(s.u.uid) {
		t.Errorf("output %q, want uid 0 mapped to %d", out, s.u.uid)
	}
	_, err = s.h.run(t, s.u, s.xdg, nil, "unshare", "/nonexistent/cmd")
	if !errors.As(err, &ee) || ee.ExitCode() != 127 {
		t.Errorf("missing command: %v, want status 127", err)
	}
}

func (s *suite) fallbackDir(t *testing.T) {
	dir := fmt.Sprintf("/tmp/skiff-run-%d", s.u.uid)
	s.h.removeStateDir(t, dir)
	t.Cleanup(func() { s.h.removeStateDir(t, dir) })
	a, b := s.h.info(t, s.u, ""), s.h.info(t, s.u, "")
	if a.StateDir != dir || a.RuntimeDir != dir || !a.Reexec || b.Reexec || a.UserNS != b.UserNS || b.Euid != 0 {
		t.Errorf("got %+v then %+v, want %s and a fast second join", a, b, dir)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil || st.Mode&0o7777 != 0o700 || int(st.Uid) != s.u.uid {
		t.Errorf("%s: mode %o uid %d (%v), want 0700 owned by %d", dir, st.Mode&0o7777, st.Uid, err, s.u.uid)
	}
	s.h.pause(t, dir)
}

func (s *suite) reexecGuard(t *testing.T) {
	x := s.h.userDir(t, s.u, "xdg-guard")
	out, err := s.h.run(t, s.u, x, []string{"_SKIFF_REEXEC=1"}, "info")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 125 || !strings.Contains(out, "could not join") {
		t.Errorf("got %v: %s", err, out)
	}
}

func (s *suite) rootful(t *testing.T) {
	out, err := exec.Command(s.h.bin, "info").Output()
	var got info
	if err != nil || json.Unmarshal(out, &got) != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Rootless || got.Euid != 0 || got.UserNS != inode(t, "/proc/self/ns/user") {
		t.Errorf("got %+v", got)
	}
}

func (s *suite) singleID(t *testing.T) {
	x := s.h.userDir(t, s.n, "xdg")
	out, err := s.h.run(t, s.n, x, nil, "info")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var warnings []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "WARNING") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "/etc/subuid") || !regexp.MustCompile("`usermod --add-subuids ([0-9]+)-([0-9]+) --add-subgids ([0-9]+)-([0-9]+) "+noSubUser+"`").MatchString(warnings[0]) || !strings.Contains(warnings[0], "skiff system migrate") {
		t.Errorf("want one warning line with the fix, got %q", warnings)
	}
	t.Log(strings.Join(warnings, "\n"))
	got := s.h.info(t, s.n, x)
	pid := s.h.pause(t, x+"/skiff")
	if !got.Single || got.Reexec || got.Euid != 0 || got.HostUID != s.n.uid {
		t.Errorf("second run: %+v", got)
	}
	if m := normalizeMap(readFile(t, fmt.Sprintf("/proc/%d/uid_map", pid))); m != fmt.Sprintf("0 %d 1\n", s.n.uid) {
		t.Errorf("uid_map %q", m)
	}
	if sg := strings.TrimSpace(readFile(t, fmt.Sprintf("/proc/%d/setgroups", pid))); sg != "deny" {
		t.Errorf("setgroups %q, want deny", sg)
	}
}

func (s *suite) plantedDir(t *testing.T) {
	dir := fmt.Sprintf("/tmp/skiff-run-%d", s.n.uid)
	s.h.removeStateDir(t, dir)
	t.Cleanup(func() { os.RemoveAll(dir) })
	target := s.h.userDir(t, s.n, "target")
	for name, plant := range map[string]func() error{
		"symlink":    func() error { return os.Symlink(target, dir) },
		"root's dir": func() error { return os.Mkdir(dir, 0o777) },
	} {
		os.RemoveAll(dir)
		if err := plant(); err != nil {
			t.Fatal(err)
		}
		out, err := s.h.run(t, s.n, "", nil, "info")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 125 || !strings.Contains(out, "symlink or not owned") {
			t.Errorf("%s: got %v: %s", name, err, out)
		}
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("files written through the planted symlink: %v", entries)
	}
}

func newHarness(t *testing.T) *harness {
	base, err := os.MkdirTemp("", "skiff-userns-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	h := &harness{bin: filepath.Join(base, "joiner"), base: base}
	t.Cleanup(func() { os.RemoveAll(base) })
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build testdata/joiner: %v", err)
	}
	if out, err := exec.Command(goBin, "build", "-o", h.bin, "./testdata/joiner").CombinedOutput(); err != nil {
		t.Fatalf("building the joiner: %v\n%s", err, out)
	}
	return h
}

// ensureUser creates the user if absent and makes its /etc/subuid and
// /etc/subgid entries match withSub.
func ensureUser(t *testing.T, name string, withSub bool) testUser {
	if _, err := user.Lookup(name); err != nil {
		// -K ...=0: do not let useradd allocate subordinate ids itself.
		out, err := exec.Command("useradd", "-m", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name).CombinedOutput()
		if err != nil {
			t.Fatalf("useradd %s: %v\n%s", name, err, out)
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	tu := testUser{name: name, home: u.HomeDir}
	tu.uid, _ = strconv.Atoi(u.Uid)
	tu.gid, _ = strconv.Atoi(u.Gid)
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		has := strings.Contains("\n"+readFile(t, f), "\n"+name+":")
		switch {
		case withSub && !has:
			fh, err := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(fh, "%s:300000:65536\n", name)
			fh.Close()
		case !withSub && has:
			t.Fatalf("%s has an entry in %s; this test needs a user without one", name, f)
		}
	}
	return tu
}

// userDir makes base/name owned by u, mode 0700 (as a runtime dir must be).
func (h *harness) userDir(t *testing.T, u testUser, name string) string {
	dir := filepath.Join(h.base, u.name+"-"+name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, u.uid, u.gid); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs the joiner as u with a clean environment; xdg "" leaves
// XDG_RUNTIME_DIR unset. It returns stdout and stderr together.
func (h *harness) run(t *testing.T, u testUser, xdg string, env []string, args ...string) (string, error) {
	cmd := exec.Command(h.bin, args...)
	cmd.Dir = "/"
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + u.home, "USER=" + u.name, "LOGNAME=" + u.name}, env...)
	if xdg != "" {
		// Each runtime directory with a store of its own: one store records
		// one run root (statedir.go), which would override XDG_RUNTIME_DIR.
		cmd.Env = append(cmd.Env, "XDG_RUNTIME_DIR="+xdg, "XDG_DATA_HOME="+xdg+"/data")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.uid), Gid: uint32(u.gid), Groups: []uint32{}}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (h *harness) info(t *testing.T, u testUser, xdg string) info {
	out, err := h.run(t, u, xdg, nil, "info")
	var got info
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			if jerr := json.Unmarshal(sc.Bytes(), &got); jerr != nil {
				t.Errorf("joiner output %q: %v", sc.Text(), jerr)
			}
		}
	}
	if err != nil {
		t.Errorf("joiner info as %s: %v\n%s", u.name, err, out)
	}
	return got
}

// pause returns the live pause process recorded in dir; it fails the test
// when there is none.
func (h *harness) pause(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(dir + "/pause.pid")
	if err != nil {
		t.Fatalf("pause.pid: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if comm := strings.TrimSpace(readFile(t, fmt.Sprintf("/proc/%d/comm", pid))); comm != "skiff-pause" {
		t.Fatalf("pid %d from %s/pause.pid is %q, not skiff-pause", pid, dir, comm)
	}
	return pid
}

// killPauses stops every pause process of the test users, including those
// of runs that failed before their pid was looked at. The users exist only
// for this test, so nothing else of theirs is touched.
func killPauses(uids ...int) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if syscall.Stat(fmt.Sprintf("/proc/%d", pid), &st) != nil || strings.TrimSpace(string(comm)) != "skiff-pause" {
			continue
		}
		for _, uid := range uids {
			if int(st.Uid) == uid {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// removeStateDir stops the pause of a leftover state dir and removes it.
func (h *harness) removeStateDir(t *testing.T, dir string) {
	if b, err := os.ReadFile(dir + "/pause.pid"); err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); pid > 0 && strings.TrimSpace(string(comm)) == "skiff-pause" {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
}

// waitGone waits until pid has exited and been reaped (or is a zombie).
func waitGone(t *testing.T, pid int) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
	}
	t.Fatalf("process %d still alive", pid)
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// normalizeMap turns the kernel's padded uid_map columns into "a b c\n" lines.
func normalizeMap(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		b.WriteString(strings.Join(strings.Fields(l), " ") + "\n")
	}
	return b.String()
}

func procStatus(t *testing.T, pid int, key string) string {
	for _, l := range strings.Split(readFile(t, fmt.Sprintf("/proc/%d/status", pid)), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func inode(t *testing.T, path string) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}
