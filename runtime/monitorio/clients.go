package monitorio

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ClientWriteTimeout drops a client that does not take output for this
// long, so that one stuck terminal cannot stall the container and its log.
const ClientWriteTimeout = 10 * time.Second

// Client is one attach connection.
type Client struct {
	Conn  *net.UnixConn
	Owner atomic.Bool // sent FrameCleanupOwner
}

// Handler is what a monitor does with a client's frames.
type Handler interface {
	WriteStdin(p []byte)
	CloseStdin()
	Resize(height, width uint16)
	Healthcheck(c *Client) // answers FrameHealthcheck with SendTo
}

// Clients are a monitor's attached clients; output goes to all of them.
// Their readers can be paused between frames, for the next program.
type Clients struct {
	mu      sync.Mutex
	list    []*Client
	pausing bool
	readers sync.WaitGroup
	onEmpty func()
}

// NotifyEmpty has f called (not under the lock) whenever the last client
// leaves.
func (cs *Clients) NotifyEmpty(f func()) {
	cs.mu.Lock()
	cs.onEmpty = f
	cs.mu.Unlock()
}

// emptied calls onEmpty when a removal left no client; cs.mu is held, and
// the call runs once it is released.
func (cs *Clients) emptied(before int) func() {
	if f := cs.onEmpty; f != nil && before > 0 && len(cs.list) == 0 {
		return f
	}
	return func() {}
}

// Add adds a client (Serve reads its frames).
func (cs *Clients) Add(c *Client) {
	cs.mu.Lock()
	cs.list = append(cs.list, c)
	cs.mu.Unlock()
}

// Len is how many clients are attached.
func (cs *Clients) Len() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.list)
}

// Remove closes a client and forgets it.
func (cs *Clients) Remove(c *Client) {
	cs.mu.Lock()
	before := len(cs.list)
	for i, x := range cs.list {
		if x == c {
			cs.list = append(cs.list[:i], cs.list[i+1:]...)
			c.Conn.Close()
			break
		}
	}
	notify := cs.emptied(before)
	cs.mu.Unlock()
	notify()
}

// Send writes a frame to every client and drops those that fail; it
// reports how many took it.
func (cs *Clients) Send(typ byte, payload []byte) int {
	cs.mu.Lock()
	before := len(cs.list)
	defer func() {
		notify := cs.emptied(before)
		cs.mu.Unlock()
		notify()
	}()
	n := 0
	kept := cs.list[:0]
	for _, c := range cs.list {
		c.Conn.SetWriteDeadline(time.Now().Add(ClientWriteTimeout))
		if err := WriteFrame(c.Conn, typ, payload); err != nil {
			c.Conn.Close()
			continue
		}
		kept = append(kept, c)
		n++
	}
	clear(cs.list[len(kept):])
	cs.list = kept
	return n
}

// SendTo writes a frame to one client (in turn with Send's frames).
func (cs *Clients) SendTo(c *Client, typ byte, payload []byte) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c.Conn.SetWriteDeadline(time.Now().Add(ClientWriteTimeout))
	WriteFrame(c.Conn, typ, payload)
}

// Exit sends FrameExit and closes every client. It reports whether a
// client that owns the clean-up was still there to take it.
func (cs *Clients) Exit(code int) (ownerGotIt bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.list {
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		if WriteFrame(c.Conn, FrameExit, EncodeExit(code)) == nil && c.Owner.Load() {
			ownerGotIt = true
		}
		c.Conn.Close()
	}
	cs.list = nil
	return ownerGotIt
}

// Serve reads c's frames for h until c disconnects or the readers pause.
func (cs *Clients) Serve(c *Client, h Handler) {
	cs.readers.Add(1)
	go cs.serve(c, h)
}

func (cs *Clients) serve(c *Client, h Handler) {
	defer cs.readers.Done()
	for {
		cs.mu.Lock()
		pausing := cs.pausing
		cs.mu.Unlock()
		if pausing {
			return // the client stays, for the next program
		}
		typ, payload, err := ReadWholeFrame(c.Conn)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // paused: the check above returns
			}
			cs.Remove(c)
			return
		}
		switch typ {
		case FrameStdin:
			h.WriteStdin(payload)
		case FrameStdinClose:
			h.CloseStdin()
		case FrameResize:
			if height, width, err := DecodeResize(payload); err == nil {
				h.Resize(height, width)
			}
		case FrameCleanupOwner:
			c.Owner.Store(true)
		case FrameHealthcheck:
			h.Healthcheck(c)
		}
	}
}

// Pause stops every client's reader between two frames and returns the
// clients as a Handoff names them, their descriptors made inheritable.
func (cs *Clients) Pause() []HandoffClient {
	cs.mu.Lock()
	cs.pausing = true
	for _, c := range cs.list {
		c.Conn.SetReadDeadline(time.Unix(1, 0))
	}
	cs.mu.Unlock()
	cs.readers.Wait()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []HandoffClient
	for _, c := range cs.list {
		c.Conn.SetReadDeadline(time.Time{})
		if fd := Inheritable(c.Conn); fd >= 0 {
			out = append(out, HandoffClient{Fd: fd, Owner: c.Owner.Load()})
		}
	}
	return out
}

// Resume serves every client again after Pause, or after Adopt.
func (cs *Clients) Resume(h Handler) {
	cs.mu.Lock()
	cs.pausing = false
	list := append([]*Client(nil), cs.list...)
	cs.mu.Unlock()
	for _, c := range list {
		cs.Serve(c, h)
	}
}

// Adopt takes the clients a Handoff names (Resume serves them).
func (cs *Clients) Adopt(clients []HandoffClient) {
	for _, hc := range clients {
		if conn := FileConn(hc.Fd); conn != nil {
			c := &Client{Conn: conn}
			c.Owner.Store(hc.Owner)
			cs.Add(c)
		}
	}
}

// Inheritable clears close-on-exec of a descriptor handed to the next
// program and returns its number (-1 on failure); the Go object keeps it
// open until the execve.
func Inheritable(f interface {
	SyscallConn() (syscall.RawConn, error)
}) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(u uintptr) {
		if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, u, syscall.F_SETFD, 0); errno == 0 {
			fd = int(u)
		}
	})
	return fd
}

// FileConn makes a handed-over socket a connection again (nil on failure).
func FileConn(fd int) *net.UnixConn {
	f := os.NewFile(uintptr(fd), "socket")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil
	}
	uc, _ := c.(*net.UnixConn)
	return uc
}

// FileListener makes a handed-over listening socket a listener again; the
// path stays when it closes (whoever made it removes it).
func FileListener(fd int) *net.UnixListener {
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil
	}
	ul, _ := ln.(*net.UnixListener)
	if ul != nil {
		ul.SetUnlinkOnClose(false)
	}
	return ul
}
