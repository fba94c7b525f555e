package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-engine/skiff/runtime"
)

// ContainerExecOptions describe a process to run in a running container.
type ContainerExecOptions struct {
	Cmd        []string
	Env        []string // KEY=VALUE, over the container's environment
	User       string   // name or uid, [:group or gid]
	Workdir    string   // absolute; "": the container's
	Privileged bool
	Tty        bool // a pty for the process
	Detach     bool // start it and return: no stdio, no terminal

	// ContainerExec's streams. The process reads Stdin (nil: /dev/null)
	// and writes Stdout and Stderr (nil: discarded; with Tty all output
	// goes to Stdout, and Stderr, or else Stdout, gets exec's own errors).
	// Stdout and Stderr are written from two goroutines: one writer given
	// for both must take concurrent writes.
	// Size is the terminal's first size (rows, columns; zero: the pty's
	// default) and Resize its changes.
	Stdin          io.Reader `json:"-"`
	Stdout, Stderr io.Writer `json:"-"`
	Size           [2]uint16
	Resize         <-chan [2]uint16 `json:"-"`
	// Signals are passed on to the process while it runs (the CLI's
	// SIGTERM and SIGHUP); nil passes none.
	Signals <-chan os.Signal `json:"-"`

	// Interactive is ContainerExecCommand's: the process reads the stdin
	// of the command (exec -i). ContainerExec gives input exactly when
	// Stdin is set.
	Interactive bool

	// ExecID is the exec's ID when ContainerExecCreate made it (its
	// exec_create event is recorded); "": a new one, created and started
	// at once.
	ExecID string
}

// ContainerExecResult is how an exec ended.
type ContainerExecResult struct {
	// ExitCode is the process's, or Docker's 126 (cannot be invoked), 127
	// (not found) or 125 (exec failed), whose message went to Stderr.
	ExitCode int
}

// ContainerExec runs a process in a running container with the streams
// of o, waits for it and returns its exit code. The process gets pipes or
// a pty that skiff-monitor, run as a child, copies to and from the
// streams; never a descriptor of ours. The error is for what fails before
// the process could be started (no such container, not running, bad
// options), and ctx's when it ends: a client that left, whose process
// runs on as Docker's does, with its input ended and its output dropped.
func (e *Engine) ContainerExec(ctx context.Context, ref string, o ContainerExecOptions) (ContainerExecResult, error) {
	if o.Detach {
		o.Stdin, o.Resize = nil, nil
	}
	cfg := runtime.ExecConfig{Stdin: o.Stdin != nil, Resize: o.Tty && o.Resize != nil}
	bin, path, err := e.prepareExec(ref, o, cfg)
	if err != nil {
		return ContainerExecResult{}, err
	}
	s := runtime.ExecStreams{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Signals: o.Signals}
	if cfg.Resize {
		s.Resize = o.Resize
	}
	if o.Tty && s.Stderr == nil && s.Stdout != nil {
		w := &lockedWriter{w: s.Stdout}
		s.Stdout, s.Stderr = w, w
	}
	code, err := runtime.RunExec(ctx, bin, path, s)
	if err != nil {
		if ctx.Err() == nil {
			os.Remove(path) // when the monitor did not get to read it
		}
		return ContainerExecResult{}, err
	}
	return ContainerExecResult{ExitCode: code}, nil
}

// lockedWriter serializes the writes of two copying goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// ContainerExecCommandResult is the skiff-monitor invocation that runs an
// exec with the stdio of whoever runs it (which the process never gets:
// see runtime.ExecConfig).
type ContainerExecCommandResult struct {
	Path string
	Args []string
}

// ContainerExecCommand prepares an exec for the CLI's fast path: the CLI
// replaces itself with the returned command (execve), so there is no
// process between the caller's stdio and the monitor, and the process
// libcontainer re-executes to enter the container is the small monitor,
// not skiff. The streams of o are not used (Interactive is). A command
// that is never run leaves its config file in the container's run
// directory until the container stops.
func (e *Engine) ContainerExecCommand(ctx context.Context, ref string, o ContainerExecOptions) (ContainerExecCommandResult, error) {
	bin, path, err := e.prepareExec(ref, o, runtime.ExecConfig{Stdin: o.Interactive && !o.Detach})
	if err != nil {
		return ContainerExecCommandResult{}, err
	}
	return ContainerExecCommandResult{Path: bin, Args: []string{filepath.Base(bin), "exec", path}}, nil
}

