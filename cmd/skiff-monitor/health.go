package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// health runs a container's healthcheck: each check is an exec into the
// container through the monitor's own libcontainer container, on the
// start interval while the start period lasts and the container has not
// been healthy yet, on the interval after that (Docker's schedule and
// rules). The monitor alone writes the Health file; `skiff healthcheck run`
// asks it for a check over the attach socket (FrameHealthcheck).
type health struct {
	m         *monitor
	hc        runtime.Healthcheck // with the defaults filled in
	argv      []string
	path      string
	process   specs.Process // the container's process, whose user, env and cwd a check gets
	startedAt time.Time

	mu      sync.Mutex // one check at a time; guards what follows
	state   runtime.Health
	acted   bool // the on-failure action was taken
	stopped bool

	stop chan struct{}
	done chan struct{}
}

// maxDrain bounds the wait for a check's output after it exited: a
// process it left in the background may hold the pipe open.
const maxDrain = 100 * time.Millisecond

// startHealth starts the healthcheck of a container that runs now, if it
// has one; the returned function stops it and waits until no check runs.
// A restart of the container in the same monitor calls both again.
func (m *monitor) startHealth() (stop func()) {
	if m.cfg.Healthcheck.Disabled() || m.procSpec == nil {
		return func() {}
	}
	argv, err := m.cfg.Healthcheck.Argv()
	if err != nil {
		return func() {}
	}
	h := &health{m: m, hc: m.cfg.Healthcheck.WithDefaults(), argv: argv, path: runtime.HealthPath(m.cfg.StatePath),
		process: *m.procSpec, startedAt: m.startedAt, stop: make(chan struct{}), done: make(chan struct{})}
	h.process.Args, h.process.Terminal, h.process.ConsoleSize = argv, false, nil
	// A new run starts over (Docker resets the status, not the log).
	if old, err := runtime.ReadHealth(h.path); err == nil && old != nil {
		h.state.Log = old.Log
	}
	h.state.Status = runtime.HealthStarting
	if rh := m.runHealth; rh != nil { // the run's, carried on (waitOrIdle)
		h.state.Status, h.state.FailingStreak = rh.Status, rh.FailingStreak
	}
	runtime.WriteHealth(h.path, h.state)
	m.mu.Lock()
	m.health = h
	m.mu.Unlock()
	go h.loop()
	return func() {
		m.mu.Lock()
		m.health = nil
		m.mu.Unlock()
		close(h.stop)
		<-h.done
		h.mu.Lock()
		h.stopped = true
		h.mu.Unlock()
	}
}

func (h *health) loop() {
	defer close(h.done)
	t := time.NewTimer(h.interval())
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.check()
			t.Reset(h.interval())
		}
	}
}

// interval is the wait before the next check: the start interval while
// the start period lasts and no check has passed yet, else the interval.
func (h *health) interval() time.Duration {
	if time.Since(h.startedAt) >= h.hc.StartPeriod {
		return h.hc.Interval
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state.Status == runtime.HealthStarting {
		return h.hc.StartInterval
	}
	return h.hc.Interval
}

// check runs one check, records it, and acts on the outcome. It reports
// the result and the status it left. Docker also records exec_create,
// exec_start and exec_die events for every check; skiff leaves those out
// (one check every few seconds would flood the events table).
func (h *health) check() runtime.HealthReply {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return runtime.HealthReply{Error: "the container is not running"}
	}
	res := h.probe()
	old := h.state.Status
	h.record(res)
	runtime.WriteHealth(h.path, h.state)
	if h.state.Status != old {
		runtime.WriteSpoolEvent(h.m.cfg.EventSpool, runtime.SpoolEvent{Type: "container",
			Action: "health_status: " + h.state.Status, ID: h.m.cfg.ID})
	}
	if h.state.Status == runtime.HealthUnhealthy && res.ExitCode != 0 && !h.acted {
		h.acted = h.m.onUnhealthy()
	}
	return runtime.HealthReply{Status: h.state.Status, Result: res}
}

// record applies a result by Docker's rules (monitorio.NextHealth).
func (h *health) record(res runtime.HealthResult) {
	h.state.Log = append(h.state.Log, res)
	if n := len(h.state.Log); n > runtime.MaxHealthLog {
		h.state.Log = append([]runtime.HealthResult(nil), h.state.Log[n-runtime.MaxHealthLog:]...)
	}
	h.state.Status, h.state.FailingStreak = monitorio.NextHealth(h.state.Status, h.state.FailingStreak,
		res.ExitCode == 0, res.Start.Sub(h.startedAt) < h.hc.StartPeriod, h.hc.Retries)
}

