package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// hijackServer serves, on a unix socket, one handler that hijacks and
// hands the stream to the test.
func hijackServer(t *testing.T) (*Server, string, <-chan *hijacked) {
	t.Helper()
	s := &Server{idle: newIdleTracker(0)}
	got := make(chan *hijacked, 1)
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.44")
		x, err := s.hijack(w, r, streamType(r.URL.Query().Get("tty") == "1"))
		if err != nil {
			t.Error(err)
			return
		}
		got <- x
	}), ConnState: s.idle.connState}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s, sock, got
}

// request sends raw and returns the response's status line and headers.
func request(t *testing.T, sock, raw string) (net.Conn, *bufio.Reader, string, http.Header) {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(l), ": ")
		h.Add(k, v)
	}
	return c, br, strings.TrimSpace(status), h
}

func TestHijackUpgrade(t *testing.T) {
	for _, c := range []struct {
		name, headers, status, contentType string
		upgrade                            bool
	}{
		{"upgrade", "Connection: Upgrade\r\nUpgrade: tcp\r\n", "HTTP/1.1 101 UPGRADED", multiplexedStream, true},
		{"upgrade tokens", "Connection: keep-alive, upgrade\r\nUpgrade: TCP\r\n", "HTTP/1.1 101 UPGRADED", multiplexedStream, true},
		{"plain", "", "HTTP/1.1 200 OK", multiplexedStream, false},
		{"other upgrade", "Connection: Upgrade\r\nUpgrade: websocket\r\n", "HTTP/1.1 200 OK", multiplexedStream, false},
		{"tty", "Connection: Upgrade\r\nUpgrade: tcp\r\n", "HTTP/1.1 101 UPGRADED", rawStream, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, sock, got := hijackServer(t)
			query := ""
			if c.contentType == rawStream {
				query = "?tty=1"
			}
			// The client's first stdin bytes follow the request at once:
			// they must reach In, though net/http buffered them.
			conn, br, status, h := request(t, sock, "POST /attach"+query+" HTTP/1.1\r\nHost: d\r\n"+c.headers+"\r\nearly input")
			x := <-got
			defer x.Close()
			if status != c.status || h.Get("Content-Type") != c.contentType || h.Get("Api-Version") != "1.44" {
				t.Errorf("got %q %v, want %q with %s and the middleware's headers", status, h, c.status, c.contentType)
			}
			if up := h.Get("Upgrade") == "tcp" && h.Get("Connection") == "Upgrade"; up != c.upgrade {
				t.Errorf("Upgrade %q Connection %q, want the upgrade headers: %v", h.Get("Upgrade"), h.Get("Connection"), c.upgrade)
			}
			if n := s.idle.Busy(); n != 1 {
				t.Errorf("busy %d while hijacked, want 1", n)
			}
			// Half-close: In ends, the client is not gone, output flows.
			conn.(*net.UnixConn).CloseWrite()
			if b, err := io.ReadAll(x.In); string(b) != "early input" || err != nil {
				t.Errorf("In: %q, %v", b, err)
			}
			if x.Gone() {
				t.Error("a half-closed client reads as gone")
			}
			fmt.Fprint(x.Out, "output")
			buf := make([]byte, 6)
			if _, err := io.ReadFull(br, buf); string(buf) != "output" || err != nil {
				t.Errorf("output: %q, %v", buf, err)
			}
			// The client goes: Gone, and a write fails and ends ctx.
			conn.Close()
			deadline := time.Now().Add(5 * time.Second)
			for !x.Gone() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !x.Gone() {
				t.Error("a closed client does not read as gone")
			}
			select { // watch notices, with nothing written
			case <-x.ctx.Done():
			case <-time.After(5 * time.Second):
				t.Error("a gone client did not end ctx")
			}
			if _, err := x.Out.Write([]byte("more")); err == nil {
				t.Error("a write to a gone client succeeded")
			}
			x.Close()
			if n := s.idle.Busy(); n != 0 {
				t.Errorf("busy %d after Close, want 0", n)
			}
		})
	}
}

func TestHeldStdin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := heldStdin(ctx, strings.NewReader("abc"))
	buf := make([]byte, 8)
	if n, err := r.Read(buf); string(buf[:n]) != "abc" || err != nil {
		t.Fatalf("first read: %q, %v", buf[:n], err)
	}
	done := make(chan error, 1)
	go func() { _, err := r.Read(buf); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("the end of input ended the reader: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		t.Fatalf("after ctx: %v, want context.Canceled", err)
	}
}

func TestAttachQueue(t *testing.T) {
	var q attachQueue
	a, b := &waitingAttach{}, &waitingAttach{}
	if q.take("c1") != nil {
		t.Fatal("take of an empty queue")
	}
	q.add("c1", a)
	q.add("c1", b)
	if got := q.take("c1"); got != a {
		t.Fatal("take is not the oldest")
	}
	if q.remove("c1", a) {
		t.Fatal("remove of a taken attach reports it queued")
	}
	if !q.remove("c1", b) || q.take("c1") != nil || len(q.waiting) != 0 {
		t.Fatal("remove left the queue non-empty")
	}
}

func TestStartError(t *testing.T) {
	for _, c := range []struct {
		err      error
		status   int
		contains string
	}{
		{&engine.ExitError{Code: 127, Err: errors.New(`exec: "x": executable file not found in $PATH`)}, 400, "executable file not found"},
		{&engine.ExitError{Code: 127, Err: errors.New(`exec: "/x": stat /x: no such file or directory`)}, 400, "no such file or directory"},
		{&engine.ExitError{Code: 127, Err: errors.New(`exec: "/x/y": not a directory`)}, 400, "not a directory: the command was not found: no such file or directory"},
		{&engine.ExitError{Code: 126, Err: errors.New(`exec: "/etc": permission denied`)}, 400, "permission denied"},
		{&engine.ExitError{Code: 126, Err: errors.New(`exec: "/bin.x": exec format error`)}, 400, "exec format error: the command cannot be invoked: permission denied"},
		{&engine.ExitError{Code: 125, Err: errors.New("monitor failed")}, 500, "monitor failed"},
		{fmt.Errorf("container x: %w", errdefs.ErrNotFound), 404, "container x"},
	} {
		err := startError(c.err)
		if engine.HTTPStatus(err) != c.status || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("startError(%v) = %d %v, want %d with %q", c.err, engine.HTTPStatus(err), err, c.status, c.contains)
		}
	}
}
