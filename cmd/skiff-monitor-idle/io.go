package main

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

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
				m.clients.Send(typ, buf[:n])
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
	return monitorio.Inheritable(o.f)
}

// listener is the attach socket.
type listener struct {
	ln   *net.UnixListener
	done chan struct{}
}

func newListener(fd int) *listener {
	ul := monitorio.FileListener(fd) // skiff-monitor removes the path at the end
	if ul == nil {
		return nil
	}
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
			c := &monitorio.Client{Conn: conn}
			m.clients.Add(c)
			m.clients.Serve(c, m)
		}
	}()
}

// pause ends the accept loop; new clients wait in the backlog.
func (l *listener) pause() int {
	l.ln.SetDeadline(past)
	<-l.done
	return monitorio.Inheritable(l.ln)
}

// notifyRelay passes the container's sd_notify messages on to systemd with
// the monitor as MAINPID (skiff-monitor's relayNotify).
type notifyRelay struct {
	conn   *net.UnixConn
	socket string
	done   chan struct{}
}

func newNotifyRelay(fd int, socket string) *notifyRelay {
	conn := monitorio.FileConn(fd)
	if conn == nil {
		return nil
	}
	return &notifyRelay{conn: conn, socket: socket, done: make(chan struct{})}
}

func (n *notifyRelay) start() {
	go func() {
		defer close(n.done)
		monitorio.RelayNotify(n.conn, n.socket)
	}()
}

func (n *notifyRelay) pause() int {
	n.conn.SetReadDeadline(past)
	<-n.done
	return monitorio.Inheritable(n.conn)
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
