package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// start creates the container and starts its init with the monitor's
// pipes or a pty, and records it running. It returns the init's pid.
func (m *monitor) start() (int, error) {
	decode := m.firstSpec
	m.firstSpec = nil
	if decode == nil {
		decode = func() (*specs.Spec, error) { return decodeSpec(m.cfg.Bundle) }
	}
	spec, err := decode()
	if err == nil {
		err = os.Chdir(m.cfg.Bundle) // as runc: specconv resolves relative paths against it
	}
	if err != nil {
		return 0, err
	}
	cfg, err := runtime.LibcontainerConfig(spec, m.cfg.ID, m.cfg.Rootless)
	if err != nil {
		return 0, err
	}
	m.noCgroup = cfg.Cgroups.Rootless && cfg.Cgroups.Path == ""
	if m.container, err = create(m.cfg.StateRoot, m.cfg.ID, cfg); err != nil {
		return 0, err
	}
	p, err := runtime.NewProcess(spec.Process, true)
	if err != nil {
		return 0, err
	}
	m.procSpec = spec.Process
	switch {
	case m.cfg.LogDriver == runtime.LogPassthrough:
		err = m.startPassthrough(p)
	case m.cfg.Terminal:
		err = m.startWithPty(p)
	default:
		err = m.startWithPipes(p)
	}
	if err != nil {
		return 0, err
	}
	pid, _ := p.Pid()
	m.mu.Lock()
	m.process, m.pid = p, pid
	m.mu.Unlock()
	m.startedAt = time.Now().UTC()
	st := runtime.State{Status: runtime.StatusRunning, Pid: pid, StartedAt: m.startedAt, RestartCount: m.restartCount,
		MonitorPid: os.Getpid(), MonitorStart: runtime.ProcessStartTime(os.Getpid())}
	if err := runtime.WriteState(m.cfg.StatePath, st, false); err != nil {
		p.Signal(os.Kill)
		p.Wait()
		return 0, fmt.Errorf("recording the container's state: %w", err)
	}
	return pid, nil
}

// loadSpec reads <bundle>/config.json and makes the bundle the current
// directory, as runc does (specconv resolves relative paths against it).
func loadSpec(bundle string) (*specs.Spec, error) {
	spec, err := decodeSpec(bundle)
	if err != nil {
		return nil, err
	}
	return spec, os.Chdir(bundle)
}

// prefetchSpec decodes the bundle's spec in the background, for the first
// start: a first decoding builds the decoders of the spec's types by
// reflection (0.7 ms with the read), which then overlaps the monitor's
// daemonizing and its sockets. The function returned waits for it.
func prefetchSpec(bundle string) func() (*specs.Spec, error) {
	type result struct {
		spec *specs.Spec
		err  error
	}
	c := make(chan result, 1)
	go func() {
		spec, err := decodeSpec(bundle)
		c <- result{spec, err}
	}()
	return func() (*specs.Spec, error) { r := <-c; return r.spec, r.err }
}

// warmJSON builds the JSON encoders and field tables that encoding/json
// makes by reflection, once per type and process, for what a start
// encodes: libcontainer's config (sent to the init) and state (written at
// the start), and skiff's state. Run while the monitor waits for its
// config, it takes that CPU out of the start. Not the spec, which a start
// only decodes (decodeSpec, beside it): its encoders, about 0.35 ms of
// reflection, would never be used.
func warmJSON() {
	json.Marshal(libcontainer.State{})
	json.Marshal(runtime.State{})
}

// warmPidfd has the os package check, once per process, that pidfds
// work, which it does at the first os.StartProcess by forking a child
// that exits at once (0.15 ms): libcontainer's start of the container's
// init (or of an exec's) would wait for it. os.FindProcess checks the
// same, and its handle of our own process is let go.
func warmPidfd() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
}

// decodeSpec reads the bundle's config.json.
func decodeSpec(bundle string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", bundle, err)
	}
	if spec.Process == nil {
		return nil, fmt.Errorf("%s/config.json has no process", bundle)
	}
	return &spec, nil
}

