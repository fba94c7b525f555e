package main

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// clientWriteTimeout drops a client that does not take output for this
// long (skiff-monitor's).
const clientWriteTimeout = 10 * time.Second

// past is a deadline that has passed: it stops a reader at once.
var past = time.Unix(1, 0)

// pidfd is the container's init: a process descriptor, waited for in the
// runtime's poller (no thread held), and never reaped here: skiff-monitor
// reaps it and reads its status.
type pidfd struct {
	f   *os.File
	pid int
}

const (
	sysPidfdOpen = 434 // pidfd_open(2)
	pPidfd       = 3   // waitid's P_PIDFD
)

func openPidfd(pid int) (*pidfd, error) {
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), uintptr(syscall.O_NONBLOCK), 0)
	if errno != 0 {
		return nil, errno
	}
	syscall.CloseOnExec(int(fd))
	return &pidfd{f: os.NewFile(fd, "pidfd"), pid: pid}, nil
}

// waitExit returns once the init has exited (it stays a zombie).
func (p *pidfd) waitExit() {
	rc, err := p.f.SyscallConn()
	if err != nil {
		return
	}
	rc.Read(func(fd uintptr) bool {
		var info [128]byte // siginfo_t
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPidfd, fd, uintptr(unsafe.Pointer(&info[0])),
			syscall.WEXITED|syscall.WNOHANG|0x01000000 /* WNOWAIT */, 0, 0)
		// si_pid (offset 16) is 0 while the process runs.
		return errno != 0 || *(*int32)(unsafe.Pointer(&info[16])) != 0
	})
}

// signal signals the init; it cannot hit another process: an unreaped
// child's pid is not reused.
func (p *pidfd) signal(sig syscall.Signal) { syscall.Kill(p.pid, sig) }

// output copies one output stream of the container to the log and the
// clients until it ends, or until pause.
type output struct {
	f      *os.File
	typ    byte
	paused atomic.Bool
	done   chan struct{}
}

func (m *idle) copyOutput(f *os.File, typ byte) *output {
	o := &output{f: f, typ: typ, done: make(chan struct{})}
	stream := monitorio.StreamStdout
	if typ == monitorio.FrameStderr {
		stream = monitorio.StreamStderr
	}
	go func() {
		defer close(o.done)
		buf := make([]byte, 16<<10)
		for {
			n, err := o.f.Read(buf)
			if n > 0 {
				if m.log != nil {
					m.log.Write(stream, buf[:n])
				}
				m.clients.send(typ, buf[:n])
			}
			if err != nil {
				if !o.paused.Load() || !errors.Is(err, os.ErrDeadlineExceeded) {
					o.f.Close() // EOF, or EIO from a pty whose last user left
					o.paused.Store(false)
				}
				return
			}
		}
	}()
	return o
}

// pause stops the copy and returns its descriptor, made inheritable, or
// -1 when the stream has ended.
func (o *output) pause() int {
	o.paused.Store(true)
	o.f.SetReadDeadline(past)
	<-o.done
	if !o.paused.Load() {
		return -1
	}
	return inheritable(o.f)
}

// listener is the attach socket.
type listener struct {
	ln   *net.UnixListener
	done chan struct{}
}

func newListener(fd int) *listener {
	f := os.NewFile(uintptr(fd), "attach.sock")
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		return nil
	}
	ul, _ := l.(*net.UnixListener)
	if ul == nil {
		return nil
	}
	ul.SetUnlinkOnClose(false) // skiff-monitor removes it at the end
	return &listener{ln: ul, done: make(chan struct{})}
}

func (l *listener) start(m *idle) {
	go func() {
		defer close(l.done)
		for {
			conn, err := l.ln.AcceptUnix()
			if err != nil {
				return
			}
			c := &client{conn: conn}
			m.clients.add(c)
			m.goServe(c)
		}
	}()
}

// pause ends the accept loop; new clients wait in the backlog.
func (l *listener) pause() int {
	l.ln.SetDeadline(past)
	<-l.done
	return inheritable(l.ln)
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
	pausing bool
	readers sync.WaitGroup
}

