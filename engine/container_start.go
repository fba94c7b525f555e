package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

// ContainerStartOptions choose between a detached start and a foreground
// one that streams the container's stdio until it exits.
type ContainerStartOptions struct {
	Attach *AttachIO // nil: detached
	// Monitor, when set, is a monitor the caller started ahead (see
	// StartMonitor); the start uses it or, when it has no use for it,
	// abandons it. nil: the start forks one itself.
	Monitor *MonitorProc
}

// AttachIO connects a caller's stdio to a container.
type AttachIO struct {
	Stdin      io.Reader // nil: stdin not attached
	Stdout     io.Writer
	Stderr     io.Writer
	Resize     <-chan [2]uint16 // terminal size changes (rows, cols)
	Size       [2]uint16        // initial terminal size, zero when none
	DetachKeys []byte           // e.g. ctrl-p ctrl-q; nil disables detaching
	// CleanupOwner: the caller cleans up after exit itself (foreground
	// run), so the monitor does not run its exit command.
	CleanupOwner bool
}

// ContainerStartResult reports how a foreground start ended.
type ContainerStartResult struct {
	ExitCode int
	Detached bool // the user typed the detach keys
}

// ContainerStart starts a created or exited container. With Attach it waits
// for the container to exit (or the detach keys) and returns its exit code.
func (e *Engine) ContainerStart(ctx context.Context, ref string, o ContainerStartOptions) (ContainerStartResult, error) {
	mp := o.Monitor
	defer mp.Abandon() // a no-op once used
	// Another start may have won the lock: decide on the state it left.
	c, unlock, err := e.lockedState(ref)
	if err != nil {
		return ContainerStartResult{}, err
	}
	if c.Running() {
		unlock()
		if o.Attach == nil {
			return ContainerStartResult{}, nil // docker: starting a running container is a no-op
		}
		return e.attach(ctx, c, o.Attach)
	}
	var stdio []*os.File
	aio := o.Attach
	if c.Config.LogDriver == runtime.LogPassthrough {
		if stdio, err = passthroughFiles(c, aio); err != nil {
			unlock()
			return ContainerStartResult{}, err
		}
		// The container reads and writes the caller's stdio itself: the
		// attach connection carries only the exit code (and resizes).
		stream := *aio
		stream.Stdin, stream.Stdout, stream.Stderr = nil, io.Discard, io.Discard
		aio = &stream
	}
	if mp == nil || mp.id != c.ID {
		// Fork it now: its start-up overlaps the mount and the spec.
		if mp, err = e.StartMonitor(c.ID, stdio); err != nil {
			unlock()
			return ContainerStartResult{}, err
		}
		defer mp.Abandon()
	}
	conn, err := e.launch(c, o.Attach != nil, mp)
	unlock()
	if err != nil {
		return ContainerStartResult{}, err
	}
	if conn == nil {
		return ContainerStartResult{}, nil
	}
	return streamAttach(ctx, conn, aio, true)
}

// passthroughFiles are the caller's stdin, stdout and stderr, which the
// passthrough log driver hands to the container: only a foreground start
// from a process with real files has them.
func passthroughFiles(c *Container, aio *AttachIO) ([]*os.File, error) {
	if aio == nil {
		return nil, fmt.Errorf("container %s uses the passthrough log driver, which needs a foreground run (no -d) or start -a: %w", c.Name, errdefs.ErrInvalidArgument)
	}
	out, ok1 := aio.Stdout.(*os.File)
	errf, ok2 := aio.Stderr.(*os.File)
	in, ok3 := aio.Stdin.(*os.File)
	if aio.Stdin == nil {
		in, ok3 = out, true // fills the slot: the monitor reads it only with -i
	}
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("container %s uses the passthrough log driver, which needs the caller's own stdio files: %w", c.Name, errdefs.ErrInvalidArgument)
	}
	return []*os.File{in, out, errf}, nil
}

// runDir is the container's directory under the run root.
func (e *Engine) runDir(id string) string { return filepath.Join(e.paths.RunRoot, "c", id) }