// create makes the libcontainer container, replacing the state a killed
// monitor left behind for a container that no longer runs (runMonitor has
// refused to touch a running one).
func create(root, id string, cfg *configs.Config) (*libcontainer.Container, error) {
	c, err := libcontainer.Create(root, id, cfg)
	if !errors.Is(err, libcontainer.ErrExist) {
		return c, err
	}
	old, err := libcontainer.Load(root, id)
	if err != nil {
		os.RemoveAll(filepath.Join(root, id))
		return libcontainer.Create(root, id, cfg)
	}
	if st, _ := old.Status(); st != libcontainer.Stopped {
		return nil, fmt.Errorf("container %s is already running (%s)", id, st)
	}
	if err := old.Destroy(); err != nil {
		return nil, err
	}
	return libcontainer.Create(root, id, cfg)
}

// startPassthrough gives the init the caller's own stdio, which the engine
// passed at runtime.PassthroughFds (stdin only with -i).
func (m *monitor) startPassthrough(p *libcontainer.Process) error {
	var files [3]*os.File
	for i, fd := range runtime.PassthroughFds {
		if _, err := unix.FcntlInt(fd, unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("the passthrough log driver needs the caller's stdio, and fd %d is not open", fd)
		}
		files[i] = os.NewFile(fd, "passthrough")
		defer files[i].Close()
	}
	if m.cfg.Stdin {
		p.Stdin = files[0]
	}
	p.Stdout, p.Stderr = files[1], files[2]
	return m.run(p)
}

// startWithPipes gives the init pipes for stdout and stderr, and for stdin
// when the container keeps it open (/dev/null otherwise).
func (m *monitor) startWithPipes(p *libcontainer.Process) error {
	var theirs []*os.File
	defer func() {
		for _, f := range theirs {
			f.Close()
		}
	}()
	if m.cfg.Stdin {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		p.Stdin, m.stdin = r, w
		theirs = append(theirs, r)
	}
	for _, stream := range []string{runtime.StreamStdout, runtime.StreamStderr} {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		if stream == runtime.StreamStdout {
			p.Stdout = w
		} else {
			p.Stderr = w
		}
		theirs = append(theirs, w)
		m.copyOutput(stream, r)
	}
	return m.run(p)
}

// run starts the init, sets up its network, and lets it run its command.
func (m *monitor) run(p *libcontainer.Process) error {
	if err := m.container.Start(p); err != nil {
		return err
	}
	return m.execAfterNetwork(p)
}

// execAfterNetwork sets up the container's network (MonitorConfig.Network)
// while its init waits, then lets the init run its command. A failure
// kills the init.
func (m *monitor) execAfterNetwork(p *libcontainer.Process) error {
	if len(m.cfg.Network) > 0 {
		pid, err := p.Pid()
		if err == nil {
			m.network, err = setupNetwork(m.cfg.Network, pid)
		}
		if err != nil {
			p.Signal(os.Kill)
			p.Wait()
			return fmt.Errorf("container network: %w", err)
		}
	}
	if err := m.container.Exec(); err != nil {
		p.Signal(os.Kill)
		p.Wait()
		return err
	}
	return nil
}

// startWithPty lets the init create a pty inside the container and send
// us its master. The process waits for the exec signal until the master
// has the size a client asked for meanwhile.
func (m *monitor) startWithPty(p *libcontainer.Process) error {
	parent, child, err := consoleSocket()
	if err != nil {
		return err
	}
	defer parent.Close()
	m.mu.Lock()
	if m.size[0] != 0 {
		p.ConsoleHeight, p.ConsoleWidth = m.size[0], m.size[1]
	}
	m.mu.Unlock()
	p.ConsoleSocket = child
	err = m.container.Start(p)
	child.Close()
	if err != nil {
		return err
	}
	master, err := recvPty(parent)
	if err != nil {
		p.Signal(os.Kill)
		p.Wait()
		return err
	}
	m.mu.Lock()
	m.pty = master
	if m.cfg.Stdin {
		m.stdin = master
	}
	setSize(master, m.size[0], m.size[1])
	m.mu.Unlock()
	m.copyOutput(runtime.StreamStdout, master)
	return m.execAfterNetwork(p)
}

