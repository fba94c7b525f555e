package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// SystemResetOptions are `system reset`'s (none beyond the CLI's prompt).
type SystemResetOptions struct{}

// SystemResetResult says what could not be removed (nothing, normally).
type SystemResetResult struct {
	Left []string
}

// SystemReset removes everything this user's skiff owns: containers
// (running ones killed), images, volumes, networks, the state database,
// the graph root's and the run root's content. It does not need a sound
// database or store: it first does what it can through them (so that a
// rootful network's bridge and rules go with it), then works from the
// files alone: it kills the monitors recorded under the run root (their
// containers die with them) and what libcontainer's state names, unmounts
// everything mounted under either root, deepest first and never following a
// symlink out, and removes the roots' contents. The rootless namespace's
// pause files stay: the CLI stops that process afterwards.
func (e *Engine) SystemReset(ctx context.Context, o SystemResetOptions) (SystemResetResult, error) {
	var res SystemResetResult
	e.resetThroughRecords(ctx)
	runtime.KillMonitors(e.paths.RunRoot)
	if entries, err := os.ReadDir(e.stateRoot()); err == nil {
		for _, ent := range entries {
			runtime.KillOrphan(e.stateRoot(), ent.Name())
		}
	}
	if e.db != nil {
		e.db.Close()
		e.db = nil
	}
	if e.store != nil {
		e.store.Shutdown(true)
	}
	for _, root := range []string{e.paths.GraphRoot, e.paths.RunRoot} {
		unmountUnder(root)
	}
	for _, root := range []string{e.paths.GraphRoot, e.paths.RunRoot} {
		entries, err := os.ReadDir(root)
		if err != nil {
			continue // never made
		}
		for _, ent := range entries {
			if root == e.paths.RunRoot && strings.HasPrefix(ent.Name(), "pause.") {
				continue // the rootless namespace's
			}
			p := filepath.Join(root, ent.Name())
			if mountedUnder(p) {
				res.Left = append(res.Left, p+" (still mounted)")
				continue
			}
			// RemoveAll removes a symlink, never what it points to.
			if err := os.RemoveAll(p); err != nil {
				res.Left = append(res.Left, p+": "+err.Error())
			}
		}
	}
	if len(res.Left) > 0 {
		return res, fmt.Errorf("could not remove %d entries: %s", len(res.Left), strings.Join(res.Left, "; "))
	}
	return res, nil
}

// resetThroughRecords removes what the records know, as `rm -f` and
// `network rm` would, when the database and store can be read; errors are
// for the file-level pass to make up for.
func (e *Engine) resetThroughRecords(ctx context.Context) {
	defer func() { recover() }() // a damaged store may panic in a library: the file pass follows
	list, err := e.listContainers()
	if err != nil {
		return
	}
	for _, c := range list {
		e.ContainerRemove(ctx, c.ID, ContainerRemoveOptions{Force: true, Volumes: true})
	}
	if nets, err := e.db.Networks(ctx); err == nil {
		for _, n := range nets {
			e.NetworkRemove(ctx, n.ID, NetworkRemoveOptions{})
		}
	}
}

// mountsUnder lists the mount points under root (root included), deepest
// first.
func mountsUnder(root string) []string {
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(root))
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Mountpoint)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func unmountUnder(root string) {
	for _, mp := range mountsUnder(root) {
		if mp == root {
			continue // the user's own mount of the root stays
		}
		unix.Unmount(mp, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
	}
}

func mountedUnder(p string) bool { return len(mountsUnder(p)) > 0 }