func (e *Engine) stateRoot() string { return filepath.Join(e.paths.RunRoot, "runc") }

// launch mounts the root filesystem, writes the spec and the monitor's
// config, and starts the monitor. With wait it returns the attach
// connection the monitor waits for before starting the container.
func (e *Engine) launch(c *Container, wait bool, mp *MonitorProc) (net.Conn, error) {
	e.stopOrphan(c) // what a killed monitor left running would make the start fail
	rootfs, err := e.store.Mount(c.ID)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (net.Conn, error) {
		e.store.Unmount(c.ID, false)
		os.RemoveAll(e.runDir(c.ID))
		return nil, err
	}
	opts := c.Config.Spec
	opts.Rootfs = rootfs
	opts.HostsFile, opts.HostnameFile, opts.ResolvConfFile = c.HostsFile(), c.HostnameFile(), c.ResolvConfFile()
	spec, err := runtime.GenerateSpec(opts)
	if err != nil {
		return fail(fmt.Errorf("container %s: %w", c.Name, err))
	}
	if err := writeJSONFile(filepath.Join(c.dir, "config.json"), spec); err != nil {
		return fail(err)
	}
	mc := e.monitorConfig(c, wait)
	if err := os.MkdirAll(mc.RunDir, 0o700); err != nil {
		return fail(err)
	}
	if err := writeJSONFile(filepath.Join(mc.RunDir, "monitor.json"), mc); err != nil {
		return fail(err)
	}
	// A fresh log per start, rotated files included, so logs never mixes runs.
	if old, _ := filepath.Glob(c.LogPath() + "*"); len(old) > 0 {
		for _, f := range old {
			os.Remove(f)
		}
	}
	line, err := mp.handOver(mc)
	if err != nil {
		return fail(err)
	}
	if !wait {
		return nil, startedOrError(c, line)
	}
	if line != "ready" {
		return fail(startedOrError(c, line))
	}
	conn, err := dialAttach(mc.RunDir)
	if err != nil {
		return fail(fmt.Errorf("container %s: connecting to its monitor: %w", c.Name, err))
	}
	return conn, nil
}

func (e *Engine) monitorConfig(c *Container, wait bool) runtime.MonitorConfig {
	self, _ := os.Executable()
	// The exit command opens the same store with the same settings.
	exit := []string{self, "--root", e.paths.GraphRoot, "--runroot", e.paths.RunRoot}
	if d := e.store.Driver(); d != "" {
		exit = append(exit, "--storage-driver", d)
	}
	if e.opts.ConfigPath != "" {
		exit = append(exit, "--config", e.opts.ConfigPath)
	}
	for _, o := range e.opts.StorageOpts {
		exit = append(exit, "--storage-opt", o)
	}
	exit = append(exit, "container", "cleanup", c.ID)
	return runtime.MonitorConfig{
		ID: c.ID, Bundle: c.dir, StateRoot: e.stateRoot(), RunDir: e.runDir(c.ID), StatePath: c.StatePath(),
		LogDriver: c.Config.LogDriver, LogPath: c.LogPath(), LogMaxSize: c.Config.LogMaxSize, LogMaxFiles: c.Config.LogMaxFiles,
		Terminal: c.Config.Tty, Stdin: c.Config.OpenStdin, WaitAttach: wait, Rootless: e.paths.Rootless, Volatile: c.Config.AutoRemove,
		StopSignal: c.Config.StopSignal, StopTimeout: &c.Config.StopTimeout, Timeout: c.Config.RunTimeout,
		ExitCommand: exit,
	}
}

// MonitorProc is a skiff-monitor started ahead of need: its runtime starts
// while the engine prepares the container, and it waits on its control
// pipe until its config is written.
type MonitorProc struct {
	id   string // the container it is for
	bin  string
	ctl  *os.File // write end of the control pipe (runtime.MonitorControlFd)
	sync *os.File // read end of the handshake pipe (its fd 3)
}

