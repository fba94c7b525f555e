package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// dialAttach connects to a monitor's attach socket.
func dialAttach(runDir string) (net.Conn, error) {
	var err error
	for i := 0; i < 100; i++ {
		var a *runtime.AttachConn
		if a, err = runtime.Dial(runDir); err == nil {
			return a.Conn(), nil
		}
		if !errors.Is(err, unix.ENOENT) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil, err
}

// attach connects to a running container.
func (e *Engine) attach(ctx context.Context, c *Container, io *AttachIO) (ContainerStartResult, error) {
	conn, err := dialAttach(e.runDir(c.ID))
	if err != nil {
		return ContainerStartResult{}, fmt.Errorf("container %s: its monitor does not answer: %w", c.Name, err)
	}
	return streamAttach(ctx, conn, io, false)
}

// streamAttach pumps stdio over an attach connection until the container
// exits (FrameExit) or the user types the detach keys. starting is set when
// the monitor waits for us before starting the container and reports
// FrameStarted or FrameError first.
func streamAttach(ctx context.Context, conn net.Conn, aio *AttachIO, starting bool) (ContainerStartResult, error) {
	defer conn.Close()
	if aio.Size != [2]uint16{} {
		runtime.WriteFrame(conn, runtime.FrameResize, sizePayload(aio.Size))
	}
	if aio.CleanupOwner {
		runtime.WriteFrame(conn, runtime.FrameCleanupOwner, nil)
	}
	detached := make(chan struct{})
	if aio.Stdin != nil {
		go pumpStdin(conn, aio.Stdin, aio.DetachKeys, detached)
	}
	if aio.Resize != nil {
		go func() {
			for sz := range aio.Resize {
				runtime.WriteFrame(conn, runtime.FrameResize, sizePayload(sz))
			}
		}()
	}
	type result struct {
		res ContainerStartResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := readFrames(conn, aio, starting)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-detached:
		return ContainerStartResult{Detached: true}, nil
	case <-ctx.Done():
		return ContainerStartResult{}, ctx.Err()
	}
}

func readFrames(conn net.Conn, aio *AttachIO, starting bool) (ContainerStartResult, error) {
	for {
		typ, payload, err := runtime.ReadFrame(conn)
		if err != nil {
			return ContainerStartResult{}, fmt.Errorf("lost the connection to the container's monitor before it reported an exit code: %w", err)
		}
		switch typ {
		case runtime.FrameStdout:
			aio.Stdout.Write(payload)
		case runtime.FrameStderr:
			aio.Stderr.Write(payload)
		case runtime.FrameExit:
			if len(payload) != 4 {
				return ContainerStartResult{}, fmt.Errorf("bad exit frame from the monitor")
			}
			return ContainerStartResult{ExitCode: int(int32(binary.BigEndian.Uint32(payload)))}, nil
		case runtime.FrameError:
			code := 125
			if starting {
				code = runtime.StartExitCode(string(payload))
			}
			return ContainerStartResult{}, &ExitError{Code: code, Err: errors.New(string(payload))}
		}
	}
}

// pumpStdin forwards stdin, watching for the detach key sequence.
func pumpStdin(conn net.Conn, in io.Reader, keys []byte, detached chan<- struct{}) {
	buf := make([]byte, 32*1024)
	matched := 0
	for {
		n, err := in.Read(buf)
		if n > 0 {
			data := buf[:n]
			if len(keys) > 0 {
				for _, b := range data {
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
			}
			if runtime.WriteFrame(conn, runtime.FrameStdin, data) != nil {
				return
			}
		}
		if err != nil {
			runtime.WriteFrame(conn, runtime.FrameStdinClose, nil)
			return
		}
	}
}

func sizePayload(sz [2]uint16) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint16(b, sz[0])
	binary.BigEndian.PutUint16(b[2:], sz[1])
	return b
}
