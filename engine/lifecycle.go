package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/runtime"
)

// A container's lifecycle, as the state database records it:
//
//	created ──start──> starting ──monitor started it──> running <──> paused
//	   │                  │                               │  │
//	   │                  └──failed / monitor gone──┐     │ stop
//	   │                                            v     v  v
//	   └──rm──> removing <──rm── exited <──exit── stopping
//	                              │
//	                              └──start──> starting
//
// A restart policy adds running ──init exited──> restarting ──> running,
// recorded by the monitor alone; a restarting container counts as running
// (its monitor lives and starts it again after the backoff), and stop, kill
// and rm end the policy (runtime.StopRequestFile) before they act.
//
// Every decision (start, stop, pause, rm, rename) is taken under the
// container's flock after re-reading the row; a write names the status it
// read (statedb.SetState's from), so a process that decided on a stale view
// changes nothing. What the monitor records (its State file: running, then
// the exit) is folded in by whoever reads the row next (fold below).

// transitions lists, per status, the statuses the engine may move to.
var transitions = map[runtime.Status][]runtime.Status{
	runtime.StatusCreated:  {runtime.StatusStarting, runtime.StatusRemoving},
	runtime.StatusStarting: {runtime.StatusRunning, runtime.StatusExited, runtime.StatusRemoving},
	runtime.StatusRunning:  {runtime.StatusPaused, runtime.StatusStopping, runtime.StatusExited, runtime.StatusRemoving},
	runtime.StatusPaused:   {runtime.StatusRunning, runtime.StatusStopping, runtime.StatusExited, runtime.StatusRemoving},
	runtime.StatusStopping: {runtime.StatusRunning, runtime.StatusExited, runtime.StatusRemoving},
	runtime.StatusExited:   {runtime.StatusStarting, runtime.StatusRemoving},
	runtime.StatusRemoving: {runtime.StatusRemoving}, // an interrupted rm is finished by the next

	// The monitor's wait between two runs of a restart policy.
	runtime.StatusRestarting: {runtime.StatusRunning, runtime.StatusStopping, runtime.StatusExited, runtime.StatusRemoving},
}

// InvalidTransitionError is a lifecycle change the container's status does
// not allow. It is an errdefs conflict.
type InvalidTransitionError struct {
	Container string
	From, To  runtime.Status
}

func (e *InvalidTransitionError) Error() string {
	return fmt.Sprintf("container %s is %s: it cannot become %s", e.Container, e.From, e.To)
}

func (e *InvalidTransitionError) Unwrap() error { return errdefs.ErrConflict }

// CanTransition reports whether from may become to.
func CanTransition(from, to runtime.Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Running reports a status whose processes run or may run: paused,
// starting and stopping containers count, as Docker's "running" does.
func isRunning(s runtime.Status) bool {
	switch s {
	case runtime.StatusStarting, runtime.StatusRunning, runtime.StatusPaused, runtime.StatusStopping, runtime.StatusRestarting:
		return true
	}
	return false
}

// transition records c's move to st.Status, checked against the table and
// against the row (it must still hold c.State.Status). On success c holds st.
func (e *Engine) transition(c *Container, st runtime.State) error {
	return e.transitionEvents(c, st, nil)
}

// transitionEvents is transition recording evs in the same transaction.
func (e *Engine) transitionEvents(c *Container, st runtime.State, evs []statedb.Event) error {
	from := c.State.Status
	if !CanTransition(from, st.Status) {
		return &InvalidTransitionError{Container: c.Name, From: from, To: st.Status}
	}
	ok, err := e.writeStateEvents(c.ID, st, evs, from)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("container %s changed while this command ran (another skiff acted on it): try again: %w", c.Name, errdefs.ErrConflict)
	}
	c.State = st
	return nil
}

// writeState records st in the row if its status is still from.
func (e *Engine) writeState(id string, st runtime.State, from ...runtime.Status) (bool, error) {
	return e.writeStateEvents(id, st, nil, from...)
}

