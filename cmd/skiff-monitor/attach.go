package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// listenAttach listens on <runDir>/attach.sock, mode 0600. The socket is
// bound through an open descriptor of runDir: its full path may be longer
// than a socket address allows.
func listenAttach(runDir string) (*net.UnixListener, error) {
	path := filepath.Join(runDir, runtime.AttachSocket)
	os.Remove(path) // left by a monitor that was killed
	dir, err := os.Open(runDir)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	// Nothing else runs yet, so the process-wide umask can be changed here;
	// it must be restored: the container inherits it.
	old := unix.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{
		Name: "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + runtime.AttachSocket, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false) // the name it was bound with is gone; the monitor removes path
	return ln, nil
}

// startAccepting serves new clients until the listener closes, or until
// pauseAccepting (new clients then wait in the backlog). It does nothing
// when the loop runs.
func (m *monitor) startAccepting() {
	if m.accepts != nil {
		return
	}
	done := make(chan struct{})
	m.accepts = done
	go func() {
		defer close(done)
		for {
			conn, err := m.ln.AcceptUnix()
			if err != nil {
				return
			}
			c := &monitorio.Client{Conn: conn}
			m.clients.Add(c)
			m.clients.Serve(c, m)
		}
	}()
}

// pauseAccepting ends the accept loop and leaves the listener open.
func (m *monitor) pauseAccepting() {
	if m.accepts == nil {
		return
	}
	m.ln.SetDeadline(time.Unix(1, 0))
	<-m.accepts
	m.accepts = nil
	m.ln.SetDeadline(time.Time{})
}
