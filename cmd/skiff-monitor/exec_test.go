package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// runningContainer starts `sleep 30` detached and stops it at the end.
func runningContainer(t *testing.T) (*fixture, *monitorProc) {
	f := newFixture(t, "sleep", "30")
	m := f.start()
	if l := m.line(t); l != "ready" {
		t.Fatalf("first line %q", l)
	}
	if l := m.line(t); !strings.HasPrefix(l, "started ") {
		t.Fatalf("second line %q", l)
	}
	t.Cleanup(func() { f.kill(); m.wait(t) })
	return f, m
}

// kill stops the container the way the engine does: Load and Signal.
func (f *fixture) kill() {
	if c, err := libcontainer.Load(f.cfg.StateRoot, f.cfg.ID); err == nil {
		c.Signal(unix.SIGKILL)
	}
}

// execCmd is `skiff-monitor exec` for p, as the engine prepares it: cfg
// gives the flags (Stdin, Detach, Resize), the rest is filled in.
func (f *fixture) execCmd(p specs.Process, cfg runtime.ExecConfig) *exec.Cmd {
	f.t.Helper()
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	p.Env = append(p.Env, "PATH=/bin")
	cfg.ID, cfg.StateRoot, cfg.Process = f.cfg.ID, f.cfg.StateRoot, p
	b, err := json.Marshal(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	path := filepath.Join(f.cfg.RunDir, "exec-"+strconv.FormatInt(time.Now().UnixNano(), 10)+".json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return exec.Command(monitorBin, "exec", path)
}

func TestExecExitCodes(t *testing.T) {
	f, _ := runningContainer(t)
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"sh", "-c", "echo in; echo oops >&2; exit 7"}, 7, "in\n", "oops\n"},
		{[]string{"sh", "-c", "cat /proc/1/cmdline"}, 0, "sleep\x0030\x00", ""},
		{[]string{"sh", "-c", "kill -9 $$"}, 137, "", ""},
		{[]string{"nonexistent-command"}, 127, "", "executable file not found"},
		{[]string{"/etc"}, 126, "", "is a directory"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := f.execCmd(specs.Process{Args: tc.args}, runtime.ExecConfig{})
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.code {
				t.Errorf("exit code %d (%v), want %d; stderr %q", code, err, tc.code, stderr.String())
			}
			if stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stdout %q stderr %q, want %q and %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
			}
		})
	}
	entries, _ := filepath.Glob(filepath.Join(f.cfg.RunDir, "exec-*.json"))
	if len(entries) != 0 {
		t.Errorf("exec configs left behind: %v", entries)
	}
}

func TestExecDetach(t *testing.T) {
	f, _ := runningContainer(t)
	cmd := f.execCmd(specs.Process{Args: []string{"sh", "-c", "sleep 0.2; echo hi > /tmp/detached"}}, runtime.ExecConfig{Detach: true})
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if d := time.Since(start); d > 150*time.Millisecond+time.Second {
		t.Errorf("exec -d took %s: it waited for the process", d)
	}
	marker := filepath.Join(f.cfg.Bundle, "rootfs", "tmp", "detached")
	waitFor(t, func() bool { b, _ := os.ReadFile(marker); return string(b) == "hi\n" }, "the detached process")
	t.Logf("detached process done after %s", time.Since(start))
}

func TestExecNotRunning(t *testing.T) {
	f := newFixture(t, "true")
	cmd := f.execCmd(specs.Process{Args: []string{"true"}}, runtime.ExecConfig{})
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 125 || !strings.Contains(string(out), "Error: container "+f.cfg.ID+" is not running") {
		t.Errorf("exit %d, output %q; want 125 and not running", code, out)
	}
}

