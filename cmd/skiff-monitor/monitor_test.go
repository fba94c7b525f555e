package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-engine/skiff/runtime"
)

// These tests run the built skiff-monitor as the engine does: a real
// container from a busybox root filesystem, as root.

var monitorBin string

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
	monitorBin = filepath.Join(dir, "skiff-monitor")
	out, err := exec.Command("go", "build", "-o", monitorBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building skiff-monitor: %v\n%s", err, out)
		return 1
	}
	return m.Run()
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
	t   *testing.T
	dir string
	cfg runtime.MonitorConfig
}

func newFixture(t *testing.T, args ...string) *fixture {
	requiresContainers(t)
	dir := t.TempDir()
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
	done  chan error
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
	cmd := exec.Command(monitorBin, "run", cfgPath)
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	pw.Close()
	m := &monitorProc{cmd: cmd, lines: bufio.NewReader(pr), done: make(chan error, 1)}
	go func() { m.done <- cmd.Wait(); pr.Close() }()
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

// wait waits for the monitor to exit.
func (m *monitorProc) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-m.done:
		if err != nil {
			t.Fatalf("skiff-monitor run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("skiff-monitor run did not exit")
	}
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
	m.wait(t)
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