// pendingOutput is an output stream of the container not yet copied.
type pendingOutput struct {
	stream string
	r      *os.File
}

// copyOutput makes an output stream of the container's pending: its copy
// starts with flowOutputs, unless the monitor hands it to the idle one.
func (m *monitor) copyOutput(stream string, r *os.File) {
	m.pending = append(m.pending, pendingOutput{stream, r})
}

// flowOutputs starts the copies of the pending output streams.
func (m *monitor) flowOutputs() {
	m.mu.Lock()
	pending := m.pending
	m.pending = nil
	m.mu.Unlock()
	for _, o := range pending {
		m.flowOutput(o.stream, o.r)
	}
}

// flowOutput copies one output stream of the container to the log and to
// every client until it ends.
func (m *monitor) flowOutput(stream string, r *os.File) {
	typ := runtime.FrameStdout
	if stream == runtime.StreamStderr {
		typ = runtime.FrameStderr
	}
	r.SetReadDeadline(time.Time{}) // after a pauseOutputs
	m.mu.Lock()
	m.flowing = append(m.flowing, pendingOutput{stream, r})
	m.mu.Unlock()
	m.outputs.Add(1)
	go func() {
		defer m.outputs.Done()
		<-m.started // clients hear FrameStarted first
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if m.log != nil {
					m.log.Write(stream, buf[:n])
				}
				m.clients.Send(typ, buf[:n])
			}
			if errors.Is(err, os.ErrDeadlineExceeded) { // paused: pending again
				m.mu.Lock()
				m.pending = append(m.pending, pendingOutput{stream, r})
				m.mu.Unlock()
				return
			}
			if err != nil { // EOF, or EIO from a pty whose last user left
				r.Close()
				return
			}
		}
	}()
}

// wait waits for the init to exit and for its output to drain, and
// reports the exit code and whether the kernel's OOM killer struck.
func (m *monitor) wait() (code int, oom bool) {
	ps, _ := m.process.Wait()
	code = exitCode(ps)
	drained := make(chan struct{})
	go func() { m.outputs.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
	}
	m.mu.Lock()
	if m.stdin != nil && m.stdin != m.pty {
		m.stdin.Close()
	}
	m.stdin = nil
	m.mu.Unlock()
	return code, m.oomKilled()
}

// oomKilled reads the container cgroup's OOM kill count (there is none
// without cgroups). A rootless container without a cgroup is not asked
// for its state: libcontainer's State reads the init's start time through
// a clone of /proc made for each read where no private procfs can be
// mounted (rootless), 0.3 ms on the way from the exit to its report.
func (m *monitor) oomKilled() bool {
	if m.container == nil || m.noCgroup {
		return false
	}
	st, err := m.container.State()
	if err != nil || len(st.CgroupPaths) == 0 {
		return false
	}
	mgr, err := manager.NewWithPaths(st.Config.Cgroups, st.CgroupPaths)
	if err != nil {
		return false
	}
	n, err := mgr.OOMKillCount()
	return err == nil && n > 0
}

// WriteStdin passes a client's input on; it waits for the start, and drops
// input when the container has no stdin.
func (m *monitor) WriteStdin(b []byte) {
	<-m.started
	m.mu.Lock()
	w := m.stdin
	m.mu.Unlock()
	if w != nil {
		w.Write(b)
	}
}

// CloseStdin ends the container's input. A terminal has no end of input
// apart from hanging up, so with one this does nothing.
func (m *monitor) CloseStdin() {
	<-m.started
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stdin != nil && m.stdin != m.pty {
		m.stdin.Close()
		m.stdin = nil
	}
}

// Resize records a client's terminal size and applies it once the pty
// exists.
func (m *monitor) Resize(height, width uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.size = [2]uint16{height, width}
	if m.pty != nil {
		setSize(m.pty, height, width)
	}
}
