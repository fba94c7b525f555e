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
		&cli.Int64Flag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs in which to allow execution (0-3, 0,1)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes in which to allow execution (0-3, 0,1)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit (e.g. 256m)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "swap limit equal to memory plus swap: -1 to enable unlimited swap"},
		&cli.Int64Flag{Name: "memory-swappiness", Value: -1, Usage: "tune container memory swappiness (0 to 100)"},
		&cli.BoolFlag{Name: "oom-kill-disable", Usage: "disable OOM Killer"},
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
	r.CPUShares = c.Int64("cpu-shares")
	r.CpusetCpus, r.CpusetMems = c.String("cpuset-cpus"), c.String("cpuset-mems")
	if r.MemoryReservation, err = parseSize("memory-reservation", c.String("memory-reservation")); err != nil {
		return err
	}
	if r.MemorySwap, err = parseSwap(c.String("memory-swap")); err != nil {
		return err
	}
	if isSet(c, "memory-swappiness") {
		v := c.Int64("memory-swappiness")
		r.MemorySwappiness = &v
	}
	r.OomKillDisable = c.Bool("oom-kill-disable")
	for _, u := range c.StringSlice("ulimit") {
		l, err := parseUlimit(u)
		if err != nil {
			return err
		}
		r.Ulimits = append(r.Ulimits, l)
	}
	return nil
}

// parseMemory reads --memory: a size with an optional unit (b, k, m, g, t,
// p; 1024 based, as Docker's); "" is no limit.
func parseMemory(s string) (int64, error) { return parseSize("memory", s) }

// parseSize reads the size of --flag; "" is none.
func parseSize(flag, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := units.RAMInBytes(s)
	if err == nil && (n < 0 || n >= 1<<62) { // the unit's product overflowed
		return 0, fmt.Errorf("invalid --%s %q: too large (the limit must be below 4EiB)", flag, s)
	}
	if err != nil {
		return 0, fmt.Errorf("invalid --%s %q: use a number with an optional unit (b, k, m, g), e.g. 512m", flag, s)
	}
	return n, nil
}

// parseSwap reads --memory-swap: a size, or -1 for unlimited swap.
func parseSwap(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	return parseSize("memory-swap", s)
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
