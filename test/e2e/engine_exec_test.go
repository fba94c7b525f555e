package e2e

import (
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// engineFor opens an engine on a rootful runner's store from this process,
// as a server would. Its monitor is found on PATH (beside the test binary
// there is none).
func engineFor(t *testing.T, s *Skiff) *engine.Engine {
	t.Helper()
	RequiresRootful(t, s, "the engine runs in the test process, outside any rootless user namespace")
	monitorOnPath.Do(func() { os.Setenv("PATH", BinDir()+":"+os.Getenv("PATH")) })
	e, err := engine.New(context.Background(), engine.Options{Root: s.Root, RunRoot: s.RunRoot})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

var monitorOnPath sync.Once

var regexpPipe = regexp.MustCompile(`pipe:\[\d+\]`)

// ContainerExec from Go with pipes and buffers: the stream form of exec.
// (Rootless, the CLI drives the same path: TestContainerExecStreamForm.)
func TestEngineContainerExec(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootful)
	bb := setup(t, s)
	s.Run("run", "-d", "--name", "box", bb, "sleep", "1000").MustSucceed(t)
	e := engineFor(t, s)
	ctx := context.Background()
	exec := func(o engine.ContainerExecOptions, args ...string) (code int, stdout, stderr string) {
		t.Helper()
		var out, errOut syncBuffer
		if o.Stdout == nil {
			o.Stdout = &out
		}
		if o.Stderr == nil {
			o.Stderr = &errOut
		}
		o.Cmd = args
		res, err := e.ContainerExec(ctx, "box", o)
		if err != nil {
			t.Fatalf("ContainerExec %q: %v", args, err)
		}
		return res.ExitCode, out.String(), errOut.String()
	}

	if code, out, errOut := exec(engine.ContainerExecOptions{}, "sh", "-c", "echo out; echo err >&2; exit 3"); code != 3 || out != "out\n" || errOut != "err\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3, out, err", code, out, errOut)
	}
	if code, _, errOut := exec(engine.ContainerExecOptions{}, "nosuchcmd"); code != 127 || !strings.Contains(errOut, "executable file not found") {
		t.Errorf("a missing command: exit %d, stderr %q; want 127", code, errOut)
	}
	if code, _, _ := exec(engine.ContainerExecOptions{}, "/etc"); code != 126 {
		t.Errorf("a directory as the command: exit %d, want 126", code)
	}
	// stdin from a reader, closed at its end; none without one.
	if code, out, _ := exec(engine.ContainerExecOptions{Stdin: strings.NewReader("hi\n")}, "sh", "-c", "cat; echo done"); code != 0 || out != "hi\ndone\n" {
		t.Errorf("stdin hi: exit %d, stdout %q", code, out)
	}
	if _, out, _ := exec(engine.ContainerExecOptions{}, "sh", "-c", "readlink /proc/$$/fd/0; cat"); out != "/dev/null\n" {
		t.Errorf("no Stdin: stdin is %q, want /dev/null", out)
	}
	// A stream that stays open until we close it, as a client's connection.
	pr, pw := io.Pipe()
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		code, _, _ := exec(engine.ContainerExecOptions{Stdin: pr, Stdout: &out}, "sh", "-c", "while read l; do echo got-$l; done; exit 5")
		done <- code
	}()
	pw.Write([]byte("one\n"))
	out.waitFor(t, "got-one\n", 10*time.Second)
	pw.Write([]byte("two\n"))
	out.waitFor(t, "got-two\n", 10*time.Second)
	pw.Close()
	select {
	case code := <-done:
		if code != 5 {
			t.Errorf("exit %d after the end of stdin, want 5", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the end of Stdin did not reach the process")
	}
	// The process's descriptors are pipes, whatever ours are.
	if _, out, _ := exec(engine.ContainerExecOptions{Stdin: strings.NewReader("")}, "sh", "-c", "for i in 0 1 2; do readlink /proc/$$/fd/$i; done"); len(regexpPipe.FindAllString(out, -1)) != 3 {
		t.Errorf("the process's stdio: %q, want three pipes", out)
	}

	// A terminal: its first size, a resize, input and output on one stream.
	pr, pw = io.Pipe()
	resize := make(chan [2]uint16, 1)
	out = syncBuffer{}
	go func() {
		code, _, _ := exec(engine.ContainerExecOptions{Tty: true, Stdin: pr, Stdout: &out, Size: [2]uint16{30, 100}, Resize: resize},
			"sh", "-c", "tty; stty size; read x; stty size; exit 4")
		done <- code
	}()
	out.waitFor(t, "30 100\r\n", 10*time.Second)
	resize <- [2]uint16{25, 80}
	time.Sleep(200 * time.Millisecond)
	pw.Write([]byte("go\n"))
	select {
	case code := <-done:
		if got := out.String(); code != 4 || !strings.Contains(got, "/dev/pts/") || !strings.Contains(got, "25 80\r\n") {
			t.Errorf("exec with a terminal: exit %d, output %q; want 4, a pty, 25 80", code, got)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("exec with a terminal did not end: %q", out.String())
	}
	pw.Close()

	// Detach: it returns at once, the process runs on.
	start := time.Now()
	if code, _, errOut := exec(engine.ContainerExecOptions{Detach: true}, "sh", "-c", "sleep 1; echo later > /tmp/detached"); code != 0 || time.Since(start) > 900*time.Millisecond {
		t.Errorf("detached exec: exit %d after %v (%s)", code, time.Since(start), errOut)
	}
	eventually(t, 10*time.Second, "the detached process never wrote its file", func() bool {
		_, out, _ := exec(engine.ContainerExecOptions{}, "sh", "-c", "cat /tmp/detached 2>/dev/null; true")
		return out == "later\n"
	})

	// A cancelled context (a client that left) returns at once; the
	// process runs on, as Docker's.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(300*time.Millisecond, cancel)
	start = time.Now()
	_, err := e.ContainerExec(cctx, "box", engine.ContainerExecOptions{Cmd: []string{"sleep", "999"}})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled exec: %v after %v, want context.Canceled at once", err, time.Since(start))
	}
	if _, out, _ := exec(engine.ContainerExecOptions{}, "ps", "-o", "args"); !strings.Contains(out, "sleep 999") {
		t.Errorf("the cancelled exec's process is gone: ps\n%s", out)
	}

	// Errors before anything runs.
	if _, err := e.ContainerExec(ctx, "nope", engine.ContainerExecOptions{Cmd: []string{"true"}}); !errdefs.IsNotFound(err) {
		t.Errorf("exec in a missing container: %v, want not found", err)
	}
	if _, err := e.ContainerExec(ctx, "box", engine.ContainerExecOptions{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("exec without a command: %v, want invalid argument", err)
	}
	s.Run("stop", "-t", "0", "box").MustSucceed(t)
	if _, err := e.ContainerExec(ctx, "box", engine.ContainerExecOptions{Cmd: []string{"true"}}); !errdefs.IsConflict(err) {
		t.Errorf("exec in a stopped container: %v, want conflict", err)
	}
}