func (cs *clients) add(c *client) {
	cs.mu.Lock()
	cs.list = append(cs.list, c)
	cs.mu.Unlock()
}

func (cs *clients) all() []*client {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]*client(nil), cs.list...)
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

// send writes a frame to every client and drops those that fail.
func (cs *clients) send(typ byte, payload []byte) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	kept := cs.list[:0]
	for _, c := range cs.list {
		c.conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
		if err := monitorio.WriteFrame(c.conn, typ, payload); err != nil {
			c.conn.Close()
			continue
		}
		kept = append(kept, c)
	}
	clear(cs.list[len(kept):])
	cs.list = kept
}

// sendTo writes a frame to one client (in turn with send's frames).
func (cs *clients) sendTo(c *client, typ byte, payload []byte) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
	monitorio.WriteFrame(c.conn, typ, payload)
}

// pause stops every client's reader between two frames and returns the
// clients, their descriptors made inheritable.
func (cs *clients) pause() []monitorio.HandoffClient {
	cs.mu.Lock()
	cs.pausing = true
	for _, c := range cs.list {
		c.conn.SetReadDeadline(past)
	}
	cs.mu.Unlock()
	cs.readers.Wait()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []monitorio.HandoffClient
	for _, c := range cs.list {
		if fd := inheritable(c.conn); fd >= 0 {
			out = append(out, monitorio.HandoffClient{Fd: fd, Owner: c.owner.Load()})
		}
	}
	return out
}

// goServe serves a client until it disconnects or the clients pause.
func (m *idle) goServe(c *client) {
	m.clients.readers.Add(1)
	go m.serve(c)
}

func (m *idle) serve(c *client) {
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
				continue // paused (the loop's check returns), or a stale deadline
			}
			m.clients.remove(c)
			return
		}
		switch typ {
		case monitorio.FrameStdin:
			m.writeStdin(payload)
		case monitorio.FrameStdinClose:
			m.closeStdin()
		case monitorio.FrameResize:
			if h, w, err := monitorio.DecodeResize(payload); err == nil {
				m.resize(h, w)
			}
		case monitorio.FrameCleanupOwner:
			c.owner.Store(true)
		case monitorio.FrameHealthcheck:
			m.healthcheckNow(c)
		}
	}
}

// notifyRelay passes the container's sd_notify messages on to systemd with
// the monitor as MAINPID (skiff-monitor's relayNotify).
type notifyRelay struct {
	conn   *net.UnixConn
	socket string
	done   chan struct{}
}

func newNotifyRelay(fd int, socket string) *notifyRelay {
	conn := fileConn(fd)
	if conn == nil {
		return nil
	}
	return &notifyRelay{conn: conn, socket: socket, done: make(chan struct{})}
}

func (n *notifyRelay) start() {
	go func() {
		defer close(n.done)
		buf := make([]byte, 4096)
		self := "MAINPID=" + itoa(os.Getpid())
		for {
			k, err := n.conn.Read(buf)
			if err != nil {
				return
			}
			lines := []string{self}
			for _, l := range strings.Split(string(buf[:k]), "\n") {
				if l != "" && !strings.HasPrefix(l, "MAINPID=") {
					lines = append(lines, l)
				}
			}
			if c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.socket, Net: "unixgram"}); err == nil {
				c.Write([]byte(strings.Join(lines, "\n")))
				c.Close()
			}
		}
	}()
}

func (n *notifyRelay) pause() int {
	n.conn.SetReadDeadline(past)
	<-n.done
	return inheritable(n.conn)
}

// fileConn makes a handed-over socket a connection again.
func fileConn(fd int) *net.UnixConn {
	f := os.NewFile(uintptr(fd), "socket")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil
	}
	uc, _ := c.(*net.UnixConn)
	return uc
}

// inheritable clears close-on-exec of a descriptor handed to the next
// program and returns its number (-1 on failure).
func inheritable(f interface {
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

// setSize sets a terminal's size (through SyscallConn: Fd would make the
// master blocking).
func setSize(f *os.File, height, width uint16) {
	if height == 0 || width == 0 {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	ws := [4]uint16{height, width, 0, 0}
	rc.Control(func(fd uintptr) {
		syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws[0])))
	})
}
