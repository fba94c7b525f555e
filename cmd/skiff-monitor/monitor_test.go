package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-engine/skiff/runtime"
)

// These tests run the built skiff-monitor as the engine does: a real
// container from a busybox root filesystem, as root.

// monitorBin is this package built as skiff-monitor, leanBin as
// skiff-monitor-lean (the skiff_nonet tag) beside it.
var monitorBin, leanBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "skiff-monitor-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755) // for the rootless test's unprivileged user
	monitorBin = filepath.Join(dir, "skiff-monitor")
	out, err := exec.Command("go", "build", "-o", monitorBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building skiff-monitor: %v\n%s", err, out)
		return 1
	}
	leanBin = filepath.Join(dir, runtime.LeanMonitor)
	out, err = exec.Command("go", "build", "-tags", leanTags(), "-o", leanBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building %s: %v\n%s", runtime.LeanMonitor, err, out)
		return 1
	}
	defer removeParentCgroups()
	return m.Run()
}

// leanTags are GOFLAGS's build tags (make's) plus skiff_nonet: a -tags
// flag replaces those of GOFLAGS.
func leanTags() string {
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if t, ok := strings.CutPrefix(f, "-tags="); ok {
			return t + ",skiff_nonet"
		}
	}
	return "skiff_nonet"
}

// removeParentCgroups removes the /skiff-test cgroups the containers were
// created under (libcontainer removes only each container's own).
func removeParentCgroups() {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/skiff-test")
	for _, d := range dirs {
		os.Remove(d)
	}
}

// requiresContainers skips unless containers can run here.
func requiresContainers(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root: the monitor starts real containers")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("requires busybox-static (/bin/busybox) for the container's root filesystem")
	}
}

// fixture is one container's files, laid out as the engine lays them out.
type fixture struct {
	t    *testing.T
	dir  string
	cfg  runtime.MonitorConfig
	wrap []string // command line the monitor runs under (rootless)
	bin  string   // the monitor to run: monitorBin unless set
}

func newFixture(t *testing.T, args ...string) *fixture {
	requiresContainers(t)
	return newFixtureIn(t, t.TempDir(), args...)
}

func newFixtureIn(t *testing.T, dir string, args ...string) *fixture {
	id := "t" + strconv.FormatInt(time.Now().UnixNano(), 36)
	f := &fixture{t: t, dir: dir, cfg: runtime.MonitorConfig{
		ID:          id,
		Bundle:      filepath.Join(dir, "bundle"),
		StateRoot:   filepath.Join(dir, "runc"),
		RunDir:      filepath.Join(dir, "run"),
		StatePath:   filepath.Join(dir, "bundle", "state.json"),
		LogDriver:   runtime.LogJSONFile,
		LogPath:     filepath.Join(dir, "bundle", "ctr.log"),
		LogMaxFiles: 1,
	}}
	for _, d := range []string{f.cfg.RunDir, filepath.Join(f.cfg.Bundle, "rootfs", "bin")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	makeRootfs(t, filepath.Join(f.cfg.Bundle, "rootfs"))
	f.writeSpec(f.spec(args...))
	return f
}

// makeRootfs copies busybox in with a symlink per applet.
func makeRootfs(t *testing.T, rootfs string) {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			os.Symlink("busybox", filepath.Join(rootfs, "bin", applet))
		}
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp", "etc"} {
		os.Mkdir(filepath.Join(rootfs, d), 0o755)
	}
}

func (f *fixture) spec(args ...string) *specs.Spec {
	s := specconv.Example()
	s.Root = &specs.Root{Path: filepath.Join(f.cfg.Bundle, "rootfs")}
	s.Process.Terminal = false
	s.Process.Args = args
	s.Linux.CgroupsPath = "/skiff-test/" + f.cfg.ID
	return s
}

func (f *fixture) writeSpec(s *specs.Spec) {
	b, err := json.Marshal(s)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.cfg.Bundle, "config.json"), b, 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// monitor is a started `skiff-monitor run`.
type monitorProc struct {
	cmd   *exec.Cmd
	lines *bufio.Reader
	done  chan struct{} // closed when it exited, with err
	err   error
}

