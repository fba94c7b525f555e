package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-engine/skiff/runtime"
)

// ContainerExecOptions are exec's flags.
type ContainerExecOptions struct {
	Cmd         []string
	Env         []string
	User        string
	Workdir     string
	Tty         bool
	Interactive bool
	Detach      bool
	Privileged  bool
}

// ExecCommand is the skiff-monitor invocation that runs an exec. The CLI
// replaces itself with it (execve), so the process that libcontainer
// re-executes as the setns init is the small monitor, not skiff.
type ExecCommand struct {
	Path string
	Args []string
}

// ContainerExec prepares a process to run in a running container.
func (e *Engine) ContainerExec(ctx context.Context, ref string, o ContainerExecOptions) (ExecCommand, error) {
	if len(o.Cmd) == 0 {
		return ExecCommand{}, invalid("exec needs a command")
	}
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ExecCommand{}, err
	}
	if !c.Running() {
		return ExecCommand{}, fmt.Errorf("container %s is not running: start it first: %w", c.Name, errdefs.ErrConflict)
	}
	if c.State.Status == runtime.StatusPaused {
		return ExecCommand{}, fmt.Errorf("container %s is paused, unpause the container before exec: %w", c.Name, errdefs.ErrConflict)
	}
	proc, err := e.execProcess(c, o)
	if err != nil {
		return ExecCommand{}, err
	}
	cfg := runtime.ExecConfig{ID: c.ID, StateRoot: e.stateRoot(), Process: proc, Detach: o.Detach}
	path := filepath.Join(e.runDir(c.ID), fmt.Sprintf("exec-%d.json", time.Now().UnixNano()))
	if err := writeJSONFile(path, cfg); err != nil {
		return ExecCommand{}, err
	}
	bin, err := monitorPath()
	if err != nil {
		os.Remove(path)
		return ExecCommand{}, err
	}
	return ExecCommand{Path: bin, Args: []string{"skiff-monitor", "exec", path}}, nil
}

// execProcess starts from the container's own process (capabilities,
// rlimits, environment) and applies exec's flags.
func (e *Engine) execProcess(c *Container, o ContainerExecOptions) (specs.Process, error) {
	var spec specs.Spec
	b, err := os.ReadFile(filepath.Join(c.dir, "config.json"))
	if err != nil {
		return specs.Process{}, err
	}
	if err := json.Unmarshal(b, &spec); err != nil || spec.Process == nil {
		return specs.Process{}, fmt.Errorf("container %s: unreadable spec: %v", c.Name, err)
	}
	p := *spec.Process
	p.Args = o.Cmd
	p.Terminal = o.Tty
	p.ConsoleSize = nil
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
func (e *Engine) ContainerLogs(ctx context.Context, ref string, o ContainerLogsOptions) error {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	switch c.Config.LogDriver {
	case "none", "passthrough":
		return fmt.Errorf("container %s logs with the %q driver, which keeps no log to read: %w", c.Name, c.Config.LogDriver, errdefs.ErrFailedPrecondition)
	}
	// Paused, starting and stopping containers are followed too.
	stop := func() bool {
		return ctx.Err() != nil || e.reload(c) != nil || !c.Running()
	}
	return runtime.ReadLog(c.LogPath(), c.Config.LogDriver, runtime.LogReadOptions{
		Follow: o.Follow, Tail: o.Tail, Since: o.Since, Until: o.Until, Timestamps: o.Timestamps, StopFollowing: stop,
	}, o.Stdout, o.Stderr)
}
