package api

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Docker's stream content types: raw for a terminal, else the 8-byte
// multiplexed frames (API 1.42 and later name them; older clients ignore
// the type).
const (
	rawStream         = "application/vnd.docker.raw-stream"
	multiplexedStream = "application/vnd.docker.multiplexed-stream"
)

func streamType(tty bool) string {
	if tty {
		return rawStream
	}
	return multiplexedStream
}

// hijacked is a connection taken over from net/http for attach and exec:
// the client's stdin is read from it (In), the container's output written
// to it (Out), and Close ends it. The idle tracker counts it busy until
// Close.
type hijacked struct {
	conn net.Conn
	raw  net.Conn  // conn as net/http gave it (for Gone)
	In   io.Reader // the client's bytes after the request (its bufio buffer first)
	Out  io.Writer // fails once the client is gone, then cancels ctx

	ctx    context.Context // ends when the client is gone (a write fails, watch) or at Close
	cancel context.CancelFunc
	once   sync.Once
}

// hijack answers r with Docker's upgrade: `101 UPGRADED` with Connection
// and Upgrade headers when the client asked for Upgrade: tcp, else a 200
// whose body is the raw stream; both carry the response headers set so far
// (Docker's, from the middleware) and contentType.
func (s *Server) hijack(w http.ResponseWriter, r *http.Request, contentType string) (*hijacked, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, fmt.Errorf("the connection cannot be taken over for a stream")
	}
	raw, rw, err := hj.Hijack()
	if err != nil {
		return nil, err
	}
	conn := s.idle.hijacked(raw)
	h := w.Header().Clone()
	h.Set("Content-Type", contentType)
	status := "200 OK"
	if upgradeTCP(r) {
		status = "101 UPGRADED"
		h.Set("Connection", "Upgrade")
		h.Set("Upgrade", "tcp")
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + status + "\r\n")
	h.Write(&b)
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		conn.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	x := &hijacked{conn: conn, raw: raw, ctx: ctx, cancel: cancel}
	go x.watch()
	x.In = readerOf(rw.Reader, conn)
	x.Out = writerFunc(func(p []byte) (int, error) {
		n, err := conn.Write(p)
		if err != nil {
			cancel() // the client is gone: end what feeds it
		}
		return n, err
	})
	return x, nil
}

// readerOf reads what br buffered, then conn.
func readerOf(br *bufio.Reader, conn net.Conn) io.Reader {
	if n := br.Buffered(); n > 0 {
		buf, _ := br.Peek(n)
		return io.MultiReader(strings.NewReader(string(buf)), conn)
	}
	return conn
}

// upgradeTCP: the client sent Connection: Upgrade and Upgrade: tcp.
func upgradeTCP(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "tcp")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Gone reports a client that closed its connection, not just its
// sending half (a unix socket's peer that closed entirely reads as
// POLLHUP; its half-close only as POLLRDHUP): an attach that waits for
// its container to start notices a client that went.
func (x *hijacked) Gone() bool {
	sc, ok := x.raw.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLHUP}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			gone = fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0
		}
	})
	return gone
}

// goneCheck is how often a stream looks for a client that went: one
// that neither reads output nor sends input is otherwise noticed only at
// the container's exit.
const goneCheck = 250 * time.Millisecond

// watch ends ctx once the client is gone.
func (x *hijacked) watch() {
	t := time.NewTicker(goneCheck)
	defer t.Stop()
	for {
		select {
		case <-x.ctx.Done():
			return
		case <-t.C:
			if x.Gone() {
				x.cancel()
				return
			}
		}
	}
}

// Close ends the stream: the connection closes and ctx ends.
func (x *hijacked) Close() {
	x.once.Do(func() {
		x.cancel()
		x.conn.Close()
	})
}

// heldStdin is a client's stdin that, at end of input, does not end: for
// a container whose stdin stays open after the client's half-close
// (Docker closes it only with StdinOnce), the end of the client's input
// must not close it. It returns once ctx ends.
func heldStdin(ctx context.Context, in io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n, err := in.Read(p)
		if err == io.EOF {
			if n > 0 {
				return n, nil
			}
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
