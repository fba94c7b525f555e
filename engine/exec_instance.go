package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// Exec instances are Docker's two-step exec (the API's create, then
// start): the created exec is a record in the container's run directory,
//
//	<runroot>/c/<container id>/exec/<exec id>.json   (0600; it holds the env)
//	<runroot>/c/<container id>/exec/<exec id>.pid    the process's pid, from the monitor
//	<runroot>/c/<container id>/exec/<exec id>.exit   its exit code, from the monitor
//
// so it goes with the run, as Docker's go when the container stops. The
// process that starts it (the API service) rewrites it as the process
// starts and ends; a record whose owner is gone reads as not running.

// ExecInstance is one created exec.
type ExecInstance struct {
	ID          string
	ContainerID string
	Options     ContainerExecOptions // the process; its streams are unset
	// The streams the creator asked for, and its detach keys (Docker's
	// notation).
	AttachStdin, AttachStdout, AttachStderr bool
	DetachKeys                              string

	Running  bool
	ExitCode *int // nil until it ran
	Pid      int  `json:"-"` // the process's, once started (from its pid file)
	// Owner is the process running it, and that process's start time.
	Owner      int    `json:",omitempty"`
	OwnerStart uint64 `json:",omitempty"`
}

// ContainerExecCreateOptions are the API's exec create.
type ContainerExecCreateOptions struct {
	Exec                                    ContainerExecOptions // streams unset
	AttachStdin, AttachStdout, AttachStderr bool
	DetachKeys                              string
}

// ContainerExecCreateResult names the new exec.
type ContainerExecCreateResult struct {
	ID string
}

// ContainerExecCreate records an exec in a running container, to be run
// by ExecStart. The container's state and the process (user, working
// directory, environment) are checked now, as Docker checks them.
func (e *Engine) ContainerExecCreate(ctx context.Context, ref string, o ContainerExecCreateOptions) (ContainerExecCreateResult, error) {
	if _, ok := ParseDetachKeys(o.DetachKeys); !ok {
		return ContainerExecCreateResult{}, invalid("invalid detach keys %q: use a comma-separated list of a letter or ctrl-<letter>, e.g. ctrl-p,ctrl-q", o.DetachKeys)
	}
	c, _, err := e.execTarget(ref, o.Exec)
	if err != nil {
		return ContainerExecCreateResult{}, err
	}
	x := ExecInstance{ID: NewContainerID(), ContainerID: c.ID, Options: o.Exec,
		AttachStdin: o.AttachStdin, AttachStdout: o.AttachStdout, AttachStderr: o.AttachStderr, DetachKeys: o.DetachKeys}
	x.Options.ExecID = x.ID
	if err := os.MkdirAll(filepath.Join(e.runDir(c.ID), "exec"), 0o700); err != nil {
		return ContainerExecCreateResult{}, err
	}
	if err := e.writeExec(&x); err != nil {
		return ContainerExecCreateResult{}, err
	}
	e.execEvent(c, "exec_create", o.Exec.Cmd, x.ID)
	return ContainerExecCreateResult{ID: x.ID}, nil
}

// ExecStartOptions are the streams of a started exec (see
// ContainerExecOptions' fields of the same names).
type ExecStartOptions struct {
	Detach         bool
	Tty            bool // the start's own request for a terminal, over the create's
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Size           [2]uint16
	Resize         <-chan [2]uint16
}

// ExecStartResult is how the exec ended (ExitCode 0 when detached).
type ExecStartResult struct {
	ExitCode int
}

// ExecStart runs a created exec once, with the streams of o, and records
// its exit code for ExecInspect before it returns. Stdin is given to the
// process only when the exec was created with AttachStdin.
func (e *Engine) ExecStart(ctx context.Context, id string, o ExecStartOptions) (ExecStartResult, error) {
	x, err := e.lookupExec(id)
	if err != nil {
		return ExecStartResult{}, err
	}
	if x.Running || x.ExitCode != nil {
		return ExecStartResult{}, fmt.Errorf("exec %s has already been started: %w", x.ID, errdefs.ErrConflict)
	}
	x.Running, x.Owner = true, os.Getpid()
	x.OwnerStart = runtime.ProcessStartTime(x.Owner)
	if err := e.writeExec(x); err != nil {
		return ExecStartResult{}, err
	}
	eo := x.Options
	eo.Detach, eo.Tty = o.Detach, eo.Tty || o.Tty
	eo.Stdout, eo.Stderr, eo.Size, eo.Resize = o.Stdout, o.Stderr, o.Size, o.Resize
	if x.AttachStdin {
		eo.Stdin = o.Stdin
	}
	res, err := e.ContainerExec(ctx, x.ContainerID, eo)
	if err != nil && ctx.Err() != nil {
		return ExecStartResult{}, err // its client left; it runs on (lookupExec)
	}
	x.Running = false
	if err == nil && !o.Detach {
		x.ExitCode = &res.ExitCode
	} else if err != nil {
		code := ExitCode(err)
		x.ExitCode = &code
	}
	e.writeExec(x) // the run directory is gone when the container stopped meanwhile
	return ExecStartResult{ExitCode: res.ExitCode}, err
}

// ExecInspectOptions tune ExecInspect (none yet).
type ExecInspectOptions struct{}

// ExecInspectResult is the exec's record.
type ExecInspectResult struct {
	Exec ExecInstance
}

// ExecInspect reads an exec's record.
func (e *Engine) ExecInspect(ctx context.Context, id string, o ExecInspectOptions) (ExecInspectResult, error) {
	x, err := e.lookupExec(id)
	if err != nil {
		return ExecInspectResult{}, err
	}
	return ExecInspectResult{Exec: *x}, nil
}

// lookupExec finds exec id in the run directory of its container.
func (e *Engine) lookupExec(id string) (*ExecInstance, error) {
	notFound := fmt.Errorf("no such exec instance: %s: %w", id, errdefs.ErrNotFound)
	if !validID(id) {
		return nil, notFound
	}
	paths, _ := filepath.Glob(filepath.Join(e.paths.RunRoot, "c", "*", "exec", id+".json"))
	if len(paths) != 1 {
		return nil, notFound
	}
	b, err := os.ReadFile(paths[0])
	if os.IsNotExist(err) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	var x ExecInstance
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("exec %s: damaged record: %v", id, err)
	}
	if b, err := os.ReadFile(e.execFile(x.ContainerID, x.ID, "pid")); err == nil {
		x.Pid, _ = strconv.Atoi(string(b))
	}
	if b, err := os.ReadFile(e.execFile(x.ContainerID, x.ID, "exit")); err == nil && x.ExitCode == nil {
		if code, err := strconv.Atoi(string(b)); err == nil {
			x.Running, x.ExitCode = false, &code // it ended after its client left
		}
	}
	if x.Running && runtime.ProcessStartTime(x.Owner) != x.OwnerStart {
		// Its owner is gone (killed, or a service that exited after the
		// client left): it runs while its process does.
		x.Running = x.Pid > 0 && runtime.ProcessStartTime(x.Pid) != 0
	}
	return &x, nil
}

// execFile is exec id's file of the given kind (pid, exit), which its
// monitor writes.
func (e *Engine) execFile(container, id, kind string) string {
	return filepath.Join(e.runDir(container), "exec", id+"."+kind)
}

func (e *Engine) writeExec(x *ExecInstance) error {
	return writeJSONFile(filepath.Join(e.runDir(x.ContainerID), "exec", x.ID+".json"), x)
}
