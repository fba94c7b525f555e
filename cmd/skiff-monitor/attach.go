package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// clientWriteTimeout drops a client that does not take output for this
// long, so that one stuck terminal cannot stall the container and its log.
const clientWriteTimeout = 10 * time.Second

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

// client is one attach connection.
type client struct {
	conn  *net.UnixConn
	owner atomic.Bool // sent FrameCleanupOwner
}

// clients are the attached clients; output goes to all of them.
type clients struct {
	mu      sync.Mutex
	list    []*client
	pausing bool           // readers stop between frames (becomeIdle)
	readers sync.WaitGroup // serve loops under way
}

func (cs *clients) add(c *client) {
	cs.mu.Lock()
	cs.list = append(cs.list, c)
	cs.mu.Unlock()
}

func (cs *clients) remove(c *client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for i, x := range cs.list {
		if x == c {
			cs.list = append(cs.list[:i], cs.list[i+1:]...)
			c.conn.Close()
			return
		}
	}
}

// send writes a frame to every client and drops those that fail; it
// reports how many took it.
func (cs *clients) send(typ byte, payload []byte) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	n := 0
	kept := cs.list[:0]
	for _, c := range cs.list {
		c.conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
		if err := runtime.WriteFrame(c.conn, typ, payload); err != nil {
			c.conn.Close()
			continue
		}
		kept = append(kept, c)
		n++
	}
	clear(cs.list[len(kept):])
	cs.list = kept
	return n
}

// sendTo writes a frame to one client (in turn with send's frames).
func (cs *clients) sendTo(c *client, typ byte, payload []byte) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
	runtime.WriteFrame(c.conn, typ, payload)
}

// exit sends FrameExit and closes every client. It reports whether a
// client that owns the clean-up was still there to take it.
func (cs *clients) exit(code int) (ownerGotIt bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.list {
		c.conn.SetWriteDeadline(time.Now().Add(time.Second))
		if runtime.WriteFrame(c.conn, runtime.FrameExit, runtime.EncodeExit(code)) == nil && c.owner.Load() {
			ownerGotIt = true
		}
		c.conn.Close()
	}
	cs.list = nil
	return ownerGotIt
}

// goServe serves a client until it disconnects, or until its reader is
// paused.
func (m *monitor) goServe(c *client) {
	m.clients.readers.Add(1)
	go m.serve(c)
}

// serve reads a client's frames until it disconnects or the readers
// pause (then the client stays, for the next program).
func (m *monitor) serve(c *client) {
	defer m.clients.readers.Done()
	for {
		m.clients.mu.Lock()
		pausing := m.clients.pausing
		m.clients.mu.Unlock()
		if pausing {
			return
		}
		typ, payload, err := monitorio.ReadWholeFrame(c.conn)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // paused: the check above returns
			}
			m.clients.remove(c)
			return
		}
		switch typ {
		case runtime.FrameStdin:
			m.writeStdin(payload)
		case runtime.FrameStdinClose:
			m.closeStdin()
		case runtime.FrameResize:
			if h, w, err := runtime.DecodeResize(payload); err == nil {
				m.resize(h, w)
			}
		case runtime.FrameCleanupOwner:
			c.owner.Store(true)
		case runtime.FrameHealthcheck:
			m.healthcheckNow(c)
		}
	}
}

// pauseReaders stops every client's reader between two frames and
// returns the clients as a Handoff names them, their descriptors made
// inheritable; resumeReaders undoes it.
func (cs *clients) pauseReaders() []monitorio.HandoffClient {
	cs.mu.Lock()
	cs.pausing = true
	for _, c := range cs.list {
		c.conn.SetReadDeadline(time.Unix(1, 0))
	}
	cs.mu.Unlock()
	cs.readers.Wait()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []monitorio.HandoffClient
	for _, c := range cs.list {
		c.conn.SetReadDeadline(time.Time{})
		if fd := inheritable(c.conn); fd >= 0 {
			out = append(out, monitorio.HandoffClient{Fd: fd, Owner: c.owner.Load()})
		}
	}
	return out
}

func (m *monitor) resumeReaders() {
	m.clients.mu.Lock()
	m.clients.pausing = false
	list := append([]*client(nil), m.clients.list...)
	m.clients.mu.Unlock()
	for _, c := range list {
		m.goServe(c)
	}
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
			c := &client{conn: conn}
			m.clients.add(c)
			m.goServe(c)
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
