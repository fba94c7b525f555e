package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// update changes the limits and restart policy of containers, running or
// not (docker update). The flags skiff has no limit for are docker's too,
// so that a script using them fails saying which, rather than on an
// unknown flag.

// updateUnsupported are docker update's flags that skiff cannot honour.
var updateUnsupported = []string{"blkio-weight", "cpu-rt-period", "cpu-rt-runtime"}

func updateCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 512m)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "swap limit equal to memory plus swap: -1 to enable unlimited swap"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit (e.g. 256m)"},
		&cli.Int64Flag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs in which to allow execution (0-3, 0,1)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes in which to allow execution (0-3, 0,1)"},
		&cli.StringFlag{Name: "cpus", Usage: "number of CPUs"},
		&cli.Int64Flag{Name: "cpu-quota", Usage: "limit CPU CFS quota (microseconds per period; -1: none)"},
		&cli.Int64Flag{Name: "cpu-period", Usage: "limit CPU CFS period (with --cpu-quota)"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "tune container pids limit (-1 for unlimited)"},
		&cli.StringFlag{Name: "restart", Usage: "restart policy to apply when a container exits"},
	}
	for _, f := range updateUnsupported {
		flags = append(flags, &cli.StringFlag{Name: f, Usage: "not supported by skiff (docker's)", Hidden: true})
	}
	return &cli.Command{
		Name:      "update",
		Usage:     "update configuration of one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     flags,
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			o, err := updateOptions(c)
			if err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return eachContainer(c.Args().Slice(), func(ref string) error {
					_, err := e.ContainerUpdate(ctx, ref, o)
					return err
				})
			})
		},
	}
}

// updateOptions turns the flags into the fields to change; none is
// docker's error.
func updateOptions(c *cli.Context) (engine.ContainerUpdateOptions, error) {
	var o engine.ContainerUpdateOptions
	var refused []string
	for _, f := range updateUnsupported {
		if c.IsSet(f) {
			refused = append(refused, "--"+f)
		}
	}
	if len(refused) > 0 {
		return o, fmt.Errorf("%s: not supported by skiff", strings.Join(refused, ", "))
	}
	if c.IsSet("memory") {
		n, err := parseMemory(c.String("memory"))
		if err != nil {
			return o, err
		}
		o.Memory = &n
	}
	if c.IsSet("cpus") && (c.IsSet("cpu-quota") || c.IsSet("cpu-period")) {
		return o, fmt.Errorf("Conflicting options: --cpus and --cpu-quota or --cpu-period cannot both be set")
	}
	if c.IsSet("cpus") {
		n, err := parseCPUs(c.String("cpus"))
		if err != nil {
			return o, err
		}
		o.NanoCPUs = &n
	}
	if c.IsSet("cpu-period") && !c.IsSet("cpu-quota") {
		return o, fmt.Errorf("--cpu-period needs --cpu-quota: skiff keeps a CPU limit as a quota per period")
	}
	if c.IsSet("cpu-quota") {
		n, err := engine.NanoCPUsFromQuota(c.Int64("cpu-quota"), c.Int64("cpu-period"))
		if err != nil {
			return o, err
		}
		o.NanoCPUs = &n
	}
	for _, sz := range []struct {
		flag  string
		dst   **int64
		parse func(string) (int64, error)
	}{
		{"memory-reservation", &o.MemoryReservation, func(v string) (int64, error) { return parseSize("memory-reservation", v) }},
		{"memory-swap", &o.MemorySwap, parseSwap},
	} {
		if c.IsSet(sz.flag) {
			n, err := sz.parse(c.String(sz.flag))
			if err != nil {
				return o, err
			}
			*sz.dst = &n
		}
	}
	if c.IsSet("cpu-shares") {
		n := c.Int64("cpu-shares")
		o.CPUShares = &n
	}
	for _, cs := range []struct {
		flag string
		dst  **string
	}{{"cpuset-cpus", &o.CpusetCpus}, {"cpuset-mems", &o.CpusetMems}} {
		if c.IsSet(cs.flag) {
			v := c.String(cs.flag)
			*cs.dst = &v
		}
	}
	if c.IsSet("pids-limit") {
		n := c.Int64("pids-limit")
		o.PidsLimit = &n
	}
	if c.IsSet("restart") {
		p, err := parseRestartPolicy(c.String("restart"))
		if err != nil {
			return o, err
		}
		o.RestartPolicy = &p
	}
	if o == (engine.ContainerUpdateOptions{}) {
		return o, fmt.Errorf("you must provide one or more flags when using this command")
	}
	return o, nil
}
