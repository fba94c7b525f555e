package main

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// The restart policy, run here rather than by a daemon or systemd: after
// the init exits, the monitor decides (shouldRestart), tears down what a
// new run makes again (endRun), records the container "restarting" with
// the exit, waits out Docker's backoff, and starts a new init in the same
// monitor, writing to the same log. The exit command runs only once the
// monitor gives up, so the root filesystem and volumes stay mounted
// between runs. A stop, kill or rm by the user (runtime.StopRequestFile)
// or SIGTERM to the monitor ends the policy, during a backoff at once.

// Docker's backoff: 100 ms, doubled at each restart up to a minute, and
// back to 100 ms once a run lasted 10 seconds.
const (
	backoffFirst = 100 * time.Millisecond
	backoffMax   = time.Minute
	backoffReset = 10 * time.Second
)

// nextBackoff is the wait before the next start, after a wait of prev
// (0: none yet) and a run that lasted ran.
func nextBackoff(prev, ran time.Duration) time.Duration {
	if prev == 0 || ran >= backoffReset {
		return backoffFirst
	}
	return min(prev*2, backoffMax)
}

// supervise waits for each run of the container and starts it again while
// its policy says so; it returns the last run's exit, for finish.
// resumed: the idle monitor became this one again because the init
// exited (idle.go), so the loop starts with the wait.
func (m *monitor) supervise(resumed bool) runtime.State {
	for {
		var code int
		var oom bool
		if resumed {
			resumed = false
			code, oom = m.wait()
		} else {
			m.becomeIdle() // returns only when this monitor stays
			m.flowOutputs()
			timer := m.armTimeout()
			stopHealth := m.startHealth() // before a client can ask for a check
			m.startAccepting()
			m.startRelay()
			code, oom = m.waitOrIdle(&stopHealth)
			stopHealth()
			if timer != nil {
				timer.Stop()
			}
		}
		st := runtime.State{Status: runtime.StatusExited, ExitCode: code, OOMKilled: oom}
		again, manual := m.shouldRestart(code)
		st.ManuallyStopped = manual
		if !again {
			return st
		}
		m.backoff = nextBackoff(m.backoff, time.Since(m.startedAt))
		m.restartCount++
		m.endRun(st)
		if !m.waitBackoff(m.backoff) {
			st.ManuallyStopped = runtime.StopRequested(m.cfg.RunDir)
			return st
		}
		if _, err := m.start(); err != nil {
			se := runtime.NewStartError(err)
			return runtime.State{Status: runtime.StatusExited, ExitCode: se.Code, Error: se.Message}
		}
		m.event("start", nil)
		if m.stopWanted() { // asked for during the start
			m.stop()
		}
	}
}

// shouldRestart applies the policy to an exit with code; manual reports
// that the user ended the run (which ends every policy).
func (m *monitor) shouldRestart(code int) (again, manual bool) {
	m.mu.Lock()
	requested, stop := m.restartRequested, m.stopRequested
	m.restartRequested = false
	m.mu.Unlock()
	// An update while the container ran may have changed the policy.
	switch p := runtime.ReadRestartPolicy(m.cfg.RunDir, m.cfg.RestartPolicy); {
	case runtime.StopRequested(m.cfg.RunDir):
		return false, true
	case stop:
		return false, false
	case requested:
		return true, false
	case p.Name == runtime.RestartAlways, p.Name == runtime.RestartUnlessStopped:
		return true, false
	case p.Name == runtime.RestartOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || m.restartCount < p.MaximumRetryCount), false
	}
	return false, false
}

// endRun undoes what the next start makes again (the network's parts of
// this run, libcontainer's container and cgroups), records the container
// restarting with the exit, and tells the clients: they get the exit, as
// a Docker client's attach ends with the run.
func (m *monitor) endRun(exit runtime.State) {
	m.network.Release()
	m.network.Wait()
	m.network = nil
	if m.container != nil {
		m.container.Destroy()
		m.container = nil
	}
	m.mu.Lock()
	m.process, m.pid, m.pty = nil, 0, nil
	m.mu.Unlock()
	st := m.stamp(exit)
	st.Status = runtime.StatusRestarting
	runtime.WriteState(m.cfg.StatePath, st, false)
	m.event("die", map[string]string{"exitCode": strconv.Itoa(exit.ExitCode)})
	m.clients.Exit(exit.ExitCode)
}

// stopPoll is how often a backoff looks for the user's stop request: the
// engine writes the file and need not signal anything (there is no init
// to signal meanwhile).
const stopPoll = 50 * time.Millisecond

// waitBackoff waits delay before a restart; a stop (the user's request, or
// SIGTERM) cuts it short, and it then reports false.
func (m *monitor) waitBackoff(delay time.Duration) bool {
	t := time.NewTimer(delay)
	defer t.Stop()
	tick := time.NewTicker(stopPoll)
	defer tick.Stop()
	for {
		select {
		case <-t.C:
			return !m.stopWanted()
		case <-m.wake:
			return false
		case <-tick.C:
			if m.stopWanted() {
				return false
			}
		}
	}
}

func (m *monitor) stopWanted() bool {
	m.mu.Lock()
	stop := m.stopRequested
	m.mu.Unlock()
	return stop || runtime.StopRequested(m.cfg.RunDir)
}

// armTimeout is MonitorConfig.Timeout for the run under way: SIGKILL once
// it has run that long.
func (m *monitor) armTimeout() *time.Timer {
	if m.cfg.Timeout <= 0 {
		return nil
	}
	m.mu.Lock()
	p := m.process
	m.mu.Unlock()
	return time.AfterFunc(time.Duration(m.cfg.Timeout)*time.Second, func() { p.Signal(unix.SIGKILL) })
}

// event spools one of the events only the monitor sees.
func (m *monitor) event(action string, attrs map[string]string) {
	runtime.WriteSpoolEvent(m.cfg.EventSpool, runtime.SpoolEvent{Type: "container", Action: action, ID: m.cfg.ID, Attributes: attrs})
}
