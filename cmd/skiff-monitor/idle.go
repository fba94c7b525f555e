package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// A monitor spends most of its memory on what starting the container took:
// libcontainer, the spec, a Go heap fragmented by both, and the pages of
// this 17 MB binary, which its runtime keeps reading. So once the
// container runs, the monitor becomes skiff-monitor-idle (execve), a small
// program that does what a running container needs (see its package
// comment), with a monitorio.Handoff in its environment; when the init
// exits, the idle monitor becomes skiff-monitor again with a Handoff back,
// and resumeMonitor carries on where supervise waits for the init.
//
// execve keeps the pid and start time (State names the monitor by them),
// the init as a child (its parent-death signal is tied to the thread that
// forked it: runMonitor locks that thread, which the execve keeps as the
// process's only one) and the descriptors the Handoff names.
//
// The monitor becomes idle only when nothing is lost by it: the output is
// not yet copied (flowOutputs comes after), clients' readers stop between
// frames, the notification relay between datagrams, and the network, if
// any, is one whose undo steps need nothing of this process
// (netns.Reattachable: a rootful bridge without published ports; the
// resumed monitor rebuilds them with netns.Reattach). Port reservations and
// forwarders, slirp4netns and the rootless shared namespace belong to this
// process: such a container keeps this monitor. SKIFF_MONITOR_NO_IDLE set
// keeps it too (for comparisons).
//
// A run started with a client attached (a foreground run, start -a) goes
// idle only once its last client leaves (detach keys, a closed terminal):
// such runs are mostly short, and the two execs, there and back, would be
// most of what the monitor costs them (~20 ms of a `run --rm` of ~50),
// while the client beside it is itself a far larger process. Going idle
// then (waitOrIdle) stops the healthcheck, whose status the Handoff
// carries on, and the output copies between two reads (pauseOutputs); the
// init is watched meanwhile without being reaped, so that the idle
// monitor can take it over by its pid.

// initProcess is the container's init as the monitor waits for and
// signals it: libcontainer's Process in the monitor that started it, an
// os.Process in a resumed one.
type initProcess interface {
	Signal(os.Signal) error
	Wait() (*os.ProcessState, error)
}

// idleBinary is skiff-monitor-idle beside this binary ("" if missing).
func idleBinary() (self, idle string) {
	self, err := os.Executable()
	if err != nil {
		return "", ""
	}
	idle = filepath.Join(filepath.Dir(self), monitorio.IdleBinary)
	if _, err := os.Stat(idle); err != nil {
		return self, ""
	}
	return self, idle
}

// becomeIdle execs skiff-monitor-idle when it can; it returns only when
// the monitor stays.
func (m *monitor) becomeIdle() {
	if os.Getenv("SKIFF_MONITOR_NO_IDLE") != "" || m.ln == nil || m.process == nil || m.stopWanted() {
		return
	}
	if m.network != nil && !reattachable(m.cfg.Network) {
		return
	}
	self, idle := idleBinary()
	if idle == "" {
		return
	}
	if unix.Gettid() != os.Getpid() {
		return // not on the main thread (main.go's init): no execve from here
	}
	if m.clients.Len() > 0 { // later, alone (waitOrIdle)
		m.idleWhenAlone = true
		return
	}
	m.pauseAccepting()
	m.pauseRelay()
	h := m.handoff(self)
	h.Clients = m.clients.Pause()
	if m.log != nil {
		m.log.Close() // reopened (appended to) by the idle monitor
	}
	env := os.Environ()
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		env, h.SetGOMAXPROCS = append(env, "GOMAXPROCS=1"), true
	}
	env = append(env, monitorio.HandoffEnv+"="+h.Encode())
	syscall.Exec(idle, []string{idle, "run", m.cfgPath}, env)
	// Still here: carry on as this monitor (the descriptors were only made
	// inheritable, which no child sees: each runs with its own).
	if m.log != nil {
		m.log, _ = runtime.OpenLog(m.cfg.LogPath, m.cfg.LogDriver, m.cfg.LogMaxSize, m.cfg.LogMaxFiles)
	}
	m.clients.Resume(m)
}

// handoff is the Handoff of the run under way (without clients).
func (m *monitor) handoff(self string) monitorio.Handoff {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := monitorio.Handoff{Config: m.cfgPath, Monitor: self, Pid: m.pid, StartedAt: m.startedAt,
		RestartCount: m.restartCount, Backoff: m.backoff, Height: m.size[0], Width: m.size[1],
		Listener: monitorio.Inheritable(m.ln), Notify: -1, Stdin: -1, Pty: -1, Stdout: -1, Stderr: -1,
		StopRequested: m.stopRequested, RestartRequested: m.restartRequested,
		ID: m.cfg.ID, EventSpool: m.cfg.EventSpool, HealthPath: runtime.HealthPath(m.cfg.StatePath),
		LogPath: m.cfg.LogPath, LogDriver: m.cfg.LogDriver, LogMaxSize: m.cfg.LogMaxSize, LogMaxFiles: m.cfg.LogMaxFiles,
		StopSignal: int(m.stopSignal()), StopTimeout: m.stopTimeout(), NotifySocket: m.cfg.NotifySocket,
		HealthOnFailure: m.cfg.HealthOnFailure}
	if m.cfg.Timeout > 0 {
		h.Timeout = time.Duration(m.cfg.Timeout) * time.Second
	}
	if m.notify != nil {
		h.Notify = monitorio.Inheritable(m.notify)
	}
	if m.pty != nil {
		h.Pty = monitorio.Inheritable(m.pty)
	}
	switch {
	case m.stdin != nil && m.stdin == m.pty:
		h.Stdin = h.Pty
	case m.stdin != nil:
		h.Stdin = monitorio.Inheritable(m.stdin)
	}
	for _, o := range m.pending {
		fd := h.Pty
		if o.r != m.pty {
			fd = monitorio.Inheritable(o.r)
		}
		if o.stream == runtime.StreamStderr {
			h.Stderr = fd
		} else {
			h.Stdout = fd
		}
	}
	if !m.cfg.Healthcheck.Disabled() && m.procSpec != nil {
		if _, err := m.cfg.Healthcheck.Argv(); err == nil {
			hc := m.cfg.Healthcheck.WithDefaults()
			h.Health = monitorio.HandoffHealth{Interval: hc.Interval, Timeout: hc.Timeout,
				StartPeriod: hc.StartPeriod, StartInterval: hc.StartInterval, Retries: hc.Retries}
			if rh := m.runHealth; rh != nil {
				h.Health.Status, h.Health.FailingStreak = rh.Status, rh.FailingStreak
			}
		}
	}
	return h
}

