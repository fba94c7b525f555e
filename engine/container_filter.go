package engine

import (
	"github.com/skiff-engine/skiff/runtime"

	"context"
	"strconv"
	"strings"
	"time"
)

// Docker's container states, the values status= takes.
var containerStates = []string{"created", "restarting", "running", "removing", "paused", "exited", "dead"}

// containerFilterSpec is ps's filter keys: the keys docker's ps takes, with
// its matching rules (moby daemon/list.go), plus podman's label!.
func (e *Engine) containerFilterSpec() filterSpec[*Container] {
	keys := labelKeys(func(c *Container) map[string]string { return c.Config.Labels })
	keys["id"] = filterKey[*Container]{match: func(v string) (func(*Container) bool, error) {
		return func(c *Container) bool { return strings.HasPrefix(c.ID, v) }, nil
	}}
	keys["name"] = filterKey[*Container]{match: func(v string) (func(*Container) bool, error) {
		// Docker's names start with a slash; a pattern may or may not.
		m := matchName(v)
		return func(c *Container) bool { return m(c.Name) || m("/"+c.Name) }, nil
	}}
	keys["status"] = filterKey[*Container]{check: oneOf(containerStates...), match: func(v string) (func(*Container) bool, error) {
		return func(c *Container) bool { return dockerStatus(c.State.Status) == v }, nil
	}}
	keys["health"] = filterKey[*Container]{check: oneOf(runtime.HealthStarting, runtime.HealthHealthy, runtime.HealthUnhealthy, runtime.HealthNone),
		match: func(v string) (func(*Container) bool, error) {
			return func(c *Container) bool { return c.healthStatus() == v }, nil
		}}
	keys["exited"] = filterKey[*Container]{check: exitCodes, match: func(v string) (func(*Container) bool, error) {
		code, _ := strconv.Atoi(v)
		// A container that never ran has no exit code.
		return func(c *Container) bool {
			return !c.Running() && !c.State.StartedAt.IsZero() && c.State.ExitCode == code
		}, nil
	}}
	keys["ancestor"] = filterKey[*Container]{match: func(v string) (func(*Container) bool, error) {
		// Docker: an image that does not exist matches nothing, no error.
		id := ""
		if is, err := e.imageStore(); err == nil {
			if img, err := is.Lookup(v); err == nil {
				id = img.ID
			}
		}
		return func(c *Container) bool { return id != "" && c.ImageID == id }, nil
	}}
	created := func(before bool) filterKey[*Container] {
		return filterKey[*Container]{all: true, match: func(v string) (func(*Container) bool, error) {
			ref, err := e.lookupContainer(v)
			if err != nil {
				return nil, err
			}
			t := ref.Created
			if before {
				return func(c *Container) bool { return c.Created.Before(t) }, nil
			}
			return func(c *Container) bool { return c.Created.After(t) }, nil
		}}
	}
	keys["before"], keys["since"] = created(true), created(false)
	keys["volume"] = filterKey[*Container]{match: func(v string) (func(*Container) bool, error) {
		return func(c *Container) bool {
			for _, m := range c.Config.Spec.Mounts {
				if m.Destination == v || m.Source != "" && m.Source == v || m.Name != "" && m.Name == v {
					return true
				}
			}
			return false
		}, nil
	}}
	keys["network"] = filterKey[*Container]{match: func(v string) (func(*Container) bool, error) {
		// A container's networks are its endpoints' (by name or ID), or
		// its mode's name (a joined namespace, container: or ns:, is no
		// network).
		var want *Network
		if e.openDB() == nil {
			want, _ = e.lookupNetwork(context.Background(), v)
		}
		return func(c *Container) bool {
			if want != nil {
				if _, on := c.Config.Network.endpoint(want); on {
					return true
				}
			}
			return len(c.Config.Network.Endpoints) == 0 && c.Config.NetworkMode == v && !strings.Contains(v, ":")
		}, nil
	}}
	// publish and expose match container ports, as Docker's: those with a
	// host binding, and those exposed (the image's, --expose, and -p's).
	keys["publish"] = filterKey[*Container]{check: portRange, match: portFilter(func(c *Container) []Port {
		var ps []Port
		for _, b := range c.Config.Network.Ports {
			ps = append(ps, Port{b.ContainerPort, b.Protocol})
		}
		if c.Config.Network.PublishAll {
			ps = append(ps, c.Config.Network.Exposed...)
		}
		return ps
	})}
	keys["expose"] = filterKey[*Container]{check: portRange, match: portFilter(func(c *Container) []Port { return c.Config.Network.Exposed })}
	keys["isolation"] = filterKey[*Container]{match: func(string) (func(*Container) bool, error) {
		// Windows only; docker on Linux accepts and ignores it.
		return func(*Container) bool { return true }, nil
	}}
	keys["is-task"] = boolKey(func(*Container) bool { return false }) // no swarm services
	return filterSpec[*Container]{what: "containers", keys: keys}
}

// containerPruneSpec is container prune's keys, Docker's: until, label, label!.
func containerPruneSpec(now time.Time) filterSpec[*Container] {
	keys := labelKeys(func(c *Container) map[string]string { return c.Config.Labels })
	keys["until"] = untilKey(now, func(c *Container) time.Time { return c.Created })
	return filterSpec[*Container]{what: "container prune", keys: keys}
}

// untilKey matches what was created before a time.
func untilKey[T any](now time.Time, created func(T) time.Time) filterKey[T] {
	return filterKey[T]{all: true, match: func(v string) (func(T) bool, error) {
		t, err := ParseTimestamp(v, now)
		if err != nil {
			return nil, badFilterValue("until", v, "a timestamp (2006-01-02T15:04:05Z), a unix time, or a duration like 10m")
		}
		return func(x T) bool { return created(x).Before(t) }, nil
	}}
}

func exitCodes(key string, values []string) error {
	for _, v := range values {
		if _, err := strconv.Atoi(v); err != nil {
			return badFilterValue(key, v, "an exit code")
		}
	}
	return nil
}

// portFilter matches PORT[/PROTO] or START-END[/PROTO] (tcp when left
// out) against the ports of a container (portRange checked the syntax).
func portFilter(ports func(*Container) []Port) func(string) (func(*Container) bool, error) {
	return func(v string) (func(*Container) bool, error) {
		rng, proto, _ := strings.Cut(v, "/")
		proto = firstNonEmpty(proto, "tcp")
		lo, hi, isRange := strings.Cut(rng, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		return func(c *Container) bool {
			for _, p := range ports(c) {
				if p.Protocol == proto && p.Number >= a && p.Number <= b {
					return true
				}
			}
			return false
		}, nil
	}
}
