package engine

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	units "github.com/docker/go-units"

	"github.com/skiff-engine/skiff/runtime"
)

// ContainerListOptions are ps's flags. Filters are Docker's "key=value"
// filters (container_filter.go has the keys): the CLI's --filter of ps and
// of start, stop and rm, or the API's filters flattened.
type ContainerListOptions struct {
	All     bool
	Last    int // -n: the last N created (implies All)
	Filters []string
	Size    bool // measure each container's layers (ps -s): walks them
	// Networks fills ContainerListResult.Networks (two more queries).
	Networks bool
}

// ContainerListResult: the containers, newest first, and with Size their
// sizes by ID (a container removed meanwhile has none).
type ContainerListResult struct {
	Containers []*Container
	Sizes      map[string]ContainerSize
	Ports      map[string][]PortMapping // published host ports, by container ID
	// Networks are, with ContainerListOptions.Networks, each container's
	// NetworkSettings.Networks as inspect shows them, by container ID.
	Networks map[string]map[string]any
}

// ContainerSize is a container's writable layer (SizeRw) and that plus its
// image (SizeRootFs).
type ContainerSize struct {
	RW     int64
	RootFS int64
}

// ContainerList lists containers, newest first: one read of the records and
// one state file per container, no subprocesses (unless Size).
func (e *Engine) ContainerList(ctx context.Context, o ContainerListOptions) (ContainerListResult, error) {
	list, err := e.listMatching(o, e.containerFilterSpec())
	if err != nil {
		return ContainerListResult{}, err
	}
	res := ContainerListResult{Containers: list, Ports: map[string][]PortMapping{}}
	all, err := e.db.AllPorts(ctx)
	if err != nil {
		return res, err
	}
	for id, allocs := range all {
		res.Ports[id] = portMappings(allocs)
	}
	if o.Networks {
		if res.Networks, err = e.listNetworks(ctx, list); err != nil {
			return res, err
		}
	}
	if !o.Size {
		return res, nil
	}
	res.Sizes = map[string]ContainerSize{}
	for _, c := range list {
		if rw, rootfs, err := e.containerSizes(c); err == nil {
			res.Sizes[c.ID] = ContainerSize{RW: rw, RootFS: rootfs}
		}
	}
	return res, nil
}

// listNetworks are the NetworkSettings.Networks of list's containers, from
// one read of the networks and one of the addresses.
func (e *Engine) listNetworks(ctx context.Context, list []*Container) (map[string]map[string]any, error) {
	nets, err := e.networks(ctx)
	if err != nil {
		return nil, err
	}
	addrs, err := e.db.AllAddresses(ctx)
	if err != nil {
		return nil, err
	}
	lookup := func(ref string) (*Network, error) {
		for _, n := range nets {
			if n.ID == ref || (ref == NetworkBridge && n.Builtin()) {
				return n, nil
			}
		}
		return e.lookupNetwork(ctx, ref) // the default network, not yet recorded
	}
	out := map[string]map[string]any{}
	for _, c := range list {
		networks := map[string]any{}
		switch mode := c.Config.NetworkMode; {
		case mode == NetworkSlirp:
			networks[NetworkSlirp] = slirpEndpoint()
		case len(c.Config.Network.Endpoints) > 0:
			var a map[string]netip.Addr
			if c.Running() {
				a = addrs[c.ID]
			}
			for _, ep := range endpointSettingsOf(c, a, lookup) {
				networks[ep.name] = ep.settings
			}
		case mode == NetworkHost, mode == NetworkNone:
			networks[mode] = map[string]any{}
		}
		out[c.ID] = networks
	}
	return out, nil
}

// listMatching lists the containers that spec's compiled filters select.
func (e *Engine) listMatching(o ContainerListOptions, spec filterSpec[*Container]) ([]*Container, error) {
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	match, err := spec.compile(f)
	if err != nil {
		return nil, err
	}
	all, err := e.listContainers() // newest first, by the query
	if err != nil {
		return nil, err
	}
	// Docker: a status filter shows stopped containers without -a.
	showAll := o.All || o.Last > 0 || f.Has("status")
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

// Status is Docker's STATUS column: "Up 3 minutes", "Exited (0) 2 seconds ago".
func (c *Container) Status() string {
	switch c.State.Status {
	case runtime.StatusRunning:
		return "Up " + units.HumanDuration(time.Since(c.State.StartedAt)) + c.healthSuffix()
	case runtime.StatusPaused:
		return "Up " + units.HumanDuration(time.Since(c.State.StartedAt)) + " (Paused)"
	case runtime.StatusStarting:
		return "Starting"
	case runtime.StatusStopping:
		return "Up " + units.HumanDuration(time.Since(c.State.StartedAt)) + " (Stopping)"
	case runtime.StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", c.State.ExitCode, units.HumanDuration(time.Since(c.State.FinishedAt)))
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

// healthSuffix is Docker's health note after "Up ...".
func (c *Container) healthSuffix() string {
	switch h := c.healthStatus(); h {
	case runtime.HealthNone:
		return ""
	case runtime.HealthStarting:
		return " (health: starting)"
	default:
		return " (" + h + ")"
	}
}

// ImageRef is the image as the user named it, as Docker's ps and API list
// show it.
func (c *Container) ImageRef() string {
	if c.Config.Image != "" {
		return c.Config.Image
	}
	return FamiliarName(c.Config.ImageName)
}

// Command is the process as ps shows it.
func (c *Container) Command() string { return strings.Join(c.Config.Spec.Args, " ") }
