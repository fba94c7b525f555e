package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/container"

	"github.com/skiff-engine/skiff/engine"
)

// Exec endpoints. Exec instances live in the engine (ExecInstance: a record in the
// container's run directory); the server keeps only the terminal-size
// channels of the execs it streams, for /exec/{id}/resize.
func (s *Server) execRoutes() {
	m := s.mux
	m.HandleFunc("POST /containers/{id}/exec", s.execCreate)
	m.HandleFunc("POST /exec/{id}/start", s.execStart)
	m.HandleFunc("POST /exec/{id}/resize", s.execResize)
	m.HandleFunc("GET /exec/{id}/json", s.execInspect)
}

// execStreams are the resize channels of the execs streaming here.
type execStreams struct {
	mu     sync.Mutex
	resize map[string]chan [2]uint16
}

func (x *execStreams) add(id string) chan [2]uint16 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.resize == nil {
		x.resize = map[string]chan [2]uint16{}
	}
	c := make(chan [2]uint16, 4)
	x.resize[id] = c
	return c
}

func (x *execStreams) remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	close(x.resize[id])
	delete(x.resize, id)
}

// send passes a size to exec id's terminal; false when it does not stream
// here.
func (x *execStreams) send(id string, size [2]uint16) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	c, ok := x.resize[id]
	if ok {
		select {
		case c <- size:
		default: // a burst: the last sizes win below
			<-c
			c <- size
		}
	}
	return ok
}

func (s *Server) execCreate(w http.ResponseWriter, r *http.Request) {
	var req container.ExecCreateRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	o := engine.ContainerExecCreateOptions{
		Exec: engine.ContainerExecOptions{Cmd: req.Cmd, Env: req.Env, User: req.User, Workdir: req.WorkingDir,
			Privileged: req.Privileged, Tty: req.Tty, Size: consoleSize(req.ConsoleSize)},
		AttachStdin: req.AttachStdin, AttachStdout: req.AttachStdout, AttachStderr: req.AttachStderr, DetachKeys: req.DetachKeys,
	}
	res, err := s.e.ContainerExecCreate(r.Context(), r.PathValue("id"), o)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, container.ExecCreateResponse(common.IDResponse{ID: res.ID}))
}

// consoleSize is Docker's [height, width], nil for none.
func consoleSize(p *[2]uint) [2]uint16 {
	if p == nil {
		return [2]uint16{}
	}
	return [2]uint16{uint16(min(p[0], 65535)), uint16(min(p[1], 65535))}
}

// execStart runs the exec: detached, a 200 at once; else hijacked like
// attach until the process exits (the connection then closes), the
// client's half-close closing the process's stdin.
func (s *Server) execStart(w http.ResponseWriter, r *http.Request) {
	var req container.ExecStartRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	in, err := s.e.ExecInspect(r.Context(), id, engine.ExecInspectOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	x := in.Exec
	if x.Running || x.ExitCode != nil {
		writeError(w, fmt.Errorf("exec %s has already been started: %w", x.ID, errdefs.ErrConflict))
		return
	}
	o := engine.ExecStartOptions{Detach: req.Detach, Tty: req.Tty, Size: consoleSize(req.ConsoleSize)}
	if o.Size == ([2]uint16{}) {
		o.Size = x.Options.Size
	}
	if req.Detach {
		if _, err := s.e.ExecStart(r.Context(), id, o); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	tty := x.Options.Tty || req.Tty
	if tty {
		// Before the 101: the client resizes as soon as it has it.
		o.Resize = s.execs.add(id)
		defer s.execs.remove(id)
	}
	h, err := s.hijack(w, r, streamType(tty))
	if err != nil {
		return
	}
	defer h.Close()
	mu := &sync.Mutex{}
	if x.AttachStdout {
		o.Stdout = streamWriter(h.Out, mu, 1, tty)
	}
	if x.AttachStderr {
		o.Stderr = streamWriter(h.Out, mu, 2, tty)
	}
	if x.AttachStdin {
		o.Stdin = h.In
	}
	if _, err := s.e.ExecStart(h.ctx, id, o); err != nil && o.Stderr != nil {
		fmt.Fprintf(o.Stderr, "Error: %v\n", err)
	}
}

func (s *Server) execResize(w http.ResponseWriter, r *http.Request) {
	size, err := terminalSize(r)
	if err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	if s.execs.send(id, size) {
		w.WriteHeader(http.StatusOK)
		return
	}
	in, err := s.e.ExecInspect(r.Context(), id, engine.ExecInspectOptions{})
	switch {
	case err != nil:
		writeError(w, err)
	case !in.Exec.Options.Tty:
		writeError(w, fmt.Errorf("exec %s has no terminal to resize: %w", id, errdefs.ErrConflict))
	default:
		writeError(w, fmt.Errorf("exec %s is not running: %w", id, errdefs.ErrConflict))
	}
}

func (s *Server) execInspect(w http.ResponseWriter, r *http.Request) {
	res, err := s.e.ExecInspect(r.Context(), r.PathValue("id"), engine.ExecInspectOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, execInspectResponse(res.Exec))
}

// execInspectResponse is GET /exec/{id}/json.
func execInspectResponse(x engine.ExecInstance) container.ExecInspectResponse {
	cfg := &container.ExecProcessConfig{Tty: x.Options.Tty, User: x.Options.User}
	if len(x.Options.Cmd) > 0 {
		cfg.Entrypoint, cfg.Arguments = x.Options.Cmd[0], x.Options.Cmd[1:]
	}
	if x.Options.Privileged {
		cfg.Privileged = &x.Options.Privileged
	}
	keys, _ := engine.ParseDetachKeys(x.DetachKeys)
	return container.ExecInspectResponse{ID: x.ID, Running: x.Running, ExitCode: x.ExitCode, ProcessConfig: cfg,
		OpenStdin: x.AttachStdin, OpenStdout: x.AttachStdout, OpenStderr: x.AttachStderr,
		CanRemove: !x.Running && x.ExitCode != nil, ContainerID: x.ContainerID, DetachKeys: keys, Pid: x.Pid}
}

// startError is a failed start as Docker's daemon answers it: a command
// that cannot be run (126, 127) is the request's fault (400), and its
// message carries the words the docker CLI maps to its exit code
// ("permission denied": 126; "executable file not found" or "no such file
// or directory": 127).
func startError(err error) error {
	var ee *engine.ExitError
	if !errors.As(err, &ee) || ee.Err == nil {
		return err
	}
	msg := ee.Err.Error()
	switch {
	case ee.Code == 126 && !strings.Contains(msg, "permission denied"):
		msg += ": the command cannot be invoked: permission denied"
	case ee.Code == 127 && !strings.Contains(msg, "executable file not found") && !strings.Contains(msg, "no such file or directory"):
		msg += ": the command was not found: no such file or directory"
	case ee.Code != 126 && ee.Code != 127:
		return err
	}
	return fmt.Errorf("%s: %w", msg, errdefs.ErrInvalidArgument)
}
