package e2e

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/engine"
)

// ContainerRun and ContainerAttach from Go with pipes and buffers: the
// stream form a server uses. (The CLI drives the same calls rootless.)
func TestEngineContainerRunAttach(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootful)
	bb := setup(t, s)
	e := engineFor(t, s)
	ctx := context.Background()

	// A foreground run: stdin from a pipe, stdout and stderr apart, the
	// exit code returned, and --rm cleaned up by the call itself.
	var out, errOut syncBuffer
	res, err := e.ContainerRun(ctx, engine.ContainerRunOptions{
		Create: engine.ContainerCreateOptions{Image: bb, OpenStdin: true, AutoRemove: true, Name: "fg-run", NetworkMode: "none",
			Cmd: []string{"sh", "-c", "cat; echo to-stderr >&2; exit 7"}},
		IO: engine.AttachIO{Stdin: strings.NewReader("from-a-pipe\n"), Stdout: &out, Stderr: &errOut},
	})
	if err != nil || res.ExitCode != 7 || out.String() != "from-a-pipe\n" || errOut.String() != "to-stderr\n" {
		t.Fatalf("ContainerRun: %v, exit %d, stdout %q, stderr %q; want exit 7, the piped line, to-stderr", err, res.ExitCode, out.String(), errOut.String())
	}
	if ok, err := e.ContainerExists(ctx, "fg-run", engine.ContainerExistsOptions{}); err != nil || ok.Exists {
		t.Fatalf("the --rm container is still there after ContainerRun returned (%v)", err)
	}

	// A detached run, then ContainerAttach with pipes: input reaches it,
	// output comes back, and the exit code ends the attachment.
	res, err = e.ContainerRun(ctx, engine.ContainerRunOptions{Detach: true,
		Create: engine.ContainerCreateOptions{Image: bb, OpenStdin: true, Name: "bg-run", NetworkMode: "none",
			Cmd: []string{"sh", "-c", "read line; echo got $line; exit 3"}}})
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	var aout syncBuffer
	done := make(chan engine.ContainerAttachResult, 1)
	go func() {
		r, err := e.ContainerAttach(ctx, res.ID, engine.ContainerAttachOptions{IO: engine.AttachIO{Stdin: inR, Stdout: &aout, Stderr: &aout}})
		if err != nil {
			t.Errorf("ContainerAttach: %v", err)
		}
		done <- r
	}()
	time.Sleep(200 * time.Millisecond) // attached before the line is sent
	inW.Write([]byte("hello\n"))
	select {
	case r := <-done:
		if r.ExitCode != 3 || aout.String() != "got hello\n" {
			t.Errorf("attach: exit %d, output %q; want 3, got hello", r.ExitCode, aout.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ContainerAttach did not return after the container exited")
	}
	// The exit was recorded, and attach never starts a stopped container.
	if w, err := e.ContainerWait(ctx, res.ID, engine.ContainerWaitOptions{}); err != nil || w.ExitCode != 3 {
		t.Errorf("ContainerWait: %d, %v; want 3", w.ExitCode, err)
	}
	if _, err := e.ContainerAttach(ctx, res.ID, engine.ContainerAttachOptions{IO: engine.AttachIO{Stdout: io.Discard, Stderr: io.Discard}}); err == nil {
		t.Errorf("ContainerAttach of an exited container succeeded; it must never start it")
	}
	if st := status(t, s, "bg-run"); !strings.HasPrefix(st, "Exited (3)") {
		t.Errorf("after the refused attach: %q", st)
	}
	// next-exit of a stopped container waits for a run that starts later.
	s.Run("create", "--name", "next", bb, "sh", "-c", "sleep 0.3; exit 4").MustSucceed(t)
	waited := make(chan int, 1)
	go func() {
		w, _ := e.ContainerWait(ctx, "next", engine.ContainerWaitOptions{Condition: engine.WaitNextExit})
		waited <- w.ExitCode
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case c := <-waited:
		t.Fatalf("wait next-exit of a created container returned %d before any run", c)
	default:
	}
	s.Run("start", "next").MustSucceed(t)
	select {
	case c := <-waited:
		if c != 4 {
			t.Errorf("next-exit: %d, want 4", c)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("wait next-exit did not return after the next run exited")
	}
	if _, err := e.ContainerRemove(ctx, "bg-run", engine.ContainerRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
}