// start runs the monitor as the engine does: own session, fd 3 a pipe.
func (f *fixture) start() *monitorProc {
	f.t.Helper()
	b, err := json.Marshal(f.cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	cfgPath := filepath.Join(f.cfg.RunDir, "monitor.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		f.t.Fatal(err)
	}
	bin := cmp.Or(f.bin, monitorBin)
	cmd := exec.Command(bin, "run", cfgPath)
	if f.wrap != nil {
		os.Chown(cfgPath, 65534, 65534)
		cmd = exec.Command(f.wrap[0], append(f.wrap[1:], bin, "run", cfgPath)...)
	}
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	pw.Close()
	m := &monitorProc{cmd: cmd, lines: bufio.NewReader(pr), done: make(chan struct{})}
	go func() { m.err = cmd.Wait(); close(m.done) }()
	f.t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			cmd.Process.Kill()
			<-m.done
		}
	})
	return m
}

// line reads the next handshake line ("" at EOF).
func (m *monitorProc) line(t *testing.T) string {
	t.Helper()
	s, _ := m.lines.ReadString('\n')
	return strings.TrimSuffix(s, "\n")
}

// wait waits for the monitor to exit and returns its exit status.
func (m *monitorProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-m.done:
		return m.cmd.ProcessState.ExitCode()
	case <-time.After(20 * time.Second):
		t.Fatal("skiff-monitor run did not exit")
	}
	return -1
}

func (f *fixture) state() runtime.State {
	f.t.Helper()
	st, err := runtime.ReadState(f.cfg.StatePath)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// assertGone checks that nothing of a run is left behind.
func (f *fixture) assertGone() {
	f.t.Helper()
	for _, p := range []string{
		filepath.Join(f.cfg.StateRoot, f.cfg.ID),
		filepath.Join(f.cfg.RunDir, runtime.AttachSocket),
		filepath.Join(f.cfg.RunDir, "monitor.pid"),
		"/sys/fs/cgroup/memory/skiff-test/" + f.cfg.ID,
	} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			f.t.Errorf("%s is left behind (%v)", p, err)
		}
	}
}

// frames reads frames until FrameExit or EOF, and returns them all.
type frame struct {
	typ     byte
	payload []byte
}

func readAll(t *testing.T, c *runtime.AttachConn) []frame {
	t.Helper()
	c.Conn().SetReadDeadline(time.Now().Add(20 * time.Second))
	var fs []frame
	for {
		typ, p, err := c.ReadFrame()
		if err == io.EOF {
			return fs
		}
		if err != nil {
			t.Fatalf("reading frames: %v (so far %v)", err, fs)
		}
		fs = append(fs, frame{typ, p})
		if typ == runtime.FrameExit {
			return fs
		}
	}
}

func output(fs []frame, typ byte) string {
	var b bytes.Buffer
	for _, f := range fs {
		if f.typ == typ {
			b.Write(f.payload)
		}
	}
	return b.String()
}

func exitOf(t *testing.T, fs []frame) int {
	t.Helper()
	if len(fs) == 0 || fs[len(fs)-1].typ != runtime.FrameExit {
		t.Fatalf("no exit frame at the end of %v", fs)
	}
	code, err := runtime.DecodeExit(fs[len(fs)-1].payload)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestRunDetachedRecordsExitAndLogs(t *testing.T) {
	f := newFixture(t, "sh", "-c", "echo out; echo err >&2; exit 3")
	m := f.start()
	if l := m.line(t); l != "ready" {
		t.Fatalf("first line %q, want ready", l)
	}
	l := m.line(t)
	pid, err := strconv.Atoi(strings.TrimPrefix(l, "started "))
	if err != nil || pid <= 0 {
		t.Fatalf("second line %q, want started <pid>", l)
	}
	if code := m.wait(t); code != 0 {
		t.Errorf("monitor exited with %d (state %+v)", code, f.state())
	}
	st := f.state()
	if st.Status != runtime.StatusExited || st.ExitCode != 3 || st.Error != "" {
		t.Errorf("state %+v, want exited with code 3", st)
	}
	if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Errorf("state %+v: bad start/finish times", st)
	}
	var stdout, stderr bytes.Buffer
	if err := runtime.ReadLog(f.cfg.LogPath, runtime.LogJSONFile, runtime.LogReadOptions{Tail: -1}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("log stdout %q stderr %q, want out, err", stdout.String(), stderr.String())
	}
	raw, _ := os.ReadFile(f.cfg.LogPath)
	if !bytes.Contains(raw, []byte(`{"log":"out\n","stream":"stdout","time":"`)) {
		t.Errorf("log is not in Docker's json-file format:\n%s", raw)
	}
	f.assertGone()
}

