package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// ExecStreams are the stdio of an exec run with RunExec.
type ExecStreams struct {
	// Stdin is copied to the process until it ends (then the process
	// reads end of file); nil gives the process none. RunExec returns
	// without waiting for a Read in progress: the copy stops at the next.
	Stdin io.Reader
	// Stdout and Stderr take the process's output (nil: discarded). With a
	// terminal all of it goes to Stdout; Stderr gets the monitor's own
	// errors ("exec failed: ...").
	Stdout, Stderr io.Writer
	// Resize carries terminal sizes (rows, columns) for a process with a
	// terminal; nil when the size never changes.
	Resize <-chan [2]uint16
	// Signals are sent to the monitor, which passes SIGTERM, SIGHUP,
	// SIGUSR1 and SIGUSR2 on to the process; nil sends none.
	Signals <-chan os.Signal
}

// RunExec runs the exec described by the ExecConfig at cfgPath with
// monitor, the skiff-monitor binary, as a child whose stdio are pipes
// copied to and from s, and returns the exit code of the monitor (the
// process's, or 125/126/127; see ExecConfig). The config must set Stdin
// exactly when s.Stdin is not nil, and Resize when s.Resize is not nil.
// When ctx ends (its client is gone), RunExec returns ctx's error at once
// and the process runs on, as Docker's does when an exec's client leaves:
// its input ends and its output is dropped (by the monitor, once the
// copies here end with the client's stream); the monitor is reaped in the
// background.
func RunExec(ctx context.Context, monitor, cfgPath string, s ExecStreams) (int, error) {
	cmd := exec.Command(monitor, "exec", cfgPath)
	var theirs, ours []*os.File // the child's ends, closed after the start; ours on failure
	defer func() {
		for _, f := range theirs {
			f.Close()
		}
	}()
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err == nil {
			ours = append(ours, r, w)
		}
		return r, w, err
	}
	fail := func(err error) (int, error) {
		for _, f := range ours {
			f.Close()
		}
		return 125, err
	}
	outR, outW, err := pipe()
	if err != nil {
		return fail(err)
	}
	errR, errW, err := pipe()
	if err != nil {
		return fail(err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	theirs = append(theirs, outW, errW)
	var inW, sizeW *os.File
	if s.Stdin != nil {
		var inR *os.File
		if inR, inW, err = pipe(); err != nil {
			return fail(err)
		}
		cmd.Stdin = inR
		theirs = append(theirs, inR)
	}
	if s.Resize != nil {
		var sizeR *os.File
		if sizeR, sizeW, err = pipe(); err != nil {
			return fail(err)
		}
		cmd.ExtraFiles = []*os.File{sizeR} // ExecResizeFd
		theirs = append(theirs, sizeR)
	}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("starting %s: %w", monitor, err))
	}
	for _, f := range theirs {
		f.Close()
	}
	theirs = nil

	if inW != nil {
		go func() { io.Copy(inW, s.Stdin); inW.Close() }()
	}
	if sizeW != nil {
		defer sizeW.Close()
		go func() {
			for sz := range s.Resize {
				if _, err := sizeW.Write(EncodeResize(sz[0], sz[1])); err != nil {
					return
				}
			}
		}()
	}
	// The monitor is the only writer of these pipes (the process has pipes
	// of its own), so they end when it exits. A copy whose writer fails
	// closes its pipe: the monitor then drops the rest of the output.
	var copies sync.WaitGroup
	for _, c := range []struct {
		w io.Writer
		r *os.File
	}{{s.Stdout, outR}, {s.Stderr, errR}} {
		if c.w == nil {
			c.w = io.Discard
		}
		copies.Add(1)
		go func() {
			defer copies.Done()
			defer c.r.Close()
			io.Copy(c.w, c.r)
		}()
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	if s.Signals != nil {
		exited := make(chan struct{})
		defer close(exited)
		go func() {
			for {
				select {
				case <-exited:
					return
				case sig := <-s.Signals:
					cmd.Process.Signal(sig)
				}
			}
		}()
	}
	select {
	case err = <-waited:
	case <-ctx.Done():
		if inW != nil {
			inW.Close() // end of input; the copy's next write fails
		}
		return 125, ctx.Err()
	}
	copies.Wait()
	if inW != nil {
		inW.Close() // the copy may still wait in a Read of s.Stdin
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 125, fmt.Errorf("the exec monitor was killed by %v", ws.Signal())
	}
	if err != nil && cmd.ProcessState.ExitCode() < 0 {
		return 125, err
	}
	return cmd.ProcessState.ExitCode(), nil
}
