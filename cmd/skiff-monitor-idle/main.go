// Command skiff-monitor-idle is a running container's monitor while the
// container just runs. skiff-monitor starts the container with
// libcontainer, then becomes this small program (execve, with a
// monitorio.Handoff in its environment) to spend the container's life in
// a fraction of the memory: it imports no libcontainer and no skiff
// package but monitorio, and decodes no JSON. execve keeps the process's
// pid and start time (State still names the monitor), the container's
// init as its child and the descriptors the Handoff names.
//
//	skiff-monitor-idle run <monitor.json>   (execve'd by skiff-monitor, never run by hand)
//
// It does what the monitor does while the container runs: copies the
// container's output to the log and to the attach clients, serves the
// attach socket (input, resize, healthcheck requests), relays the
// container's sd_notify messages, stops the container on SIGTERM as `skiff
// stop` does, kills it at its --timeout, and times the healthcheck, whose
// checks run as `skiff-monitor health <monitor.json>` (a child, which
// enters the container with libcontainer): it records their results in the
// Health file and takes the --health-on-failure action.
//
// When the init exits (or is killed for a restart) it becomes
// skiff-monitor again, with a Handoff of the exited init, the attach
// socket and clients, and the output still to copy: skiff-monitor records
// the exit, destroys the container, restarts it per its policy (and
// becomes this program again once it runs) or runs the exit command.
//
// Threads: the init's parent-death signal fires when the thread that
// forked it ends; the thread that calls execve survives it as the
// process's only one. The main goroutine is locked to the main thread (the
// process's first, the init's parent after the first execve) and calls
// execve from there.
package main

