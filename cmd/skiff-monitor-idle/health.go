package main

import (
	"bytes"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// health times a container's healthcheck on Docker's schedule (the start
// interval while the start period lasts and no check passed, the interval
// after) and applies Docker's rules to each result. A check is a child,
// `skiff-monitor health <monitor.json>`, which execs the test into the
// container and prints its exit code and its result (monitorio's
// ParseCheckOutput); this program writes the Health file, the
// health_status events, and takes the --health-on-failure action.
type health struct {
	m *idle

	mu      sync.Mutex // one check at a time; guards what follows
	file    monitorio.HealthFile
	acted   bool // the on-failure action was taken
	stopped bool

	stop chan struct{}
	done chan struct{}
}

// childGrace is how long a check's child may outlive the check's timeout
// (it kills the check at the timeout itself).
const childGrace = 5 * time.Second

// maxCheckOutput bounds what is read of a check's child: its result holds
// 4 KiB of output at most, escaped.
const maxCheckOutput = 64 << 10

// startHealth records the run's status "starting" (a new run keeps the
// log, not the status, as Docker) and starts the timer.
func startHealth(m *idle) *health {
	h := &health{m: m, stop: make(chan struct{}), done: make(chan struct{})}
	h.file = monitorio.HealthFile{Status: monitorio.HealthStarting, Log: monitorio.ReadHealthLog(m.h.HealthPath)}
	if s := m.h.Health.Status; s != "" { // the run's, carried on
		h.file.Status, h.file.FailingStreak = s, m.h.Health.FailingStreak
	}
	monitorio.WriteFileAtomic(m.h.HealthPath, h.file.Marshal(), 0o600, false)
	go h.loop()
	return h
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

// stopAndWait ends the timer and waits for a check under way.
func (h *health) stopAndWait() {
	close(h.stop)
	<-h.done
	h.mu.Lock()
	h.stopped = true
	h.mu.Unlock()
}

func (h *health) interval() time.Duration {
	hc := h.m.h.Health
	if time.Since(h.m.h.StartedAt) >= hc.StartPeriod {
		return hc.Interval
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.file.Status == monitorio.HealthStarting {
		return hc.StartInterval
	}
	return hc.Interval
}

// check runs one check, records it and acts on it; it returns the
// FrameHealthcheck answer.
func (h *health) check() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return monitorio.AppendHealthReply(nil, "", nil, "the container is not running")
	}
	start := time.Now().UTC()
	code, result := h.probe(start)
	old := h.file.Status
	h.file.Add(result)
	h.file.Status, h.file.FailingStreak = monitorio.NextHealth(old, h.file.FailingStreak, code == 0,
		start.Sub(h.m.h.StartedAt) < h.m.h.Health.StartPeriod, h.m.h.Health.Retries)
	monitorio.WriteFileAtomic(h.m.h.HealthPath, h.file.Marshal(), 0o600, false)
	if h.file.Status != old {
		h.m.event("health_status: " + h.file.Status)
	}
	if h.file.Status == monitorio.HealthUnhealthy && code != 0 && !h.acted {
		h.acted = h.m.onUnhealthy()
	}
	return monitorio.AppendHealthReply(nil, h.file.Status, result, "")
}

// probe runs the check's child and returns the check's exit code and
// result; a child that fails is a result with exit code -1.
func (h *health) probe(start time.Time) (int, []byte) {
	fail := func(msg string) (int, []byte) {
		return -1, monitorio.AppendHealthResult(nil, start, time.Now().UTC(), -1, "running the healthcheck: "+msg)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail(err.Error())
	}
	defer r.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		w.Close()
		return fail(err.Error())
	}
	p, err := os.StartProcess(h.m.h.Monitor, []string{h.m.h.Monitor, "health", h.m.h.Config},
		&os.ProcAttr{Files: []*os.File{null, w, null}})
	w.Close()
	null.Close()
	if err != nil {
		return fail(err.Error())
	}
	timer := time.AfterFunc(h.m.h.Health.Timeout+childGrace, func() { p.Kill() })
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for out.Len() < maxCheckOutput {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	ps, err := p.Wait()
	timer.Stop()
	if err != nil {
		return fail(err.Error())
	}
	code, result, ok := monitorio.ParseCheckOutput(out.Bytes())
	if !ok {
		return fail("skiff-monitor health: " + ps.String())
	}
	return code, result
}

// onUnhealthy takes podman's --health-on-failure action and reports
// whether there was one.
func (m *idle) onUnhealthy() bool {
	switch m.h.HealthOnFailure {
	case "restart":
		m.mu.Lock()
		m.restartRequested = true
		m.mu.Unlock()
		m.init.signal(syscall.SIGKILL)
	case "kill":
		m.init.signal(syscall.SIGKILL)
	case "stop":
		m.stop()
	default:
		return false
	}
	return true
}

// Healthcheck answers a client's FrameHealthcheck.
func (m *idle) Healthcheck(c *monitorio.Client) {
	var reply []byte
	if m.health == nil {
		reply = monitorio.AppendHealthReply(nil, "", nil, "the container has no healthcheck running")
	} else {
		reply = m.health.check()
	}
	m.clients.SendTo(c, monitorio.FrameHealthcheck, reply)
}