// waitOrIdle is wait, for a run that becomeIdle left to its clients: when
// the last one leaves while the init runs, the monitor goes idle then
// (stopHealth ends the run's healthcheck; a new one is started, in
// *stopHealth, when the monitor stays).
func (m *monitor) waitOrIdle(stopHealth *func()) (code int, oom bool) {
	var exited <-chan struct{}
	if m.idleWhenAlone {
		exited = m.watchExit()
	}
	m.idleWhenAlone = false
	for exited != nil {
		select {
		case <-exited:
			exited = nil
		case <-m.alone:
			if m.clients.Len() > 0 || m.stopWanted() {
				continue
			}
			m.runHealth = m.healthNow()
			(*stopHealth)()
			if m.pauseOutputs() {
				m.becomeIdle() // returns only when this monitor stays
			}
			m.flowOutputs()
			*stopHealth = m.startHealth()
			m.runHealth = nil
			m.startAccepting()
			m.startRelay()
		}
	}
	return m.wait()
}

// resumeMonitor is skiff-monitor again after the idle monitor: the init
// has exited (or was killed for a restart); the monitor is rebuilt from
// its config and the Handoff and carries on with the exit.
func resumeMonitor(path, encoded string) int {
	os.Unsetenv(monitorio.HandoffEnv) // not for the container's processes
	h, err := monitorio.DecodeHandoff(encoded)
	if err != nil {
		return 1
	}
	closed := make(chan struct{})
	close(closed)
	m := &monitor{started: closed, wake: make(chan struct{}, 1), daemonized: true}
	if err := m.readConfig(path); err != nil {
		return 1
	}
	monitorio.CatchSignals(m.stop)
	m.startedAt, m.restartCount, m.backoff = h.StartedAt, h.RestartCount, h.Backoff
	m.size = [2]uint16{h.Height, h.Width}
	m.stopRequested, m.restartRequested = h.StopRequested, h.RestartRequested
	if h.Listener >= 0 {
		m.ln = monitorio.FileListener(h.Listener)
	}
	if h.Notify >= 0 {
		m.notify = monitorio.FileConn(h.Notify)
	}
	m.clients.Adopt(h.Clients)
	switch m.cfg.LogDriver {
	case runtime.LogJSONFile, runtime.LogK8sFile:
		m.log, _ = runtime.OpenLog(m.cfg.LogPath, m.cfg.LogDriver, m.cfg.LogMaxSize, m.cfg.LogMaxFiles)
	}
	if h.Stdout >= 0 {
		m.flowOutput(runtime.StreamStdout, os.NewFile(uintptr(h.Stdout), "stdout"))
	}
	if h.Stderr >= 0 {
		m.flowOutput(runtime.StreamStderr, os.NewFile(uintptr(h.Stderr), "stderr"))
	}
	m.container, _ = libcontainer.Load(m.cfg.StateRoot, m.cfg.ID)
	if len(m.cfg.Network) > 0 {
		// Only a Reattachable network went idle (becomeIdle).
		m.network, _ = reattachNetwork(m.cfg.Network)
	}
	p, err := os.FindProcess(h.Pid)
	if err != nil {
		return 1
	}
	m.process, m.pid = p, h.Pid
	m.clients.Resume(m)
	if m.ln != nil {
		m.startAccepting()
	}
	m.startRelay()
	return m.serveRun(true)
}

// watchExit returns a channel closed once the init has exited, which it
// leaves unreaped (waitid's WNOWAIT): the idle monitor takes it over by
// its pid. nil when the init cannot be watched so.
func (m *monitor) watchExit() <-chan struct{} {
	fd, err := unix.PidfdOpen(m.pid, 0)
	if err != nil {
		return nil
	}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer unix.Close(fd)
		var info unix.Siginfo
		for unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
		}
	}()
	return exited
}

// healthNow is the run's health as its healthcheck has it (nil: none).
func (m *monitor) healthNow() *runtime.Health {
	m.mu.Lock()
	h := m.health
	m.mu.Unlock()
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state
	return &st
}

// pauseOutputs stops the output copies between two reads and makes their
// streams pending again; false, with the copies going on, when a stream
// takes no deadline (which is checked first, so that none is paused then).
func (m *monitor) pauseOutputs() bool {
	m.mu.Lock()
	flowing := m.flowing
	m.mu.Unlock()
	for _, o := range flowing {
		if err := o.r.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, os.ErrClosed) {
			return false
		}
	}
	for _, o := range flowing {
		o.r.SetReadDeadline(time.Unix(1, 0))
	}
	m.outputs.Wait()
	m.mu.Lock()
	m.flowing = nil
	m.mu.Unlock()
	return true
}
