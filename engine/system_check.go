package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// SystemCheckOptions are `system check`'s (podman's flags).
type SystemCheckOptions struct {
	Repair bool // fix what can be fixed
	Force  bool // with Repair: also remove running containers whose root filesystem is damaged
	Quick  bool // leave out the layers' digests (reading every layer)
}

// CheckFinding is one problem found.
type CheckFinding struct {
	Kind     string // database, layer, image, container, monitor, mount, allocation
	Subject  string // what it concerns: an ID or a name
	Problem  string
	Repaired bool
}

// SystemCheckResult lists what was found, repaired or not.
type SystemCheckResult struct {
	Findings []CheckFinding
}

// Unrepaired counts the problems that remain.
func (r SystemCheckResult) Unrepaired() int {
	n := 0
	for _, f := range r.Findings {
		if !f.Repaired {
			n++
		}
	}
	return n
}

// SystemCheck looks for damage in skiff's records and store, and with
// Repair fixes it: the database's integrity and dangling rows;
// containers/storage's own check of layers, images and containers;
// records whose root filesystem is gone; records that say running while
// their monitor is dead; mounts and network allocations left by containers
// that do not run. After a repair `ps -a`, `rm` and `images` work again.
func (e *Engine) SystemCheck(ctx context.Context, o SystemCheckOptions) (SystemCheckResult, error) {
	var res SystemCheckResult
	add := func(kind, subject, problem string, repaired bool) {
		res.Findings = append(res.Findings, CheckFinding{Kind: kind, Subject: subject, Problem: problem, Repaired: repaired})
	}
	if err := e.openDB(); err != nil {
		return res, err
	}
	problems, err := e.db.IntegrityProblems(ctx)
	if err != nil {
		return res, err
	}
	for _, p := range problems {
		add("database", e.db.Path(), p+" (not repairable in place: `skiff system reset` starts over)", false)
	}
	dangling, err := e.db.DanglingRows(ctx)
	if err != nil {
		return res, err
	}
	if len(dangling) > 0 {
		fixed := o.Repair && e.db.DeleteDangling(ctx, dangling) == nil
		for _, d := range dangling {
			add("database", fmt.Sprintf("%s row %d", d.Table, d.RowID), "refers to a missing "+d.Parent+" record", fixed)
		}
	}
	if _, err := e.imageStore(); err != nil {
		return res, err
	}
	// Read as they are, before anything folds them: every read of a record
	// repairs a dead monitor's (the container is recorded exited, what it
	// held released), so this one is always repaired.
	rows, err := e.db.Containers(ctx)
	if err != nil {
		return res, err
	}
	for _, r := range rows {
		var st runtime.State
		json.Unmarshal(r.State, &st)
		st.Status = runtime.Status(r.Status)
		if isRunning(st.Status) && st.Status != runtime.StatusStarting && !monitorAlive(st) {
			add("monitor", r.Name, "recorded "+string(st.Status)+" but its monitor is gone (killed, or a reboot): now recorded exited", true)
		}
	}
	if err := e.checkStorage(ctx, o, add); err != nil {
		return res, err
	}
	list, err := e.listContainers()
	if err != nil {
		return res, err
	}
	for _, c := range list {
		e.checkContainer(ctx, c, o, add)
	}
	return res, nil
}

// checkStorage is containers/storage's check, and its repair (which
// removes damaged layers, the images on them and, as asked, containers).
func (e *Engine) checkStorage(ctx context.Context, o SystemCheckOptions, add func(kind, subject, problem string, repaired bool)) error {
	report, err := e.store.Check(o.Quick)
	if err != nil {
		return err
	}
	if err := e.store.AddContainersOfDamagedLayers(&report); err != nil {
		return err
	}
	running := map[string]bool{} // by the record, not folded: checkContainer reports a dead monitor
	if list, err := e.listContainers(); err == nil {
		for _, c := range list {
			running[c.ID] = c.Running() && monitorAlive(c.State)
		}
	}
	damagedRunning := false
	for id := range report.Containers {
		damagedRunning = damagedRunning || running[id]
	}
	// A running container on a damaged layer stays unless forced: its
	// processes still work from what the kernel holds open.
	repair := o.Repair && (o.Force || !damagedRunning)
	if repair {
		for id := range report.Containers {
			if running[id] {
				e.killForRepair(ctx, id)
			}
		}
		for _, err := range e.store.Repair(report, true) {
			add("layer", "", "repairing: "+err.Error(), false)
		}
	}
	why := ""
	if o.Repair && !repair {
		why = " (a running container uses it: --force removes it)"
	}
	for _, k := range []struct {
		kind string
		m    map[string][]error
	}{{"layer", report.Layers}, {"layer", report.ROLayers}, {"image", report.Images}, {"image", report.ROImages}} {
		ids := make([]string, 0, len(k.m))
		for id := range k.m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			add(k.kind, shortID(id), strings.ReplaceAll(errors.Join(k.m[id]...).Error(), "\n", "; ")+why, repair)
		}
	}
	return nil
}

// checkContainer checks one record against its monitor, its root
// filesystem, its mounts and its allocations, under its lock.
func (e *Engine) checkContainer(ctx context.Context, c *Container, o SystemCheckOptions, add func(kind, subject, problem string, repaired bool)) {
	unlock, err := lockContainer(c)
	if err != nil {
		return // removed meanwhile
	}
	defer unlock()
	if e.reload(c) != nil {
		return
	}
	if c.State.Status != runtime.StatusRemoving && !e.store.ContainerExists(c.ID) {
		switch {
		case !o.Repair:
			add("container", c.Name, "its root filesystem is gone", false)
		case c.Running() && !o.Force:
			add("container", c.Name, "its root filesystem is gone (it runs: --force removes it)", false)
		default:
			if c.Running() {
				e.killForRepair(ctx, c.ID)
				e.reload(c)
			}
			err := e.removeLocked(c)
			add("container", c.Name, "its root filesystem is gone: the record is removed", err == nil)
		}
		return
	}
	if c.Running() {
		return
	}
	if n, err := e.store.Mounted(c.ID); err == nil && n > 0 {
		fixed := o.Repair && e.store.Unmount(c.ID, true) == nil
		add("mount", c.Name, fmt.Sprintf("its root filesystem is mounted %d times while it does not run", n), fixed)
	}
	ports, _ := e.db.ContainerPorts(ctx, c.ID)
	addrs, _ := e.db.ContainerAddresses(ctx, c.ID)
	if len(ports)+len(addrs) > 0 {
		if o.Repair {
			e.releaseNetwork(c)
		}
		add("allocation", c.Name, fmt.Sprintf("holds %d addresses and %d host ports while it does not run", len(addrs), len(ports)), o.Repair)
	}
}

// killForRepair ends a running container whose record or layers a repair
// removes: the user's stop (no restart), then SIGKILL.
func (e *Engine) killForRepair(ctx context.Context, id string) {
	c, err := e.lookupContainer(id)
	if err != nil {
		return
	}
	e.requestStop(c)
	if c.State.Pid > 0 {
		e.signal(c, unix.SIGKILL, c.State.Status == runtime.StatusPaused)
	}
	e.waitExit(ctx, c, 10*time.Second)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