// writeStateEvents is writeState recording evs with the state, in one
// transaction, if the row changed.
func (e *Engine) writeStateEvents(id string, st runtime.State, evs []statedb.Event, from ...runtime.Status) (bool, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return false, err
	}
	names := make([]string, len(from))
	for i, f := range from {
		names[i] = string(f)
	}
	return e.db.SetStateEvents(context.Background(), id, string(st.Status), b, names, e.eventsMax(), evs)
}

// fold brings a row's state up to date with what its monitor recorded and
// whether the monitor lives, writing the result back when it changed.
// Statuses without a monitor (created, exited, removing) are final as
// recorded: listing exited containers reads no file.
func (e *Engine) fold(c *Container) { e.foldTo(c, false) }

// foldTo is fold; with removeExit an exit it finds is recorded as the
// container removing (its die with it), for the clean-up of a --rm
// container, under its lock, which removes it next: one transaction
// where exited and then removing would take two.
func (e *Engine) foldTo(c *Container, removeExit bool) {
	if !isRunning(c.State.Status) {
		return
	}
	db := c.State
	// Whether the monitor lives is asked before its record is read: it
	// records the exit and then exits, so one found gone has written all
	// it ever will. Asked after, an exit between the two reads would look
	// like a killed monitor (exit 255).
	alive := monitorAlive(db)
	mon, err := runtime.ReadState(c.StatePath())
	thisRun := err == nil && mon.MonitorPid == db.MonitorPid && mon.MonitorStart == db.MonitorStart && db.MonitorPid > 0
	var next runtime.State
	switch {
	case thisRun && mon.Status == runtime.StatusExited:
		next = mon
	case !alive:
		// Killed (kill -9, OOM killer) or the machine rebooted: the
		// container dies with its monitor (its parent-death signal; what
		// escaped that is killed here), so it is never shown exited while
		// its processes run. An unreadable record reads the same: the
		// exit is unknown.
		e.releaseRuntime(c)
		if _, err := e.imageStore(); err == nil {
			e.store.Unmount(c.ID, true)
		}
		next = db
		next.Status = runtime.StatusExited
		next.ExitCode = 255
		next.Error = "the container's monitor is gone (killed, or the machine rebooted): exit status unknown"
	case thisRun && (mon.Status == runtime.StatusRunning || mon.Status == runtime.StatusRestarting):
		// The monitor's pid and start time, and its status (a start it
		// reported is done, a restart under way or done is its own), except
		// what only the engine knows: the same run paused, or stopping.
		next = mon
		sameRun := mon.Pid == db.Pid && mon.Status == runtime.StatusRunning
		if db.Status == runtime.StatusStopping || db.Status == runtime.StatusPaused && sameRun {
			next.Status = db.Status
		}
	default:
		return // starting: the monitor has not started the process yet
	}
	if sameState(next, db) {
		return
	}
	// A lost race (another process folded or acted first) is harmless: the
	// next read folds again from whatever it wrote. The winner alone
	// records the exit's events, in the transaction that records the exit:
	// each exit has one die, and whoever sees the exit can find its die.
	var evs []statedb.Event
	if next.Status == runtime.StatusExited {
		evs = e.exitEvents(c, next)
		if removeExit {
			next.Status = runtime.StatusRemoving
		}
	}
	ok, _ := e.writeStateEvents(c.ID, next, evs, db.Status)
	if !ok && next.Status == runtime.StatusRemoving {
		// Another process recorded the exit first: the removing is
		// removeLocked's to record.
		next.Status = runtime.StatusExited
	}
	c.State = next
}

func sameState(a, b runtime.State) bool {
	return a.Status == b.Status && a.Pid == b.Pid && a.ExitCode == b.ExitCode && a.MonitorPid == b.MonitorPid &&
		a.MonitorStart == b.MonitorStart && a.StartedAt.Equal(b.StartedAt) && a.FinishedAt.Equal(b.FinishedAt) &&
		a.OOMKilled == b.OOMKilled && a.Error == b.Error && a.RestartCount == b.RestartCount && a.ManuallyStopped == b.ManuallyStopped
}

func monitorAlive(st runtime.State) bool {
	return st.MonitorPid > 0 && runtime.ProcessStartTime(st.MonitorPid) == st.MonitorStart
}
