package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine"
)

// Resource flags: sizes become bytes, --cpus nano-CPUs, --ulimit typed
// limits. The limits' ranges (the memory minimum, the CPUs this host has,
// ulimit names, soft <= hard, the host's ceilings) are
// runtime.CheckOptions's.

func resourceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 512m)"},
		&cli.StringFlag{Name: "cpus", Usage: "number of CPUs"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "tune container pids limit (-1 for unlimited)"},
		&cli.StringSliceFlag{Name: "ulimit", Usage: "ulimit options (nofile=1024:2048)"},
	}
}

func parseResourceFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	r := &o.Resources
	var err error
	if r.Memory, err = parseMemory(c.String("memory")); err != nil {
		return err
	}
	if r.NanoCPUs, err = parseCPUs(c.String("cpus")); err != nil {
		return err
	}
	r.PidsLimit = c.Int64("pids-limit")
	for _, u := range c.StringSlice("ulimit") {
		l, err := parseUlimit(u)
		if err != nil {
			return err
		}
		r.Ulimits = append(r.Ulimits, l)
	}
	return nil
}

// parseMemory reads a size with an optional unit (b, k, m, g, t, p; 1024
// based, as Docker's); "" is no limit.
func parseMemory(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := units.RAMInBytes(s)
	if err == nil && (n < 0 || n >= 1<<62) { // the unit's product overflowed
		return 0, fmt.Errorf("invalid --memory %q: too large (the limit must be below 4EiB)", s)
	}
	if err != nil {
		return 0, fmt.Errorf("invalid --memory %q: use a number with an optional unit (b, k, m, g), e.g. 512m", s)
	}
	return n, nil
}

// parseCPUs reads --cpus, a decimal number of CPUs, as nano-CPUs.
func parseCPUs(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64/1e9 {
		return 0, fmt.Errorf("invalid --cpus %q: use a number such as 1.5", s)
	}
	return int64(math.Round(f * 1e9)), nil
}

// parseUlimit reads --ulimit NAME=SOFT[:HARD]; -1 and unlimited are
// RLIM_INFINITY, a missing HARD is SOFT.
func parseUlimit(s string) (engine.Ulimit, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return engine.Ulimit{}, fmt.Errorf("invalid --ulimit %q: use NAME=SOFT[:HARD], e.g. nofile=1024:2048", s)
	}
	parts := strings.Split(val, ":")
	if len(parts) > 2 {
		return engine.Ulimit{}, fmt.Errorf("invalid --ulimit %q: at most two values, SOFT[:HARD]", s)
	}
	var lim [2]uint64
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 64)
		if p == "unlimited" || p == "-1" {
			v, err = unix.RLIM_INFINITY, nil
		}
		if err != nil {
			return engine.Ulimit{}, fmt.Errorf("invalid --ulimit %q: %q is not a number, -1 or unlimited", s, p)
		}
		lim[i] = v
	}
	u := engine.Ulimit{Name: strings.ToLower(name), Soft: lim[0], Hard: lim[0]}
	if len(parts) == 2 {
		u.Hard = lim[1]
	}
	return u, nil
}
