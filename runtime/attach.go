package runtime

import (
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// AttachSocket is the name of the monitor's attach socket in its RunDir.
const AttachSocket = "attach.sock"

// AttachConn is a client's connection to a monitor's attach socket (the
// protocol is described above FrameStdin). Its methods may be called from
// several goroutines: each frame goes out in one write.
type AttachConn struct {
	c net.Conn
}

// Dial connects to the attach socket of the monitor whose RunDir is runDir.
func Dial(runDir string) (*AttachConn, error) {
	var c net.Conn
	err := inDir(runDir, func(dir string) error {
		var err error
		c, err = net.Dial("unix", filepath.Join(dir, AttachSocket))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &AttachConn{c: c}, nil
}

// inDir calls fn with a short name of dir: a socket's path must fit in a
// sockaddr_un (108 bytes), and run dirs under a deep XDG_RUNTIME_DIR may
// not, so dir is reached through an open descriptor.
func inDir(dir string, fn func(dir string) error) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn("/proc/self/fd/" + strconv.Itoa(int(d.Fd())))
}

// Stdin sends p to the container's stdin.
func (a *AttachConn) Stdin(p []byte) error { return WriteFrame(a.c, FrameStdin, p) }

// CloseStdin closes the container's stdin (end of input).
func (a *AttachConn) CloseStdin() error { return WriteFrame(a.c, FrameStdinClose, nil) }

// Resize sets the container's terminal size.
func (a *AttachConn) Resize(height, width uint16) error {
	return WriteFrame(a.c, FrameResize, EncodeResize(height, width))
}

// CleanupOwner tells the monitor that this client cleans up after the
// container exits, so the monitor does not run its exit command (as long
// as this connection stays open until the exit).
func (a *AttachConn) CleanupOwner() error { return WriteFrame(a.c, FrameCleanupOwner, nil) }

// ReadFrame reads the next frame from the monitor.
func (a *AttachConn) ReadFrame() (byte, []byte, error) { return ReadFrame(a.c) }

// Close closes the connection; the container keeps running.
func (a *AttachConn) Close() error { return a.c.Close() }

// Conn is the underlying connection (for deadlines).
func (a *AttachConn) Conn() net.Conn { return a.c }

// EncodeResize is a FrameResize payload.
func EncodeResize(height, width uint16) []byte { return monitorio.EncodeResize(height, width) }

// DecodeResize reads a FrameResize payload.
func DecodeResize(p []byte) (height, width uint16, err error) { return monitorio.DecodeResize(p) }

// EncodeExit is a FrameExit payload.
func EncodeExit(code int) []byte { return monitorio.EncodeExit(code) }

// DecodeExit reads a FrameExit payload.
func DecodeExit(p []byte) (int, error) { return monitorio.DecodeExit(p) }
