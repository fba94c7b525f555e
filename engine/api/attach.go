package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// The docker CLI's `run` (and `start -a`) attaches to a container that is
// not running yet, then starts it, and expects its first output on the
// attach. skiff's monitor is forked at the start, so an attach to a
// container that is not running waits here, in the server: the start
// request that comes for the container takes it (attaches.take) and starts
// the container through the engine's foreground path (ContainerStart with
// Attach: the monitor starts the container only once this attach is its
// client, so no output is lost), answering its 204 as soon as the
// container runs. A start from elsewhere (another process, the skiff CLI)
// leaves the attach waiting; it then sees the container running and
// follows its log from the start (attachStarted).

// waitingAttach is an attach waiting for its container's start. It is
// queued before its 101 goes out (the client sends its start once it has
// the 101), and ready once its streams are set.
type waitingAttach struct {
	ready  chan struct{}   // closed once io and ctx are set, or failed
	failed bool            // the hijack failed: nothing to attach
	io     engine.AttachIO // the client's streams
	ctx    context.Context // the attach connection's
	ended  chan struct{}   // closed when the start taken with it returned
	err    error           // that start's error (set before ended closes)
}

// attachQueue holds the waiting attaches by container ID: connection
// state, gone with the connections.
type attachQueue struct {
	mu      sync.Mutex
	waiting map[string][]*waitingAttach
}

func (q *attachQueue) add(id string, a *waitingAttach) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting == nil {
		q.waiting = map[string][]*waitingAttach{}
	}
	q.waiting[id] = append(q.waiting[id], a)
}

// remove takes a out of the queue; false when a start took it first.
func (q *attachQueue) remove(id string, a *waitingAttach) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, x := range q.waiting[id] {
		if x == a {
			q.waiting[id] = append(q.waiting[id][:i], q.waiting[id][i+1:]...)
			if len(q.waiting[id]) == 0 {
				delete(q.waiting, id)
			}
			return true
		}
	}
	return false
}

// take removes and returns the oldest attach waiting for id, nil when
// none does.
func (q *attachQueue) take(id string) *waitingAttach {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.waiting[id]
	if len(l) == 0 {
		return nil
	}
	a := l[0]
	if len(l) == 1 {
		delete(q.waiting, id)
	} else {
		q.waiting[id] = l[1:]
	}
	return a
}

// attachPoll is how often a waiting attach looks for a start made
// elsewhere, or its container's removal.
const attachPoll = 100 * time.Millisecond

