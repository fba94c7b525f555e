package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"
)

// DialWait is Dial, retried for up to half a second while the socket does
// not exist yet (a monitor that just said "ready" from another process's
// point of view).
func DialWait(runDir string) (*AttachConn, error) {
	var err error
	for range 100 {
		var a *AttachConn
		if a, err = Dial(runDir); err == nil {
			return a, nil
		}
		if !errors.Is(err, unix.ENOENT) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil, err
}

// Streams are what an attached client connects to a container.
type Streams struct {
	Stdin      io.Reader // nil: stdin not attached
	Stdout     io.Writer
	Stderr     io.Writer
	Resize     <-chan [2]uint16 // terminal size changes (rows, cols)
	Size       [2]uint16        // initial terminal size, zero when none
	DetachKeys []byte           // e.g. ctrl-p ctrl-q; nil disables detaching
	// CleanupOwner: this client cleans up after the exit itself, so the
	// monitor does not run its exit command.
	CleanupOwner bool
	// Starting: the monitor waits for this client before it starts the
	// container, and reports FrameStarted or FrameError first.
	Starting bool
	// Started, when set, is called at FrameStarted, before any output:
	// the container runs (the API answers its start request there).
	Started func()
}

// StreamResult is how an attachment ended.
type StreamResult struct {
	ExitCode int
	Detached bool // the user typed the detach keys
}

// Stream pumps s over the connection until the container exits
// (FrameExit), the user types the detach keys, or ctx ends; it closes the
// connection. A start the monitor reports failed is a *StartError.
func (a *AttachConn) Stream(ctx context.Context, s Streams) (StreamResult, error) {
	defer a.Close()
	if s.Size != [2]uint16{} {
		a.Resize(s.Size[0], s.Size[1])
	}
	if s.CleanupOwner {
		a.CleanupOwner()
	}
	detached := make(chan struct{})
	if s.Stdin != nil {
		go a.pumpStdin(s.Stdin, s.DetachKeys, detached)
	}
	if s.Resize != nil {
		go func() {
			for sz := range s.Resize {
				a.Resize(sz[0], sz[1])
			}
		}()
	}
	type result struct {
		res StreamResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := a.readOutput(s)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-detached:
		return StreamResult{Detached: true}, nil
	case <-ctx.Done():
		return StreamResult{}, ctx.Err()
	}
}

func (a *AttachConn) readOutput(s Streams) (StreamResult, error) {
	for {
		typ, payload, err := a.ReadFrame()
		if err != nil {
			return StreamResult{}, fmt.Errorf("lost the connection to the container's monitor before it reported an exit code: %w", err)
		}
		switch typ {
		case FrameStdout:
			s.Stdout.Write(payload)
		case FrameStderr:
			s.Stderr.Write(payload)
		case FrameStarted:
			if s.Started != nil {
				s.Started()
			}
		case FrameExit:
			code, err := DecodeExit(payload)
			return StreamResult{ExitCode: code}, err
		case FrameError:
			se := ParseStartError(string(payload))
			if !s.Starting {
				se.Code = 125
			}
			return StreamResult{}, se
		}
	}
}

// pumpStdin forwards stdin, watching for the detach key sequence.
func (a *AttachConn) pumpStdin(in io.Reader, keys []byte, detached chan<- struct{}) {
	buf := make([]byte, 32*1024)
	matched := 0
	for {
		n, err := in.Read(buf)
		if n > 0 {
			data := buf[:n]
			for _, b := range data {
				if len(keys) == 0 {
					break
				}
				if b == keys[matched] {
					matched++
					if matched == len(keys) {
						close(detached)
						return
					}
				} else {
					matched = 0
				}
			}
			if a.Stdin(data) != nil {
				return
			}
		}
		if err != nil {
			a.CloseStdin()
			return
		}
	}
}

// WaitExit reads frames, ignoring the output, until the monitor reports
// the exit code (ok) or hangs up without it, or ctx ends. It closes the
// connection.
func (a *AttachConn) WaitExit(ctx context.Context) (code int, ok bool) {
	defer a.Close()
	stop := context.AfterFunc(ctx, func() { a.Close() })
	defer stop()
	for {
		kind, payload, err := a.ReadFrame()
		if err != nil {
			return 0, false
		}
		if kind == FrameExit {
			code, err := DecodeExit(payload)
			return code, err == nil
		}
	}
}
