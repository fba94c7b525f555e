package api

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// The container endpoints (attach, hijacked, in attach.go).
func (s *Server) containerRoutes() {
	m := s.mux
	m.HandleFunc("GET /containers/json", s.containerList)
	m.HandleFunc("POST /containers/create", s.containerCreate)
	m.HandleFunc("GET /containers/{id}/json", s.containerInspect)
	m.HandleFunc("POST /containers/{id}/start", s.containerStart)
	m.HandleFunc("POST /containers/{id}/stop", s.containerStop)
	m.HandleFunc("POST /containers/{id}/restart", s.containerRestart)
	m.HandleFunc("POST /containers/{id}/kill", s.containerKill)
	m.HandleFunc("POST /containers/{id}/pause", s.containerPause)
	m.HandleFunc("POST /containers/{id}/unpause", s.containerUnpause)
	m.HandleFunc("POST /containers/{id}/rename", s.containerRename)
	m.HandleFunc("POST /containers/{id}/wait", s.containerWait)
	m.HandleFunc("DELETE /containers/{id}", s.containerRemove)
	m.HandleFunc("GET /containers/{id}/logs", s.containerLogs)
	m.HandleFunc("GET /containers/{id}/top", s.containerTop)
	m.HandleFunc("POST /containers/{id}/attach", s.containerAttach)
	m.HandleFunc("GET /containers/{id}/attach/ws", s.containerAttachWebsocket)
	m.HandleFunc("GET /containers/{id}/changes", s.containerChanges)
	m.HandleFunc("GET /containers/{id}/export", s.containerExport)
	m.HandleFunc("POST /containers/prune", s.containerPrune)
	m.HandleFunc("GET /containers/{id}/stats", s.containerStats)
	m.HandleFunc("POST /containers/{id}/update", s.containerUpdate)
	m.HandleFunc("HEAD /containers/{id}/archive", s.containerArchiveHead)
	m.HandleFunc("GET /containers/{id}/archive", s.containerArchiveGet)
	m.HandleFunc("PUT /containers/{id}/archive", s.containerArchivePut)
	m.HandleFunc("POST /containers/{id}/resize", s.containerResize)
}

func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

// noContentOr304 is Docker's answer to a start of a running container or
// a stop of a stopped one: 304 Not Modified (clients take it as done).
func noContentOr304(w http.ResponseWriter, unchanged bool) {
	if unchanged {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	noContent(w)
}

// intParam reads an integer query value (def when absent); a bad one is a
// 400.
func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("invalid value for %s: %q is not an integer: %w", name, v, errdefs.ErrInvalidArgument)
	}
	return n, nil
}

// stopTimeout is the stop and restart timeout: "t", or "timeout" (the
// newer clients), else the container's own.
func stopTimeout(r *http.Request) (int, error) {
	name := "t"
	if r.URL.Query().Get("t") == "" {
		name = "timeout"
	}
	return intParam(r, name, -1)
}