// prepareExec checks the container and writes the monitor's config (cfg
// with the container's fields and the process filled in).
func (e *Engine) prepareExec(ref string, o ContainerExecOptions, cfg runtime.ExecConfig) (bin, path string, err error) {
	c, proc, err := e.execTarget(ref, o)
	if err != nil {
		return "", "", err
	}
	if bin, err = runtime.LeanMonitorBinary(); err != nil {
		return "", "", err
	}
	cfg.ID, cfg.StateRoot, cfg.Process, cfg.Detach = c.ID, e.stateRoot(), proc, o.Detach
	cfg.ExecID, cfg.EventSpool = firstNonEmpty(o.ExecID, NewContainerID()), e.eventSpool()
	if o.ExecID != "" {
		cfg.PidFile, cfg.ExitFile = e.execFile(c.ID, o.ExecID, "pid"), e.execFile(c.ID, o.ExecID, "exit")
	}
	path = filepath.Join(e.runDir(c.ID), fmt.Sprintf("exec-%d.json", time.Now().UnixNano()))
	if err := writeJSONFile(path, cfg); err != nil {
		return "", "", err
	}
	if o.ExecID == "" {
		e.execEvent(c, "exec_create", o.Cmd, cfg.ExecID)
	}
	e.execEvent(c, "exec_start", o.Cmd, cfg.ExecID)
	return bin, path, nil
}

// execEvent records an exec's event; Docker names the command in the
// action: "exec_start: sh -c date".
func (e *Engine) execEvent(c *Container, action string, cmd []string, execID string) {
	e.containerEvent(context.Background(), c, action+": "+strings.Join(cmd, " "), map[string]string{"execID": execID})
}

// execTarget is the running container an exec of o enters, and o's
// process in it.
func (e *Engine) execTarget(ref string, o ContainerExecOptions) (*Container, specs.Process, error) {
	if len(o.Cmd) == 0 {
		return nil, specs.Process{}, invalid("exec needs a command")
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return nil, specs.Process{}, err
	}
	if !c.Running() {
		return nil, specs.Process{}, fmt.Errorf("container %s is not running: start it first: %w", c.Name, errdefs.ErrConflict)
	}
	if c.State.Status == runtime.StatusPaused {
		return nil, specs.Process{}, fmt.Errorf("container %s is paused, unpause the container before exec: %w", c.Name, errdefs.ErrConflict)
	}
	if c.State.Status == runtime.StatusRestarting {
		return nil, specs.Process{}, fmt.Errorf("container %s is restarting, wait until the container is running: %w", c.Name, errdefs.ErrConflict)
	}
	proc, err := e.execProcess(c, o)
	return c, proc, err
}

// execProcess starts from the container's own process (capabilities,
// rlimits, environment) and applies exec's flags.
func (e *Engine) execProcess(c *Container, o ContainerExecOptions) (specs.Process, error) {
	var spec specs.Spec
	b, err := os.ReadFile(e.specPath(c))
	if err != nil {
		return specs.Process{}, err
	}
	if err := json.Unmarshal(b, &spec); err != nil || spec.Process == nil {
		return specs.Process{}, fmt.Errorf("container %s: unreadable spec: %v", c.Name, err)
	}
	p := *spec.Process
	p.Args = o.Cmd
	p.Terminal = o.Tty && !o.Detach
	p.ConsoleSize = nil
	if p.Terminal && o.Size[0] != 0 && o.Size[1] != 0 {
		p.ConsoleSize = &specs.Box{Height: uint(o.Size[0]), Width: uint(o.Size[1])}
	}
	if o.Workdir != "" {
		if !filepath.IsAbs(o.Workdir) {
			return p, invalid("the working directory %q is not an absolute path", o.Workdir)
		}
		p.Cwd = o.Workdir
	}
	env, err := runtime.MergeEnv(p.Env, o.Env)
	if err != nil {
		return p, err
	}
	p.Env = env
	if o.User != "" {
		uid, gid, groups, _, err := runtime.ResolveUser(spec.Root.Path, o.User, nil)
		if err != nil {
			return p, invalid("%v", err)
		}
		p.User = specs.User{UID: uid, GID: gid, AdditionalGids: groups}
	}
	if o.Privileged {
		p.Capabilities = runtime.AllCapabilities()
	}
	return p, nil
}

// ContainerLogsOptions are logs' flags.
type ContainerLogsOptions struct {
	Follow     bool
	Tail       int // -1: all
	Since      time.Time
	Until      time.Time
	Timestamps bool
	Stdout     io.Writer
	Stderr     io.Writer
}

// ContainerLogs copies the container's log; with Follow it keeps going
// until the container exits.
func (e *Engine) ContainerLogs(ctx context.Context, ref string, o ContainerLogsOptions) (ContainerLogsResult, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerLogsResult{}, err
	}
	switch c.Config.LogDriver {
	case "none", "passthrough":
		return ContainerLogsResult{}, fmt.Errorf("container %s logs with the %q driver, which keeps no log to read: %w", c.Name, c.Config.LogDriver, errdefs.ErrFailedPrecondition)
	}
	// Paused, starting and stopping containers are followed too.
	stop := func() bool {
		return ctx.Err() != nil || e.reload(c) != nil || !c.Running()
	}
	return ContainerLogsResult{ID: c.ID}, runtime.ReadLog(c.LogPath(), c.Config.LogDriver, runtime.LogReadOptions{
		Follow: o.Follow, Tail: o.Tail, Since: o.Since, Until: o.Until, Timestamps: o.Timestamps, StopFollowing: stop,
	}, o.Stdout, o.Stderr)
}

// ContainerLogsResult names the container whose log was read.
type ContainerLogsResult struct {
	ID string
}