// The lean build runs a container without a network itself, and hands one
// with a network to skiff-monitor beside it, whose setup then reports.
func TestLeanMonitor(t *testing.T) {
	t.Run("no network", func(t *testing.T) {
		f := newFixture(t, "sh", "-c", "read x; exit 3")
		f.bin, f.cfg.Stdin = leanBin, true
		m := f.start()
		if l := m.line(t); l != "ready" {
			t.Fatalf("first line %q, want ready", l)
		}
		if l := m.line(t); !strings.HasPrefix(l, "started ") {
			t.Fatalf("second line %q, want started <pid>", l)
		}
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", m.cmd.Process.Pid)); exe != leanBin {
			t.Errorf("the running container's monitor is %q, want %s", exe, leanBin)
		}
		c, err := runtime.Dial(f.cfg.RunDir)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Stdin([]byte("x\n")); err != nil {
			t.Fatal(err)
		}
		if code := m.wait(t); code != 0 {
			t.Errorf("monitor exited with %d", code)
		}
		if st := f.state(); st.Status != runtime.StatusExited || st.ExitCode != 3 {
			t.Errorf("state %+v, want exited with 3", st)
		}
		f.assertGone()
	})
	t.Run("network", func(t *testing.T) {
		f := newFixture(t, "true")
		f.bin = leanBin
		f.cfg.Network = json.RawMessage(`{"mode":"no-such-mode","state_dir":"` + f.cfg.RunDir + `"}`)
		m := f.start()
		if l := m.line(t); l != "ready" {
			t.Fatalf("first line %q, want ready", l)
		}
		if l := m.line(t); !strings.Contains(l, `unknown network mode "no-such-mode"`) {
			t.Fatalf("second line %q, want skiff-monitor's network error", l)
		}
		m.wait(t)
		if st := f.state(); st.Status != runtime.StatusExited || !strings.Contains(st.Error, "no-such-mode") {
			t.Errorf("state %+v, want exited with the network error", st)
		}
		f.assertGone()
	})
}

// startAttached starts a foreground run: WaitAttach, then the first client.
func (f *fixture) startAttached() (*monitorProc, *runtime.AttachConn) {
	f.t.Helper()
	f.cfg.WaitAttach = true
	m := f.start()
	if l := m.line(f.t); l != "ready" {
		f.t.Fatalf("first line %q, want ready", l)
	}
	if l := m.line(f.t); l != "" {
		f.t.Fatalf("fd 3 goes on after ready with WaitAttach: %q", l)
	}
	c, err := runtime.Dial(f.cfg.RunDir)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	return m, c
}

func TestWaitAttachGetsEarlyOutputAndExit(t *testing.T) {
	f := newFixture(t, "sh", "-c", "echo early; echo problem >&2; exit 5")
	m, c := f.startAttached()
	fs := readAll(t, c)
	if len(fs) == 0 || fs[0].typ != runtime.FrameStarted {
		t.Fatalf("first frame %v, want FrameStarted", fs)
	}
	if pid, err := strconv.Atoi(string(fs[0].payload)); err != nil || pid <= 0 {
		t.Errorf("FrameStarted payload %q, want a pid", fs[0].payload)
	}
	if got := output(fs, runtime.FrameStdout); got != "early\n" {
		t.Errorf("stdout %q, want early", got)
	}
	if got := output(fs, runtime.FrameStderr); got != "problem\n" {
		t.Errorf("stderr %q, want problem", got)
	}
	if code := exitOf(t, fs); code != 5 {
		t.Errorf("exit frame %d, want 5", code)
	}
	m.wait(t)
	if st := f.state(); st.ExitCode != 5 {
		t.Errorf("state %+v, want exit code 5", st)
	}
	f.assertGone()
}