func (s *Server) containerInspect(w http.ResponseWriter, r *http.Request) {
	res, err := s.e.ContainerInspect(r.Context(), r.PathValue("id"), engine.ContainerInspectOptions{Size: boolParam(r, "size")})
	if err != nil {
		writeError(w, err)
		return
	}
	out, err := containerInspectResponse(res.Container)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// containerStart starts the container, through the attach waiting for it
// when there is one (attach.go); a start error reads as Docker's
// (startError).
func (s *Server) containerStart(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if in, err := s.e.ContainerInspect(r.Context(), id, engine.ContainerInspectOptions{}); err == nil && !in.Container.State.Running {
		if a := s.attaches.take(in.Container.ID); a != nil {
			if err := s.startAttached(in.Container.ID, a); err != nil {
				writeError(w, err)
				return
			}
			noContent(w)
			return
		}
	}
	res, err := s.e.ContainerStart(r.Context(), id, engine.ContainerStartOptions{})
	if err != nil {
		writeError(w, startError(err))
		return
	}
	noContentOr304(w, res.AlreadyRunning)
}

func (s *Server) containerStop(w http.ResponseWriter, r *http.Request) {
	t, err := stopTimeout(r)
	var res engine.ContainerStopResult
	if err == nil {
		res, err = s.e.ContainerStop(r.Context(), r.PathValue("id"), engine.ContainerStopOptions{Timeout: t})
	}
	if err != nil {
		writeError(w, err)
		return
	}
	noContentOr304(w, res.NotRunning)
}

func (s *Server) containerRestart(w http.ResponseWriter, r *http.Request) {
	t, err := stopTimeout(r)
	if err == nil {
		_, err = s.e.ContainerRestart(r.Context(), r.PathValue("id"), engine.ContainerRestartOptions{Timeout: t})
	}
	if err != nil {
		writeError(w, err)
		return
	}
	noContent(w)
}

func (s *Server) containerKill(w http.ResponseWriter, r *http.Request) {
	if _, err := s.e.ContainerKill(r.Context(), r.PathValue("id"), engine.ContainerKillOptions{Signal: r.URL.Query().Get("signal")}); err != nil {
		writeError(w, err)
		return
	}
	noContent(w)
}

func (s *Server) containerPause(w http.ResponseWriter, r *http.Request) {
	if _, err := s.e.ContainerPause(r.Context(), r.PathValue("id"), engine.ContainerPauseOptions{}); err != nil {
		writeError(w, err)
		return
	}
	noContent(w)
}

func (s *Server) containerUnpause(w http.ResponseWriter, r *http.Request) {
	if _, err := s.e.ContainerUnpause(r.Context(), r.PathValue("id"), engine.ContainerPauseOptions{}); err != nil {
		writeError(w, err)
		return
	}
	noContent(w)
}

func (s *Server) containerRename(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		writeError(w, fmt.Errorf("rename needs a new name (?name=): %w", errdefs.ErrInvalidArgument))
		return
	}
	if _, err := s.e.ContainerRename(r.Context(), r.PathValue("id"), engine.ContainerRenameOptions{Name: name}); err != nil {
		writeError(w, err)
		return
	}
	noContent(w)
}

func (s *Server) containerRemove(w http.ResponseWriter, r *http.Request) {
	o := engine.ContainerRemoveOptions{Force: boolParam(r, "force"), Volumes: boolParam(r, "v")}
	if boolParam(r, "link") {
		writeError(w, fmt.Errorf("links are not supported: %w", errdefs.ErrInvalidArgument))
		return
	}
	if _, err := s.e.ContainerRemove(r.Context(), r.PathValue("id"), o); err != nil {
		writeError(w, err)
		return
	}
	noContent(w)
}

// containerWait flushes the 200 once the waiter is set up (the docker CLI
// starts the container only then), then answers when the condition holds; an error after
// the 200 goes in the body's Error, as Docker's.
func (s *Server) containerWait(w http.ResponseWriter, r *http.Request) {
	cond := r.URL.Query().Get("condition")
	switch cond {
	case "", engine.WaitNotRunning, engine.WaitNextExit, engine.WaitRemoved:
	default:
		writeError(w, fmt.Errorf("invalid condition: %q: %w", cond, errdefs.ErrInvalidArgument))
		return
	}
	ready := false
	res, err := s.e.ContainerWait(r.Context(), r.PathValue("id"), engine.ContainerWaitOptions{Condition: cond, Ready: func() {
		ready = true
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		flush(w)
	}})
	switch {
	case err != nil && !ready:
		writeError(w, err)
	case err != nil && r.Context().Err() != nil:
		// the client went
	default:
		json.NewEncoder(w).Encode(containerWaitResponse(res, err))
	}
}

func (s *Server) containerTop(w http.ResponseWriter, r *http.Request) {
	o := engine.ContainerTopOptions{}
	if a := r.URL.Query().Get("ps_args"); a != "" {
		o.PsArgs = strings.Fields(a)
	}
	res, err := s.e.ContainerTop(r.Context(), r.PathValue("id"), o)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, containerTopResponse(res))
}