// containerAttach is POST /containers/{id}/attach: the hijacked stream
// of a container's stdio (see the top of this file for one not running).
func (s *Server) containerAttach(w http.ResponseWriter, r *http.Request) {
	keys, ok := engine.ParseDetachKeys(firstNonEmpty(r.URL.Query().Get("detachKeys"), engine.DefaultDetachKeys))
	if !ok {
		writeError(w, fmt.Errorf("invalid detachKeys %q: use a comma-separated list of a letter or ctrl-<letter>, e.g. ctrl-p,ctrl-q: %w", r.URL.Query().Get("detachKeys"), errdefs.ErrInvalidArgument))
		return
	}
	in, err := s.e.ContainerInspect(r.Context(), r.PathValue("id"), engine.ContainerInspectOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	c := in.Container
	tty := c.Config.Tty
	stream := boolParam(r, "stream")
	a := &waitingAttach{ready: make(chan struct{}), ended: make(chan struct{})}
	queued := stream && !c.State.Running
	if queued {
		s.attaches.add(c.ID, a)
	}
	x, err := s.hijack(w, r, streamType(tty))
	if err != nil {
		if queued && !s.attaches.remove(c.ID, a) {
			a.failed = true // a start took it: it starts without
			close(a.ready)
		}
		return
	}
	defer x.Close()
	aio := engine.AttachIO{DetachKeys: keys, Stdout: io.Discard, Stderr: io.Discard}
	mu := &sync.Mutex{}
	if boolParam(r, "stdout") {
		aio.Stdout = streamWriter(x.Out, mu, 1, tty)
	}
	if boolParam(r, "stderr") {
		aio.Stderr = streamWriter(x.Out, mu, 2, tty)
	}
	if boolParam(r, "stdin") && c.Config.OpenStdin {
		aio.Stdin = x.In
		if !c.Config.StdinOnce {
			aio.Stdin = heldStdin(x.ctx, x.In)
		}
	}
	if !queued {
		if boolParam(r, "logs") {
			s.replayLog(x.ctx, c.ID, aio)
		}
		if stream {
			s.e.ContainerAttach(x.ctx, c.ID, engine.ContainerAttachOptions{IO: aio})
		}
		return
	}
	// A container not running has no log of this run yet (an exited
	// one's goes at its start: replaying it would race the start).
	a.io, a.ctx = aio, x.ctx
	close(a.ready)
	for {
		select {
		case <-a.ended:
			return
		case <-x.ctx.Done():
			if !s.attaches.remove(c.ID, a) {
				<-a.ended // a start has it
			}
			return
		case <-time.After(attachPoll):
			st, err := s.e.ContainerInspect(x.ctx, c.ID, engine.ContainerInspectOptions{})
			if err != nil && !errdefs.IsNotFound(err) || err == nil && !st.Container.State.Running {
				continue
			}
			if !s.attaches.remove(c.ID, a) {
				continue // a start took it: wait for its end
			}
			if err != nil {
				return // removed
			}
			s.attachStarted(x.ctx, c.ID, aio)
			return
		}
	}
}

// attachStarted serves an attach whose container another process started:
// its output from the log, followed from the start until the container
// exits (what it wrote before this attach saw it run is not lost), its
// input and detach keys through an attach of stdin alone. A container
// that keeps no log is attached to as it runs.
func (s *Server) attachStarted(conn context.Context, id string, aio engine.AttachIO) {
	ctx, cancel := context.WithCancel(conn)
	defer cancel()
	if aio.Stdin != nil {
		in := aio
		in.Stdout, in.Stderr = io.Discard, io.Discard
		go func() {
			s.e.ContainerAttach(ctx, id, engine.ContainerAttachOptions{IO: in})
			cancel() // exited, or detached
		}()
	}
	_, err := s.e.ContainerLogs(ctx, id, engine.ContainerLogsOptions{Follow: true, Tail: -1, Stdout: aio.Stdout, Stderr: aio.Stderr})
	if errdefs.IsFailedPrecondition(err) {
		cancel()
		s.e.ContainerAttach(conn, id, engine.ContainerAttachOptions{IO: aio})
	}
}

// replayLog copies the container's log so far to the attach's streams.
func (s *Server) replayLog(ctx context.Context, id string, aio engine.AttachIO) {
	s.e.ContainerLogs(ctx, id, engine.ContainerLogsOptions{Tail: -1, Stdout: aio.Stdout, Stderr: aio.Stderr})
}

// startAttached starts container id with a waiting attach's streams and
// returns once the container runs (nil) or its start failed. The start
// runs on, streaming, for the attach connection's life.
func (s *Server) startAttached(id string, a *waitingAttach) error {
	<-a.ready
	if a.failed {
		_, err := s.e.ContainerStart(context.Background(), id, engine.ContainerStartOptions{})
		return startError(err)
	}
	started := make(chan struct{})
	var once sync.Once
	aio := a.io
	aio.Started = func() { once.Do(func() { close(started) }) }
	go func() {
		_, a.err = s.e.ContainerStart(a.ctx, id, engine.ContainerStartOptions{Attach: &aio})
		close(a.ended)
	}()
	select {
	case <-started:
		return nil
	case <-a.ended:
		if a.err == nil {
			return nil // ran and exited before the report (not expected)
		}
		return startError(a.err)
	}
}

// containerAttachWebsocket is GET /containers/{id}/attach/ws.
func (s *Server) containerAttachWebsocket(w http.ResponseWriter, r *http.Request) {
	writeError(w, fmt.Errorf("attach over a websocket is not supported by skiff: use POST /containers/{id}/attach: %w", errdefs.ErrNotImplemented))
}