func TestTerminal(t *testing.T) {
	f := newFixture(t, "sh", "-c", "tty; stty size")
	f.cfg.Terminal = true
	m, c := f.startAttached()
	// Sent before the start, as the engine does: the size is the pty's
	// from the first instruction on.
	if err := c.Resize(33, 101); err != nil {
		t.Fatal(err)
	}
	fs := readAll(t, c)
	if got := output(fs, runtime.FrameStdout); got != "/dev/pts/0\r\n33 101\r\n" {
		t.Errorf("terminal output %q, want /dev/pts/0 and 33 101", got)
	}
	if code := exitOf(t, fs); code != 0 {
		t.Errorf("exit %d", code)
	}
	m.wait(t)
	f.assertGone()
}

func TestStdinAndResizeLater(t *testing.T) {
	f := newFixture(t, "sh", "-c", "read line; echo got $line; stty size; cat")
	f.cfg.Terminal, f.cfg.Stdin = true, true
	m, c := f.startAttached()
	c.Stdin([]byte("hello\n"))
	c.Conn().SetReadDeadline(time.Now().Add(10 * time.Second))
	var seen bytes.Buffer
	for !strings.Contains(seen.String(), "got hello") {
		typ, p, err := c.ReadFrame()
		if err != nil {
			t.Fatalf("%v; output so far %q", err, seen.String())
		}
		if typ == runtime.FrameStdout {
			seen.Write(p)
		}
	}
	c.Resize(20, 70)
	c.Stdin([]byte("\x04")) // ^D: end of cat's input on a terminal
	fs := readAll(t, c)
	if code := exitOf(t, fs); code != 0 {
		t.Errorf("exit %d; output %q", code, output(fs, runtime.FrameStdout))
	}
	m.wait(t)
}

func TestStdinPipe(t *testing.T) {
	f := newFixture(t, "sh", "-c", "cat; echo done")
	f.cfg.Stdin = true
	m, c := f.startAttached()
	c.Stdin([]byte("one\n"))
	c.Stdin([]byte("two\n"))
	c.CloseStdin()
	fs := readAll(t, c)
	if got := output(fs, runtime.FrameStdout); got != "one\ntwo\ndone\n" {
		t.Errorf("stdout %q", got)
	}
	m.wait(t)
}

func TestLaterClientsGetLiveOutput(t *testing.T) {
	f := newFixture(t, "sh", "-c", "echo before; read x; echo after")
	f.cfg.Stdin = true
	m, first := f.startAttached()
	first.Conn().SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		typ, p, err := first.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if typ == runtime.FrameStdout && string(p) == "before\n" {
			break
		}
	}
	second, err := runtime.Dial(f.cfg.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.Stdin([]byte("go\n"))
	fs := readAll(t, second)
	if got := output(fs, runtime.FrameStdout); got != "after\n" {
		t.Errorf("second client got %q, want only the live output", got)
	}
	if code := exitOf(t, fs); code != 0 {
		t.Errorf("exit %d", code)
	}
	if got := output(readAll(t, first), runtime.FrameStdout); got != "after\n" {
		t.Errorf("first client got %q after before", got)
	}
	m.wait(t)
}

func TestStartErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"not found", []string{"nonexistent-command"}, 127},
		{"no such file", []string{"/no/such/file"}, 127},
		{"not executable", []string{"/etc/hostname"}, 126},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.args...)
			os.WriteFile(filepath.Join(f.cfg.Bundle, "rootfs", "etc", "hostname"), []byte("x\n"), 0o644)
			m := f.start()
			if l := m.line(t); l != "ready" {
				t.Fatalf("first line %q", l)
			}
			if l := m.line(t); !strings.HasPrefix(l, "error ") {
				t.Fatalf("second line %q, want error", l)
			}
			m.wait(t)
			st := f.state()
			if st.Status != runtime.StatusExited || st.ExitCode != tc.code || st.Error == "" {
				t.Errorf("state %+v, want exited with %d and an error", st, tc.code)
			}
			f.assertGone()
		})
	}
}

func TestStartErrorToClient(t *testing.T) {
	f := newFixture(t, "nonexistent-command")
	m, c := f.startAttached()
	fs := readAll(t, c)
	if len(fs) == 0 || fs[0].typ != runtime.FrameError || !strings.Contains(string(fs[0].payload), "executable file not found") {
		t.Fatalf("frames %v, want FrameError first", fs)
	}
	m.wait(t)
	if st := f.state(); st.ExitCode != 127 {
		t.Errorf("state %+v", st)
	}
}

