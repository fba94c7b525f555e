package api

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// idleTracker counts busy connections: one with a request in flight (a
// streaming response stays in flight until it ends) or hijacked and not yet
// closed. http.Server.ConnState reports StateHijacked once and nothing
// after, so a hijacking handler holds the tracker itself (hijacked). When
// nothing has been busy for timeout, done is closed.
type idleTracker struct {
	timeout time.Duration
	done    chan struct{}

	mu     sync.Mutex
	busy   map[net.Conn]bool // connections in StateNew or StateActive
	holds  int               // hijacked connections still open
	timer  *time.Timer
	closed bool
}

func newIdleTracker(timeout time.Duration) *idleTracker {
	t := &idleTracker{timeout: timeout, done: make(chan struct{}), busy: map[net.Conn]bool{}}
	t.mu.Lock()
	t.update()
	t.mu.Unlock()
	return t
}

// connState is http.Server's ConnState hook.
func (t *idleTracker) connState(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch st {
	case http.StateNew, http.StateActive:
		t.busy[c] = true
	case http.StateHijacked:
		// The handler that hijacked holds the tracker (hijacked); the
		// server forgets the connection.
		delete(t.busy, c)
	default: // idle, closed
		delete(t.busy, c)
	}
	t.update()
}

// hijacked holds the tracker busy until the returned connection is closed.
func (t *idleTracker) hijacked(c net.Conn) net.Conn {
	t.mu.Lock()
	t.holds++
	t.update()
	t.mu.Unlock()
	return &heldConn{Conn: c, t: t}
}

func (t *idleTracker) release() {
	t.mu.Lock()
	t.holds--
	t.update()
	t.mu.Unlock()
}

// Busy is the count of busy connections.
func (t *idleTracker) Busy() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.busy) + t.holds
}

// update arms the timer when nothing is busy and disarms it otherwise;
// t.mu is held.
func (t *idleTracker) update() {
	if t.timeout <= 0 || t.closed {
		return
	}
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	if len(t.busy)+t.holds > 0 {
		return
	}
	var timer *time.Timer
	timer = time.AfterFunc(t.timeout, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.timer != timer || t.closed || len(t.busy)+t.holds > 0 {
			return // superseded
		}
		t.closed = true
		close(t.done)
	})
	t.timer = timer
}

// heldConn releases its hold on the tracker once, at Close.
type heldConn struct {
	net.Conn
	t    *idleTracker
	once sync.Once
}

func (c *heldConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.t.release)
	return err
}