import (
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

func init() { runtime.LockOSThread() }

// drainTimeout bounds the wait for the last output after the init exited
// (skiff-monitor's): a process outside its PID namespace may hold its
// stdio, and the output still flowing is handed back.
const drainTimeout = 2 * time.Second

// idle is the monitor of one running container.
type idle struct {
	h    monitorio.Handoff
	init *pidfd
	log  *monitorio.LogWriter // nil: no log

	ln      *listener
	notify  *notifyRelay
	clients monitorio.Clients
	outputs []*output
	health  *health // nil without a healthcheck

	mu               sync.Mutex
	stdin            *os.File // pipe to the container's stdin, or the pty master
	pty              *os.File
	stopRequested    bool
	restartRequested bool
	height, width    uint16
}

func main() {
	if len(os.Args) != 3 || os.Args[1] != "run" {
		os.Stderr.WriteString("usage: skiff-monitor-idle run MONITOR-JSON (execve'd by skiff-monitor, not run by hand)\n")
		os.Exit(125)
	}
	h, err := monitorio.DecodeHandoff(os.Getenv(monitorio.HandoffEnv))
	os.Unsetenv(monitorio.HandoffEnv)
	if h.SetGOMAXPROCS {
		os.Unsetenv("GOMAXPROCS") // read at start-up; not for the checks and skiff-monitor
	}
	if err != nil {
		os.Exit(125)
	}
	m := &idle{h: h, height: h.Height, width: h.Width}
	monitorio.CatchSignals(m.stop)
	if err := m.rebuild(); err != nil {
		// Without the init's descriptor nobody can tell its exit: the
		// next program cannot either, so give up as a killed monitor.
		os.Exit(1)
	}
	m.run()
}

// rebuild takes over the descriptors the Handoff names.
func (m *idle) rebuild() error {
	p, err := openPidfd(m.h.Pid)
	if err != nil {
		return err
	}
	m.init = p
	if m.h.LogDriver == monitorio.LogJSONFile || m.h.LogDriver == monitorio.LogK8sFile {
		m.log, _ = monitorio.OpenLog(m.h.LogPath, m.h.LogDriver, m.h.LogMaxSize, m.h.LogMaxFiles)
	}
	if m.h.Pty >= 0 {
		m.pty = os.NewFile(uintptr(m.h.Pty), "pty")
	}
	switch {
	case m.h.Stdin >= 0 && m.h.Stdin == m.h.Pty:
		m.stdin = m.pty
	case m.h.Stdin >= 0:
		m.stdin = os.NewFile(uintptr(m.h.Stdin), "stdin")
	}
	m.clients.Adopt(m.h.Clients)
	if m.h.Listener >= 0 {
		m.ln = newListener(m.h.Listener)
	}
	if m.h.Notify >= 0 {
		m.notify = newNotifyRelay(m.h.Notify, m.h.NotifySocket)
	}
	for _, o := range []struct {
		fd  int
		typ byte
	}{{m.h.Stdout, monitorio.FrameStdout}, {m.h.Stderr, monitorio.FrameStderr}} {
		switch {
		case o.fd >= 0 && o.fd == m.h.Pty:
			m.outputs = append(m.outputs, m.copyOutput(m.pty, o.typ))
		case o.fd >= 0:
			m.outputs = append(m.outputs, m.copyOutput(os.NewFile(uintptr(o.fd), "output"), o.typ))
		}
	}
	return nil
}

// run serves the running container until its init exits, then becomes
// skiff-monitor again.
func (m *idle) run() {
	if m.h.Health.Interval > 0 {
		m.health = startHealth(m) // before any client can ask for a check
	}
	m.clients.Resume(m)
	if m.ln != nil {
		m.ln.start(m)
	}
	if m.notify != nil {
		m.notify.start()
	}
	if m.h.Timeout > 0 {
		time.AfterFunc(time.Until(m.h.StartedAt.Add(m.h.Timeout)), func() { m.init.signal(syscall.SIGKILL) })
	}
	m.init.waitExit()
	if m.health != nil {
		m.health.stopAndWait()
	}
	m.drain()
	m.mu.Lock()
	if m.stdin != nil && m.stdin != m.pty {
		m.stdin.Close()
	}
	m.stdin = nil
	m.mu.Unlock()
	m.handBack()
}

// drain waits for the output to end, drainTimeout at most.
func (m *idle) drain() {
	deadline := time.Now().Add(drainTimeout)
	for _, o := range m.outputs {
		select {
		case <-o.done:
		case <-time.After(time.Until(deadline)):
		}
	}
}

// handBack stops every reader at a safe point and becomes skiff-monitor
// with the Handoff of what is left.
func (m *idle) handBack() {
	h := m.h
	h.Stdin, h.Pty, h.Stdout, h.Stderr, h.Listener, h.Notify, h.Clients = -1, -1, -1, -1, -1, -1, nil
	if m.ln != nil {
		h.Listener = m.ln.pause()
	}
	if m.notify != nil {
		h.Notify = m.notify.pause()
	}
	for _, o := range m.outputs {
		if fd := o.pause(); fd >= 0 {
			if o.typ == monitorio.FrameStderr {
				h.Stderr = fd
			} else {
				h.Stdout = fd
			}
		}
	}
	h.Clients = m.clients.Pause()
	if m.log != nil {
		m.log.Close()
	}
	m.mu.Lock()
	h.StopRequested, h.RestartRequested = m.stopRequested, m.restartRequested
	h.Height, h.Width = m.height, m.width
	m.mu.Unlock()
	h.Monitor = m.h.Monitor
	env := append(os.Environ(), monitorio.HandoffEnv+"="+h.Encode())
	err := syscall.Exec(h.Monitor, []string{h.Monitor, "run", h.Config}, env)
	os.Stderr.WriteString("skiff-monitor-idle: becoming " + h.Monitor + ": " + err.Error() + "\n")
	os.Exit(1)
}

// stop is `skiff stop` from inside: the stop signal, then SIGKILL after
// the stop timeout. It also ends the restart policy.
func (m *idle) stop() {
	m.mu.Lock()
	m.stopRequested = true
	m.mu.Unlock()
	sig := syscall.Signal(m.h.StopSignal)
	if sig <= 0 {
		sig = syscall.SIGTERM
	}
	m.init.signal(sig)
	time.AfterFunc(m.h.StopTimeout, func() { m.init.signal(syscall.SIGKILL) })
}

// WriteStdin passes a client's input on; without a stdin it is dropped.
func (m *idle) WriteStdin(b []byte) {
	m.mu.Lock()
	w := m.stdin
	m.mu.Unlock()
	if w != nil {
		w.Write(b)
	}
}

// CloseStdin ends the container's input (a terminal has no end but a
// hang-up: nothing then).
func (m *idle) CloseStdin() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stdin != nil && m.stdin != m.pty {
		m.stdin.Close()
		m.stdin = nil
	}
}

// Resize sets the terminal's size and remembers it for a restart.
func (m *idle) Resize(height, width uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.height, m.width = height, width
	if m.pty != nil {
		setSize(m.pty, height, width)
	}
}

// event spools an event of the container's.
func (m *idle) event(action string) {
	if m.h.EventSpool == "" {
		return
	}
	now := time.Now()
	monitorio.WriteSpoolFile(m.h.EventSpool, now, monitorio.AppendSpoolEvent(nil, now, "container", action, m.h.ID))
}