func TestExitCommand(t *testing.T) {
	f := newFixture(t, "true")
	marker := filepath.Join(f.dir, "cleaned")
	f.cfg.ExitCommand = []string{"/bin/busybox", "sh", "-c", "echo $0 > " + marker, "arg0"}
	m := f.start()
	m.wait(t)
	waitFor(t, func() bool { b, _ := os.ReadFile(marker); return string(b) == "arg0\n" }, "the exit command to run")
}

func TestCleanupOwnerSkipsExitCommand(t *testing.T) {
	f := newFixture(t, "sh", "-c", "sleep 0.3")
	marker := filepath.Join(f.dir, "cleaned")
	f.cfg.ExitCommand = []string{"/bin/busybox", "touch", marker}
	m, c := f.startAttached()
	c.CleanupOwner()
	if code := exitOf(t, readAll(t, c)); code != 0 {
		t.Errorf("exit %d", code)
	}
	m.wait(t)
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Error("the exit command ran although a client owned the clean-up")
	}
}

func TestSigtermToMonitorStopsContainer(t *testing.T) {
	f := newFixture(t, "sh", "-c", "trap 'exit 9' TERM; echo armed; while :; do sleep 0.05; done")
	m, c := f.startAttached()
	c.Conn().SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		typ, p, err := c.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if typ == runtime.FrameStdout && string(p) == "armed\n" {
			break
		}
	}
	// Terminal signals must not stop the monitor.
	m.cmd.Process.Signal(syscall.SIGHUP)
	m.cmd.Process.Signal(syscall.SIGINT)
	m.cmd.Process.Signal(syscall.SIGTERM)
	if code := exitOf(t, readAll(t, c)); code != 9 {
		t.Errorf("exit %d, want 9 from the trap", code)
	}
	m.wait(t)
}

func TestOOMKilled(t *testing.T) {
	args := []string{"sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"}
	f := newFixture(t, args...)
	s := f.spec(args...)
	limit := int64(16 << 20)
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
	f.writeSpec(s)
	m := f.start()
	m.wait(t)
	st := f.state()
	if !st.OOMKilled || st.ExitCode != 137 {
		t.Errorf("state %+v, want OOMKilled and exit code 137", st)
	}
	f.assertGone()
}

