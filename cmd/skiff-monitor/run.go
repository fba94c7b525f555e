package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// attachTimeout bounds the wait for the first client with WaitAttach.
const attachTimeout = 30 * time.Second

// drainTimeout bounds the wait for the last output after the container's
// init exited: a process outside its PID namespace may hold its stdio.
const drainTimeout = 2 * time.Second

// monitor is one container's monitor.
type monitor struct {
	cfg     runtime.MonitorConfig
	cfgPath string // the file cfg was read from
	// firstSpec is the first start's spec, decoded beside the start-up
	// (prefetchSpec); nil once used, and for a resumed monitor.
	firstSpec func() (*specs.Spec, error)
	// daemonized: the monitor took over its signals (daemonize); before,
	// a SIGTERM ends it as if uncaught. Guarded by mu.
	daemonized bool
	syncFd     *os.File // fd 3 until the start-up is reported
	ln         *net.UnixListener
	accepts    chan struct{}      // closed when the accept loop under way ends; nil: none
	log        *runtime.LogWriter // nil: no log
	clients    monitorio.Clients

	container *libcontainer.Container
	// noCgroup: a rootless container without cgroups of its own
	// (runtime.LibcontainerConfig), whose exit has no OOM count to read
	noCgroup bool
	process  initProcess   // the container's init
	pid      int           // its pid
	network  *network      // set up after the init's creation, torn down at its exit
	notify   *net.UnixConn // the container's notification socket (NotifyContainer)
	relaying chan struct{} // closed when the relay from notify ends; nil: none runs
	outputs  sync.WaitGroup
	pending  []pendingOutput // output of the run under way not yet copied (flowOutputs); guarded by mu once it flows
	flowing  []pendingOutput // the output being copied (pauseOutputs); guarded by mu
	backoff  time.Duration   // the last restart's wait (Docker's doubling)

	mu      sync.Mutex
	started chan struct{} // closed once the start is reported: output and input flow
	stdin   *os.File      // pipe to the container's stdin, or the pty master
	pty     *os.File      // pty master (also output), nil without a terminal
	size    [2]uint16     // terminal height, width asked for by a client

	startedAt time.Time
	procSpec  *specs.Process // the container's process (a healthcheck runs as it)
	health    *health        // the running healthcheck, nil without one (guarded by mu)

	// restartRequested makes the loop restart the container once after
	// its init exits, whatever the restart policy (a healthcheck's
	// --health-on-failure=restart sets it, then kills the init); the loop
	// clears it. Guarded by mu.
	restartRequested bool
	stopRequested    bool          // SIGTERM: no more restarts (guarded by mu)
	wake             chan struct{} // cuts a restart's backoff short (stop)
	restartCount     int

	// idleWhenAlone: the run could go idle but for its attached clients;
	// alone tells the wait when the last one left (idle.go).
	idleWhenAlone bool
	alone         chan struct{}
	// runHealth is the run's health at a later going idle, for the
	// Handoff (nil: the run's start, health starts over).
	runHealth *runtime.Health
}

func runMonitor(path string) int {
	if h, ok := os.LookupEnv(monitorio.HandoffEnv); ok {
		return resumeMonitor(path, h) // the idle monitor became us again (idle.go)
	}
	os.Unsetenv(notifyEnv) // the config says whether to notify
	m := &monitor{syncFd: syncPipe(), started: make(chan struct{}), wake: make(chan struct{}, 1), alone: make(chan struct{}, 1)}
	m.clients.NotifyEmpty(func() {
		select {
		case m.alone <- struct{}{}:
		default:
		}
	})
	// The kernel's wait before a first cgroup move overlaps the wait for
	// the config (see runtime.WarmCgroupAttach).
	stopWarming := runtime.WarmCgroupAttach()
	defer stopWarming()
	// Signals are caught from here, not at daemonize: a process's first
	// signal.Notify waits ~0.2 ms for the Go runtime's signal thread, which
	// this overlaps with the wait below (stop exits until daemonize).
	monitorio.CatchSignals(m.stop)
	go warmJSON()
	go runtime.WarmCgroupPaths()
	go warmPidfd()
	// Started ahead of need, the monitor waits for the engine to write its
	// config: "go" on the control pipe, or its end when the engine gave up.
	if !goAhead() {
		return 0
	}
	if err := m.readConfig(path); err != nil {
		m.say("error 125 monitor config: " + err.Error())
		return 1
	}
	if len(m.cfg.Network) > 0 {
		if err := takeNetwork(path, stopWarming); err != nil {
			m.say("error 125 " + err.Error())
			return 1
		}
	}
	if c, err := libcontainer.Load(m.cfg.StateRoot, m.cfg.ID); err == nil {
		if st, _ := c.Status(); st != libcontainer.Stopped {
			// Another monitor owns it: touch none of its files.
			m.say(fmt.Sprintf("error 125 container %s is already %s", m.cfg.ID, st))
			return 1
		}
	}
	m.firstSpec = prefetchSpec(m.cfg.Bundle)
	m.daemonize()
	if err := m.prepare(); err != nil {
		return m.fail(err)
	}
	m.say("ready")
	if m.cfg.WaitAttach {
		if err := m.acceptFirst(); err != nil {
			return m.fail(err)
		}
	}
	pid, err := m.start()
	stopWarming()
	if err != nil {
		return m.fail(err)
	}
	m.notifyStarted()
	m.report("started", strconv.Itoa(pid))
	close(m.started)
	return m.serveRun(false)
}