// TestExecTerminal runs exec -it from a real terminal: raw mode, the
// terminal's size, and a resize passed on with SIGWINCH.
func TestExecTerminal(t *testing.T) {
	f, _ := runningContainer(t)
	master, slave := openPty(t)
	unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120})
	cmd := f.execCmd(specs.Process{Terminal: true, Args: []string{"sh", "-c", "tty; stty size; read x; stty size; exit 4"}}, runtime.ExecConfig{Stdin: true})
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	out := make(chan string, 1)
	var seen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		resized := false
		for {
			n, err := master.Read(buf)
			seen.Write(buf[:n])
			// The first size's line complete (a read may end before its
			// "\r\n"), resize once.
			if !resized && strings.Contains(seen.String(), "40 120\r\n") {
				resized = true
				unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 25, Col: 80})
				time.Sleep(100 * time.Millisecond) // SIGWINCH reaches the monitor
				master.Write([]byte("go\r"))
			}
			if err != nil {
				out <- seen.String()
				return
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("exec -t did not end; output %q", seen.String())
	}
	got := <-out
	if code := cmd.ProcessState.ExitCode(); code != 4 {
		t.Errorf("exit %d, want 4; output %q", code, got)
	}
	// Raw mode: the container's pty makes the line endings, ours passes
	// them through untouched (a cooked terminal would add \r\r\n).
	for _, want := range []string{"/dev/pts/0\r\n", "40 120\r\n", "25 80\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
}

// openPty opens a pseudo-terminal pair.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestExecStdio: with files for its stdio (the caller's), the monitor
// gives the process pipes and /dev/null, copies stdin to its end, and does
// not wait for a background process that keeps the output open.
func TestExecStdio(t *testing.T) {
	f, _ := runningContainer(t)
	dir := t.TempDir()
	files := func(stdin string) (in, out *os.File) {
		in, err := os.Create(filepath.Join(dir, "in"))
		if err == nil {
			_, err = in.WriteString(stdin)
		}
		if err == nil {
			_, err = in.Seek(0, 0)
		}
		if err == nil {
			out, err = os.Create(filepath.Join(dir, "out"))
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close(); out.Close() })
		return in, out
	}
	read := func(f *os.File) string {
		b, _ := os.ReadFile(f.Name())
		return string(b)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin bool
		want  string
	}{
		{"without -i", []string{"sh", "-c", "for i in 0 1 2; do readlink /proc/$$/fd/$i; done | sed 's/:.*//'; cat"}, false, "/dev/null\npipe\npipe\n"},
		{"with -i", []string{"sh", "-c", "readlink /proc/$$/fd/0 | sed 's/:.*//'; cat"}, true, "pipe\ntyped\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out := files("typed\n")
			var stderr bytes.Buffer
			cmd := f.execCmd(specs.Process{Args: tc.args}, runtime.ExecConfig{Stdin: tc.stdin})
			cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v: %s", err, stderr.String())
			}
			if got := read(out); got != tc.want {
				t.Errorf("stdout %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("background", func(t *testing.T) {
		_, out := files("")
		cmd := f.execCmd(specs.Process{Args: []string{"sh", "-c", "(sleep 5; echo late) & echo now"}}, runtime.ExecConfig{})
		cmd.Stdout = out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > drainTimeout+time.Second {
			t.Errorf("exec took %v: it waited for the background process", d)
		}
		time.Sleep(5*time.Second - time.Since(start) + 500*time.Millisecond)
		if got := read(out); got != "now\n" {
			t.Errorf("stdout %q, want only \"now\\n\": the background process wrote to the caller's file", got)
		}
	})
}

// TestExecResize: a terminal sized by Process.ConsoleSize and then by the
// sizes on ExecResizeFd, with stdin and stdout pipes (the stream form).
func TestExecResize(t *testing.T) {
	f, _ := runningContainer(t)
	p := specs.Process{Terminal: true, ConsoleSize: &specs.Box{Height: 30, Width: 100},
		Args: []string{"sh", "-c", "stty size; read x; stty size; exit 3"}}
	cmd := f.execCmd(p, runtime.ExecConfig{Stdin: true, Resize: true})
	sizeR, sizeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer sizeW.Close()
	cmd.ExtraFiles = []*os.File{sizeR}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuf
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sizeR.Close()
	waitFor(t, func() bool { return strings.Contains(out.String(), "30 100\r\n") }, "the first size")
	sizeW.Write(runtime.EncodeResize(25, 80))
	time.Sleep(100 * time.Millisecond)
	stdin.Write([]byte("go\n"))
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(out.String(), "25 80\r\n") {
		t.Errorf("exit %d, output %q; want 3 and 25 80", code, out.String())
	}
}

// syncBuf is a bytes.Buffer that a copying goroutine writes while the
// test reads.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