// probe execs the check into the container with its output on one pipe
// (4 KiB of it kept, as Docker) and kills it at the timeout.
func (h *health) probe() runtime.HealthResult {
	return probeIn(h.m.container, &h.process, h.hc.Timeout)
}

// probeIn execs a check into container c and kills it at the timeout.
func probeIn(c *libcontainer.Container, process *specs.Process, timeout time.Duration) (res runtime.HealthResult) {
	res = runtime.HealthResult{Start: time.Now().UTC(), ExitCode: -1}
	defer func() { res.End = time.Now().UTC() }()
	p, err := runtime.NewProcess(process, false)
	if err != nil {
		res.Output = err.Error()
		return res
	}
	r, w, err := os.Pipe()
	if err != nil {
		res.Output = err.Error()
		return res
	}
	defer r.Close()
	p.Stdout, p.Stderr = w, w
	err = c.Run(p)
	w.Close()
	if err != nil {
		res.Output = err.Error()
		return res
	}
	out := make(chan []byte, 1)
	go func() { out <- readLimited(r, runtime.MaxHealthOutput) }()
	timer := time.AfterFunc(timeout, func() { p.Signal(unix.SIGKILL) })
	ps, _ := p.Wait()
	timedOut := !timer.Stop()
	r.SetReadDeadline(time.Now().Add(maxDrain))
	b := <-out
	if timedOut {
		res.Output = "Health check exceeded timeout (" + timeout.String() + ")"
		return res
	}
	res.ExitCode, res.Output = exitCode(ps), string(b)
	return res
}

// readLimited reads r to its end (or deadline), keeping the first max
// bytes.
func readLimited(r *os.File, max int) []byte {
	var kept bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if room := max - kept.Len(); room > 0 {
			kept.Write(buf[:min(n, room)])
		}
		if err != nil {
			return kept.Bytes()
		}
	}
}

// onUnhealthy takes podman's --health-on-failure action and reports
// whether there was one.
func (m *monitor) onUnhealthy() bool {
	m.mu.Lock()
	p := m.process
	switch m.cfg.HealthOnFailure {
	case runtime.HealthOnFailureRestart:
		m.restartRequested = true
	case runtime.HealthOnFailureKill, runtime.HealthOnFailureStop:
	default:
		m.mu.Unlock()
		return false
	}
	m.mu.Unlock()
	if m.cfg.HealthOnFailure == runtime.HealthOnFailureStop {
		m.stop()
	} else if p != nil {
		p.Signal(unix.SIGKILL)
	}
	return true
}

// Healthcheck answers a client's FrameHealthcheck.
func (m *monitor) Healthcheck(c *monitorio.Client) {
	m.mu.Lock()
	h := m.health
	m.mu.Unlock()
	reply := runtime.HealthReply{Error: "the container has no healthcheck running"}
	if h != nil {
		reply = h.check()
	}
	b, _ := json.Marshal(reply)
	m.clients.SendTo(c, runtime.FrameHealthcheck, b)
}

// runHealth is `skiff-monitor health <monitor.json>`: one check of the
// running container for the idle monitor, which reads no JSON: the check's
// exit code on a line, then its HealthResult as JSON, on stdout
// (monitorio.ParseCheckOutput).
func runHealth(path string) int {
	var m monitor
	res := runtime.HealthResult{Start: time.Now().UTC(), ExitCode: -1}
	err := m.readConfig(path)
	var spec *specs.Spec
	if err == nil {
		spec, err = loadSpec(m.cfg.Bundle)
	}
	var argv []string
	if err == nil {
		argv, err = m.cfg.Healthcheck.Argv()
	}
	var c *libcontainer.Container
	if err == nil {
		c, err = libcontainer.Load(m.cfg.StateRoot, m.cfg.ID)
	}
	if err == nil {
		process := *spec.Process
		process.Args, process.Terminal, process.ConsoleSize = argv, false, nil
		res = probeIn(c, &process, m.cfg.Healthcheck.WithDefaults().Timeout)
	} else {
		res.Output, res.End = err.Error(), time.Now().UTC()
	}
	b, _ := json.Marshal(res)
	os.Stdout.WriteString(strconv.Itoa(res.ExitCode) + "\n" + string(b) + "\n")
	return 0
}