func (s *Server) containerChanges(w http.ResponseWriter, r *http.Request) {
	res, err := s.e.ContainerDiff(r.Context(), r.PathValue("id"), engine.ContainerDiffOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	changes, err := containerChanges(res)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, changes)
}

// containerExport streams the tar; an error before the first byte is a
// JSON error, after it the connection ends short.
func (s *Server) containerExport(w http.ResponseWriter, r *http.Request) {
	lw := &lazyWriter{w: w, contentType: "application/x-tar"}
	if _, err := s.e.ContainerExport(r.Context(), r.PathValue("id"), engine.ContainerExportOptions{Output: lw}); err != nil && !lw.started {
		writeError(w, err)
	}
}

func (s *Server) containerPrune(w http.ResponseWriter, r *http.Request) {
	filters, err := filterArgs(r.URL.Query().Get("filters"))
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.ContainerPrune(r.Context(), engine.ContainerPruneOptions{Filters: filters})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, containerPruneReport(res))
}

// containerLogs copies the log: raw for a tty container, else in Docker's
// 8-byte multiplexed frames (moby's stdcopy: stream 1 or 2, three zeros,
// the big-endian length). With follow the 200 is flushed at once.
func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	stdout, stderr := boolParam(r, "stdout"), boolParam(r, "stderr")
	if !stdout && !stderr {
		writeError(w, fmt.Errorf("you must choose at least one stream: %w", errdefs.ErrInvalidArgument))
		return
	}
	o := engine.ContainerLogsOptions{Follow: boolParam(r, "follow"), Timestamps: boolParam(r, "timestamps"), Tail: -1}
	if t := q.Get("tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			writeError(w, fmt.Errorf("invalid tail %q: %w", t, errdefs.ErrInvalidArgument))
			return
		}
		o.Tail = n
	}
	now := time.Now()
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &o.Since}, {"until", &o.Until}} {
		if v := q.Get(p.name); v != "" && v != "0" {
			t, err := engine.ParseTimestamp(v, now)
			if err != nil {
				writeError(w, fmt.Errorf("%s: %v: %w", p.name, err, errdefs.ErrInvalidArgument))
				return
			}
			*p.t = t
		}
	}
	in, err := s.e.ContainerInspect(r.Context(), id, engine.ContainerInspectOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	tty := in.Container.Config.Tty
	ct := "application/vnd.docker.multiplexed-stream"
	if tty {
		ct = "application/vnd.docker.raw-stream"
	}
	lw := &lazyWriter{w: w, contentType: ct}
	mu := &sync.Mutex{}
	if stdout {
		o.Stdout = streamWriter(lw, mu, 1, tty)
	} else {
		o.Stdout = io.Discard
	}
	if stderr {
		o.Stderr = streamWriter(lw, mu, 2, tty)
	} else {
		o.Stderr = io.Discard
	}
	if o.Follow {
		lw.start()
	}
	_, err = s.e.ContainerLogs(r.Context(), id, o)
	if err != nil && !lw.started {
		writeError(w, err)
		return
	}
	lw.start() // an empty log is still a 200
}

// lazyWriter sends the 200 and its content type before its first write
// (or at start), and flushes after each write.
type lazyWriter struct {
	w           http.ResponseWriter
	contentType string
	started     bool
}

func (l *lazyWriter) start() {
	if l.started {
		return
	}
	l.started = true
	l.w.Header().Set("Content-Type", l.contentType)
	l.w.WriteHeader(http.StatusOK)
	flush(l.w)
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.start()
	n, err := l.w.Write(p)
	flush(l.w)
	return n, err
}

// streamWriter writes to w, in stdcopy frames of stream unless raw; mu
// keeps the two streams' frames whole.
func streamWriter(w io.Writer, mu *sync.Mutex, stream byte, raw bool) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		if raw {
			return w.Write(p)
		}
		frame := make([]byte, 8+len(p))
		frame[0] = stream
		binary.BigEndian.PutUint32(frame[4:8], uint32(len(p)))
		copy(frame[8:], p)
		if _, err := w.Write(frame); err != nil {
			return 0, err
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