// StartMonitor forks the monitor of container id (which may not exist yet:
// see ContainerCreateOptions.ID) for a ContainerStart to come. stdio are the
// caller's stdin, stdout and stderr for the passthrough log driver (nil
// otherwise). One that is never handed to a start must be abandoned.
func (e *Engine) StartMonitor(id string, stdio []*os.File) (*MonitorProc, error) {
	bin, err := monitorPath()
	if err != nil {
		return nil, err
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		syncR.Close()
		syncW.Close()
		return nil, err
	}
	// Its arguments name its container, for ps and for whoever looks.
	cmd := exec.Command(bin, "run", filepath.Join(e.runDir(id), "monitor.json"))
	cmd.ExtraFiles = append([]*os.File{syncW, ctlR}, stdio...) // fds 3, 4, then runtime.PassthroughFds
	cmd.Env = append(os.Environ(), runtime.MonitorControlEnv+"="+strconv.Itoa(runtime.MonitorControlFd))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	syncW.Close()
	ctlR.Close()
	if err != nil {
		syncR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go cmd.Wait() // reap it if it exits while we still run
	return &MonitorProc{id: id, bin: bin, ctl: ctlW, sync: syncR}, nil
}

// Abandon tells an unused monitor to exit (it reads the end of its control
// pipe). Safe on nil and after use.
func (mp *MonitorProc) Abandon() {
	if mp == nil || mp.ctl == nil {
		return
	}
	mp.ctl.Close()
	mp.sync.Close()
	mp.ctl, mp.sync = nil, nil
}

// handOver names the written config to the monitor and reads the first
// line of its handshake (the second too without WaitAttach).
func (mp *MonitorProc) handOver(mc runtime.MonitorConfig) (string, error) {
	if mp.ctl == nil || mp.id != mc.ID {
		return "", fmt.Errorf("no monitor was started for container %s", mc.ID)
	}
	_, err := mp.ctl.WriteString("go\n")
	mp.ctl.Close()
	mp.ctl = nil
	defer func() { mp.sync.Close(); mp.sync = nil }()
	if err != nil {
		return "", fmt.Errorf("the container monitor (%s) exited before it got its config: %w", mp.bin, err)
	}
	r := bufio.NewReader(mp.sync)
	line, err := r.ReadString('\n')
	line = strings.TrimSpace(line)
	if err != nil && line == "" {
		return "", fmt.Errorf("the container monitor exited during start-up (see %s)", mc.StatePath)
	}
	if line == "ready" && !mc.WaitAttach {
		line, _ = r.ReadString('\n')
		line = strings.TrimSpace(line)
	}
	return line, nil
}

// startedOrError reads "started PID" or "error MSG" from the handshake.
func startedOrError(c *Container, line string) error {
	if strings.HasPrefix(line, "started ") {
		return nil
	}
	msg := strings.TrimPrefix(line, "error ")
	if msg == "" {
		msg = "the container monitor exited without starting the container"
	}
	return startError(c, msg)
}

// startError carries Docker's exit codes for a command that cannot run,
// read from the monitor's message (the state it records may come later).
func startError(c *Container, msg string) error {
	return &ExitError{Code: runtime.StartExitCode(msg), Err: fmt.Errorf("container %s: %s", c.Name, msg)}
}

// ExitError is a container's exit status, or Docker's 126/127 for a command
// that could not be run.
type ExitError struct {
	Code int
	Err  error // nil: the container ran and exited with Code
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return "exit status " + strconv.Itoa(e.Code)
}

// ExitCode makes the CLI exit with the container's code.
func (e *ExitError) ExitCode() int { return e.Code }

// Silent reports an exit status with nothing more to say.
func (e *ExitError) Silent() bool { return e.Err == nil }

// monitorPath finds skiff-monitor beside the skiff binary, then on PATH.
func monitorPath() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "skiff-monitor")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("skiff-monitor"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/libexec/skiff/skiff-monitor", "/usr/local/libexec/skiff/skiff-monitor"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("skiff-monitor not found beside skiff or on PATH: install both binaries (make install): %w", errdefs.ErrNotFound)
}

func writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
