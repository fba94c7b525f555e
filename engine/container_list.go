package engine

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"

	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/runtime"
)

// ContainerListOptions are ps's flags.
type ContainerListOptions struct {
	All     bool
	Last    int // -n: the last N created (implies All)
	Filters []string
}

// ContainerList lists containers, newest first: one read of the records and
// one state file per container, no subprocesses.
func (e *Engine) ContainerList(ctx context.Context, o ContainerListOptions) ([]*Container, error) {
	all, err := e.listContainers()
	if err != nil {
		return nil, err
	}
	match, err := e.containerFilter(o.Filters)
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Created.After(all[j].Created) })
	showAll := o.All || o.Last > 0 || len(o.Filters) > 0 && hasStatusFilter(o.Filters)
	var out []*Container
	for _, c := range all {
		if !showAll && !c.Running() {
			continue
		}
		if match(c) {
			out = append(out, c)
		}
	}
	if o.Last > 0 && len(out) > o.Last {
		out = out[:o.Last]
	}
	return out, nil
}

func hasStatusFilter(filters []string) bool {
	for _, f := range filters {
		if strings.HasPrefix(f, "status=") || strings.HasPrefix(f, "exited=") {
			return true
		}
	}
	return false
}

// containerFilter compiles Docker's ps filters; filters with the same key
// are ORed, different keys ANDed.
func (e *Engine) containerFilter(filters []string) (func(*Container) bool, error) {
	byKey := map[string][]func(*Container) bool{}
	for _, f := range filters {
		key, val, ok := strings.Cut(f, "=")
		if !ok {
			return nil, invalid("bad filter %q: use key=value", f)
		}
		p, err := e.containerPredicate(key, val)
		if err != nil {
			return nil, err
		}
		byKey[key] = append(byKey[key], p)
	}
	return func(c *Container) bool {
		for _, preds := range byKey {
			any := false
			for _, p := range preds {
				if p(c) {
					any = true
					break
				}
			}
			if !any {
				return false
			}
		}
		return true
	}, nil
}

func (e *Engine) containerPredicate(key, val string) (func(*Container) bool, error) {
	switch key {
	case "name":
		return func(c *Container) bool { return strings.Contains(c.Name, strings.TrimPrefix(val, "/")) }, nil
	case "id":
		return func(c *Container) bool { return strings.HasPrefix(c.ID, val) }, nil
	case "label":
		k, v, hasVal := strings.Cut(val, "=")
		return func(c *Container) bool {
			got, ok := c.Config.Labels[k]
			return ok && (!hasVal || got == v)
		}, nil
	case "status":
		switch val {
		case "created", "running", "paused", "exited", "restarting", "removing", "dead":
		default:
			return nil, invalid("invalid status filter %q: use created, running, paused, exited, restarting, removing or dead", val)
		}
		return func(c *Container) bool { return string(c.State.Status) == val }, nil
	case "exited":
		code, err := strconv.Atoi(val)
		if err != nil {
			return nil, invalid("invalid exited filter %q: use an exit code", val)
		}
		return func(c *Container) bool { return c.State.Status == runtime.StatusExited && c.State.ExitCode == code }, nil
	case "ancestor":
		id := ""
		if is, err := e.imageStore(); err == nil {
			if img, err := is.Lookup(val); err == nil {
				id = img.ID
			}
		}
		return func(c *Container) bool {
			return c.ImageID == id || c.Config.Image == val || imagestore.FamiliarName(c.Config.ImageName) == val
		}, nil
	}
	return nil, invalid("unknown filter %q: ps takes name, id, label, status, ancestor, exited", key)
}

// Status is Docker's STATUS column: "Up 3 minutes", "Exited (0) 2 seconds ago".
func (c *Container) Status() string {
	switch c.State.Status {
	case runtime.StatusRunning:
		return "Up " + units.HumanDuration(time.Since(c.State.StartedAt))
	case runtime.StatusPaused:
		return "Up " + units.HumanDuration(time.Since(c.State.StartedAt)) + " (Paused)"
	case runtime.StatusStarting:
		return "Starting"
	case runtime.StatusStopping:
		return "Up " + units.HumanDuration(time.Since(c.State.StartedAt)) + " (Stopping)"
	case runtime.StatusRemoving:
		return "Removal In Progress"
	case runtime.StatusExited:
		if c.State.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", c.State.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", c.State.ExitCode, units.HumanDuration(time.Since(c.State.FinishedAt)))
	}
	return "Created"
}

// Command is the process as ps shows it.
func (c *Container) Command() string { return strings.Join(c.Config.Spec.Args, " ") }