// serveRun supervises the running container to its end (resumed: its init
// has exited) and cleans up.
func (m *monitor) serveRun(resumed bool) int {
	st := m.supervise(resumed)
	m.finish(st, true)
	if m.cfg.NotifySocket != "" {
		// The unit's main process: systemd's Restart=on-failure reads
		// the container's exit code from it.
		return st.ExitCode
	}
	return 0
}

// readConfig reads the monitor's config (runtime.MonitorConfig).
func (m *monitor) readConfig(path string) error {
	m.cfgPath = path
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &m.cfg)
	}
	if err != nil {
		return err
	}
	if m.cfg.LogDriver == "" {
		m.cfg.LogDriver = runtime.LogJSONFile
	}
	return nil
}

// goAhead waits for "go" on the control pipe (runtime.MonitorControlFd)
// when the engine says it passed one; without one the config is already
// written.
func goAhead() bool {
	if os.Getenv(runtime.MonitorControlEnv) != strconv.Itoa(runtime.MonitorControlFd) {
		return true
	}
	os.Unsetenv(runtime.MonitorControlEnv) // not for the container's processes
	ctl := os.NewFile(runtime.MonitorControlFd, "control")
	defer ctl.Close()
	b, _ := io.ReadAll(io.LimitReader(ctl, 64))
	return strings.TrimSpace(string(b)) == "go"
}

// syncPipe is fd 3 when the engine passed one.
func syncPipe() *os.File {
	if _, err := unix.FcntlInt(3, unix.F_GETFD, 0); err != nil {
		return nil
	}
	return os.NewFile(3, "sync")
}

// daemonize detaches the monitor from whatever started it: stdio goes to
// /dev/null (fd 3 stays for the handshake) and terminal signals are caught.
func (m *monitor) daemonize() {
	if null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		for fd := 0; fd < 3; fd++ {
			unix.Dup3(int(null.Fd()), fd, 0)
		}
		null.Close()
	}
	m.mu.Lock()
	m.daemonized = true // the signals were caught at the start (runMonitor)
	m.mu.Unlock()
}

// stop is `skiff stop` from inside: the container's stop signal, then
// SIGKILL if it still runs after its stop timeout (a signal that reached
// the init before it could handle it is not lost for good).
// It also ends the restart policy, and a backoff under way at once.
func (m *monitor) stop() {
	m.mu.Lock()
	if !m.daemonized {
		os.Exit(128 + int(unix.SIGTERM)) // nothing started: as an uncaught SIGTERM
	}
	p := m.process
	m.stopRequested = true
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	if p == nil {
		return
	}
	p.Signal(m.stopSignal())
	time.AfterFunc(m.stopTimeout(), func() { p.Signal(unix.SIGKILL) })
}

// stopSignal is the container's stop signal, SIGTERM by default.
func (m *monitor) stopSignal() unix.Signal {
	sig, err := runtime.ParseSignal(m.cfg.StopSignal)
	if m.cfg.StopSignal == "" || err != nil {
		return unix.SIGTERM
	}
	return sig
}

// stopTimeout is how long a stop waits before SIGKILL.
func (m *monitor) stopTimeout() time.Duration {
	if m.cfg.StopTimeout != nil {
		return time.Duration(*m.cfg.StopTimeout) * time.Second
	}
	return 10 * time.Second
}