func TestK8sFileLog(t *testing.T) {
	f := newFixture(t, "sh", "-c", "echo one; printf two")
	f.cfg.LogDriver = runtime.LogK8sFile
	m := f.start()
	m.wait(t)
	raw, err := os.ReadFile(f.cfg.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " stdout F one") || !strings.HasSuffix(lines[1], " stdout P two") {
		t.Errorf("k8s-file log:\n%s", raw)
	}
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if ok() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestGeneratedSpec runs the spec the engine generates (Docker's defaults:
// capabilities, seccomp, masked paths) rather than runc's example.
func TestGeneratedSpec(t *testing.T) {
	f := newFixture(t, "true")
	s, err := runtime.GenerateSpec(runtime.SpecOptions{
		ID: f.cfg.ID, Rootfs: filepath.Join(f.cfg.Bundle, "rootfs"), NetNS: "none",
		Args: []string{"sh", "-c", "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; hostname; exit 2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.writeSpec(s)
	m, c := f.startAttached()
	fs := readAll(t, c)
	want := "NoNewPrivs:\t0\nSeccomp:\t2\n" + f.cfg.ID[:min(12, len(f.cfg.ID))] + "\n"
	if got := output(fs, runtime.FrameStdout); got != want {
		t.Errorf("stdout %q, want %q (stderr %q)", got, want, output(fs, runtime.FrameStderr))
	}
	if code := exitOf(t, fs); code != 2 {
		t.Errorf("exit %d", code)
	}
	m.wait(t)
	f.assertGone()
}

// TestRootlessInUserNamespace runs the monitor as an unprivileged user
// that is root in a user namespace of its own (with one id mapped, as
// skiff's fallback without subuids): rootless cgroups on a host that does
// not delegate them, no cgroup path, no limits. An exec joins it from the
// same namespaces, as skiff exec does after joining the pause process's.
func TestRootlessInUserNamespace(t *testing.T) {
	requiresContainers(t)
	for _, tool := range []string{"setpriv", "unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("requires %s (util-linux)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "skiff-monitor-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	f := newFixtureIn(t, dir, "true")
	f.cfg.Rootless, f.cfg.Stdin = true, true
	s, err := runtime.GenerateSpec(runtime.SpecOptions{
		ID: f.cfg.ID, Rootfs: filepath.Join(f.cfg.Bundle, "rootfs"), NetNS: "none", Rootless: true,
		Args: []string{"sh", "-c", "echo uid $(id -u); cat /proc/self/uid_map; read x; exit 6"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// GenerateSpec looked at the test's (full) gid map, which has gid 5;
	// the namespace below maps gid 0 only.
	for i, m := range s.Mounts {
		if m.Type == "devpts" {
			s.Mounts[i].Options = slices.DeleteFunc(m.Options, func(o string) bool { return o == "gid=5" })
		}
	}
	f.writeSpec(s)
	if out, err := exec.Command("chown", "-R", "65534:65534", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	f.wrap = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
		"unshare", "--user", "--map-root-user", "--mount", "--"}
	m, c := f.startAttached()
	c.Conn().SetReadDeadline(time.Now().Add(10 * time.Second))
	if typ, p, err := c.ReadFrame(); err != nil || typ != runtime.FrameStarted {
		t.Fatalf("first frame %d %q %v, want FrameStarted", typ, p, err)
	}

	ex := f.execCmd(specs.Process{Args: []string{"sh", "-c", "exit 8"}}, runtime.ExecConfig{})
	os.Chown(ex.Args[2], 65534, 65534)
	ex = exec.Command("nsenter", append([]string{"-t", strconv.Itoa(m.cmd.Process.Pid), "-U", "-m", "--"}, ex.Args...)...)
	ex.Path, _ = exec.LookPath("nsenter")
	out, _ := ex.CombinedOutput()
	if code := ex.ProcessState.ExitCode(); code != 8 {
		t.Errorf("rootless exec: exit %d, want 8; output %q", code, out)
	}

	c.Stdin([]byte("\n"))
	fs := readAll(t, c)
	if got, want := output(fs, runtime.FrameStdout), "uid 0\n         0      65534          1\n"; got != want {
		t.Errorf("stdout %q, want %q (stderr %q)", got, want, output(fs, runtime.FrameStderr))
	}
	if code := exitOf(t, fs); code != 6 {
		t.Errorf("exit %d", code)
	}
	m.wait(t)
	if st := f.state(); st.ExitCode != 6 || st.Status != runtime.StatusExited {
		t.Errorf("state %+v", st)
	}
	f.assertGone()
}

func TestSecondMonitorLeavesRunningContainerAlone(t *testing.T) {
	f, _ := runningContainer(t)
	second := f.start()
	if l := second.line(t); !strings.HasPrefix(l, "error ") || !strings.Contains(l, "already running") {
		t.Errorf("second monitor said %q, want an error", l)
	}
	second.wait(t)
	if st := f.state(); st.Status != runtime.StatusRunning {
		t.Errorf("state %+v, want the first monitor's running", st)
	}
	for _, name := range []string{runtime.AttachSocket, "monitor.pid"} {
		if _, err := os.Stat(filepath.Join(f.cfg.RunDir, name)); err != nil {
			t.Errorf("the first monitor's %s: %v", name, err)
		}
	}
	c, err := runtime.Dial(f.cfg.RunDir)
	if err != nil {
		t.Fatalf("the first monitor no longer answers: %v", err)
	}
	c.Close()
}

// A monitor killed with SIGKILL leaves libcontainer's state, the socket and
// the pid file behind; the next start replaces them.
func TestStartAfterKilledMonitor(t *testing.T) {
	f, m := runningContainer(t)
	m.cmd.Process.Kill()
	<-m.done
	f.kill()
	waitFor(t, func() bool {
		c, err := libcontainer.Load(f.cfg.StateRoot, f.cfg.ID)
		if err != nil {
			return false
		}
		st, _ := c.Status()
		return st == libcontainer.Stopped
	}, "the orphaned container to stop")
	f.writeSpec(f.spec("sh", "-c", "exit 4"))
	again := f.start()
	if l := again.line(t); l != "ready" {
		t.Fatalf("first line %q", l)
	}
	if l := again.line(t); !strings.HasPrefix(l, "started ") {
		t.Fatalf("second line %q", l)
	}
	again.wait(t)
	if st := f.state(); st.ExitCode != 4 {
		t.Errorf("state %+v", st)
	}
	f.assertGone()
}

func TestNextBackoff(t *testing.T) {
	var got []time.Duration
	d := time.Duration(0)
	for range 12 {
		d = nextBackoff(d, time.Second)
		got = append(got, d)
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoffs %v, want %v ms", got, want)
		}
	}
	if d := nextBackoff(time.Minute, 10*time.Second); d != 100*time.Millisecond {
		t.Errorf("after a run of 10 s: %v, want 100ms", d)
	}
}

func TestShouldRestart(t *testing.T) {
	tests := []struct {
		name      string
		policy    runtime.RestartPolicy
		code      int
		count     int
		requested bool // a healthcheck's restart
		stopFile  bool // the user's stop
		sigterm   bool
		again     bool
		manual    bool
	}{
		{"no", runtime.RestartPolicy{}, 1, 0, false, false, false, false, false},
		{"always", runtime.RestartPolicy{Name: "always"}, 0, 7, false, false, false, true, false},
		{"unless-stopped", runtime.RestartPolicy{Name: "unless-stopped"}, 0, 0, false, false, false, true, false},
		{"on-failure, success", runtime.RestartPolicy{Name: "on-failure"}, 0, 0, false, false, false, false, false},
		{"on-failure, failure", runtime.RestartPolicy{Name: "on-failure"}, 1, 100, false, false, false, true, false},
		{"on-failure:3, 2 done", runtime.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}, 1, 2, false, false, false, true, false},
		{"on-failure:3, 3 done", runtime.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}, 1, 3, false, false, false, false, false},
		{"health restart, no policy", runtime.RestartPolicy{}, 137, 0, true, false, false, true, false},
		{"user stop, always", runtime.RestartPolicy{Name: "always"}, 143, 0, false, true, false, false, true},
		{"user stop wins over health", runtime.RestartPolicy{}, 137, 0, true, true, false, false, true},
		{"SIGTERM to the monitor, always", runtime.RestartPolicy{Name: "always"}, 143, 0, false, false, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.stopFile {
				if err := runtime.RequestStop(dir); err != nil {
					t.Fatal(err)
				}
			}
			m := &monitor{cfg: runtime.MonitorConfig{RunDir: dir, RestartPolicy: tt.policy}, restartCount: tt.count,
				restartRequested: tt.requested, stopRequested: tt.sigterm}
			again, manual := m.shouldRestart(tt.code)
			if again != tt.again || manual != tt.manual {
				t.Errorf("again %v manual %v, want %v %v", again, manual, tt.again, tt.manual)
			}
			if m.restartRequested {
				t.Errorf("restartRequested still set")
			}
		})
	}
}

// A monitor waiting for its config catches its signals already (they are
// caught before the wait, for speed), yet a SIGTERM then still ends it as
// an uncaught one would: nothing of the container exists.
func TestSigtermBeforeConfigEndsMonitor(t *testing.T) {
	requiresContainers(t)
	f := newFixture(t, "true")
	syncR, syncW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ctlW.Close()
	cmd := exec.Command(monitorBin, "run", filepath.Join(f.cfg.RunDir, "monitor.json"))
	cmd.ExtraFiles = []*os.File{syncW, ctlR}
	cmd.Env = append(os.Environ(), runtime.MonitorControlEnv+"="+strconv.Itoa(runtime.MonitorControlFd))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	syncW.Close()
	ctlR.Close()
	time.Sleep(200 * time.Millisecond) // past its start-up, waiting for "go"
	cmd.Process.Signal(syscall.SIGHUP) // caught and ignored: it outlives the shell
	time.Sleep(50 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM) {
			t.Errorf("the monitor ended with %v, want exit 143 (SIGTERM before its config)", err)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the monitor did not end on SIGTERM while it waited for its config")
	}
	if b, _ := io.ReadAll(syncR); len(b) != 0 {
		t.Errorf("it reported %q on fd 3, want nothing", b)
	}
	if _, err := os.Stat(filepath.Join(f.cfg.StateRoot, f.cfg.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("libcontainer state exists (%v): the container was made", err)
	}
}