// prepare records the monitor's pid, listens on the attach socket and
// opens the log.
func (m *monitor) prepare() error {
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := runtime.WriteFileAtomic(filepath.Join(m.cfg.RunDir, "monitor.pid"), pid, 0o644, false); err != nil {
		return fmt.Errorf("monitor pid file: %w", err)
	}
	ln, err := listenAttach(m.cfg.RunDir)
	if err != nil {
		return fmt.Errorf("attach socket: %w", err)
	}
	m.ln = ln
	if err := m.listenNotify(); err != nil {
		return fmt.Errorf("notification socket: %w", err)
	}
	switch m.cfg.LogDriver {
	case runtime.LogJSONFile, runtime.LogK8sFile:
		if m.log, err = runtime.OpenLog(m.cfg.LogPath, m.cfg.LogDriver, m.cfg.LogMaxSize, m.cfg.LogMaxFiles); err != nil {
			return fmt.Errorf("container log: %w", err)
		}
	case runtime.LogNone, runtime.LogPassthrough:
	default:
		return fmt.Errorf("unknown log driver %q", m.cfg.LogDriver)
	}
	return nil
}

// acceptFirst waits for the client of a foreground run.
func (m *monitor) acceptFirst() error {
	m.ln.SetDeadline(time.Now().Add(attachTimeout))
	conn, err := m.ln.AcceptUnix()
	m.ln.SetDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("no client attached within %s: %w", attachTimeout, err)
	}
	c := &monitorio.Client{Conn: conn}
	m.clients.Add(c)
	m.clients.Serve(c, m)
	return nil
}

// say writes one handshake line to fd 3. After "ready" with WaitAttach,
// and after the final line otherwise, fd 3 is closed.
func (m *monitor) say(line string) {
	if m.syncFd == nil {
		return
	}
	m.syncFd.WriteString(strings.ReplaceAll(line, "\n", " ") + "\n")
	if line != "ready" || m.cfg.WaitAttach {
		m.syncFd.Close()
		m.syncFd = nil
	}
}

// report tells the engine how the start went: on fd 3, or to the client
// of a foreground run.
func (m *monitor) report(what, detail string) {
	if m.syncFd != nil {
		m.say(what + " " + detail)
		return
	}
	typ := runtime.FrameStarted
	if what == "error" {
		typ = runtime.FrameError
	}
	m.clients.Send(typ, []byte(detail))
}

// fail records a start that failed, tells the engine, and cleans up. A
// client gets FrameError, then FrameExit with the same code as State.
func (m *monitor) fail(err error) int {
	se := runtime.NewStartError(err)
	st := runtime.State{Status: runtime.StatusExited, ExitCode: se.Code, Error: se.Message}
	// Recorded before it is reported: the engine returns on the report,
	// and a `ps` right after must not see the container still starting.
	// Recorded here only: finish must not record it again.
	runtime.WriteState(m.cfg.StatePath, m.stamp(st), !m.cfg.Volatile)
	m.report("error", se.Encode())
	close(m.started)
	m.finish(st, false)
	return 1
}

// finish destroys the container, records the final state (unless
// recorded: fail has, and a second record would bring back the run
// directory of a container an engine that had the report is removing),
// tells the clients, and runs the exit command unless a client owns the
// clean-up.
func (m *monitor) finish(st runtime.State, record bool) {
	st = m.stamp(st)
	if m.log != nil {
		m.log.Close()
	}
	// Everything of this run goes before the exit is recorded: a start that
	// follows at once (restart) reuses the container's cgroups, libcontainer
	// state, run directory and host ports, which a late Destroy or Remove
	// would take from it. Only what lives in this run's network namespace
	// alone is undone meanwhile (see netns.Network.Release): the exit, and
	// a run --rm that waits for it, need not wait for the kernel.
	m.network.Release()
	if m.container != nil {
		m.container.Destroy()
	}
	if m.ln != nil {
		m.ln.Close()
	}
	if m.notify != nil {
		m.notify.Close()
	}
	os.Remove(filepath.Join(m.cfg.RunDir, runtime.AttachSocket))
	os.Remove(filepath.Join(m.cfg.RunDir, "monitor.pid"))
	if record {
		runtime.WriteState(m.cfg.StatePath, st, !m.cfg.Volatile) // nobody is left to tell if this fails
	}
	if !m.clients.Exit(st.ExitCode) {
		runDetached(m.cfg.ExitCommand)
	}
	m.network.Wait()
}

// stamp names this run in an exit record: its times, the monitor's pid
// and start time, the restarts so far.
func (m *monitor) stamp(st runtime.State) runtime.State {
	st.StartedAt = m.startedAt
	st.MonitorPid, st.MonitorStart = os.Getpid(), runtime.ProcessStartTime(os.Getpid())
	st.FinishedAt = time.Now().UTC()
	st.RestartCount = m.restartCount
	return st
}

// runDetached starts the exit command in its own session with stdio on
// /dev/null, and does not wait for it.
func runDetached(argv []string) {
	if len(argv) == 0 {
		return
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cmd.Start() == nil {
		cmd.Process.Release()
	}
}

// exitCode is Docker's: the status, or 128+signal.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 125
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
