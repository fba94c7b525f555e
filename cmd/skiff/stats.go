package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// stats prints docker's table of resource use, with docker's column
// arithmetic (the docker CLI's, not its daemon's): CPU % from the change
// of the container's CPU time against the host's since the previous
// sample, memory without the inactive page cache.

var statsTable = table{
	format: "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
	headers: map[string]string{"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
		"MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"},
}

// statsRow is one line; its fields are docker's template names (and its
// --format json keys).
type statsRow struct {
	BlockIO   string
	CPUPerc   string
	Container string
	ID        string
	MemPerc   string
	MemUsage  string
	Name      string
	NetIO     string
	PIDs      string
}

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "display a live stream of container(s) resource usage statistics",
		ArgsUsage: "[CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
			&cli.BoolFlag{Name: "no-stream", Usage: "disable streaming stats and only pull the first result"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate output"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.IntFlag{Name: "interval", Aliases: []string{"i"}, Value: 1, Usage: "seconds between two refreshes (podman)"},
		},
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			if c.Int("interval") < 1 {
				return fmt.Errorf("invalid --interval %d: use a number of seconds, 1 or more", c.Int("interval"))
			}
			o := engine.ContainerStatsOptions{Containers: c.Args().Slice(), All: c.Bool("all"), Stream: !c.Bool("no-stream"),
				Interval: time.Duration(c.Int("interval")) * time.Second}
			clear := o.Stream && isTerminal(os.Stdout) && c.String("format") != "json"
			o.Send = func(round []engine.ContainerStats) error {
				var b bytes.Buffer
				if clear {
					b.WriteString("\033[2J\033[H") // docker's: clear the screen, cursor home
				}
				if err := render(&b, c.String("format"), statsTable, statsRows(round, o.Containers, c.Bool("no-trunc"))); err != nil {
					return err
				}
				_, err := os.Stdout.Write(b.Bytes())
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				_, err := e.ContainerStats(ctx, o)
				return err
			})
		},
	}
}

// statsRows formats a round; Container is the name or ID given (the
// short ID when none was).
func statsRows(round []engine.ContainerStats, given []string, noTrunc bool) []any {
	rows := make([]any, 0, len(round))
	for i, s := range round {
		id := s.ID
		if !noTrunc {
			id = shortID(id)
		}
		r := statsRow{ID: id, Container: id, Name: s.Name, CPUPerc: "0.00%", MemUsage: "0B / 0B", MemPerc: "0.00%",
			NetIO: "0B / 0B", BlockIO: "0B / 0B", PIDs: "0"}
		if len(given) == len(round) {
			r.Container = given[i]
		}
		if s.Running {
			used, limit := memoryUsed(s), float64(s.Memory.Limit)
			var memPerc float64
			if limit > 0 {
				memPerc = used / limit * 100
			}
			var rx, tx float64
			for _, n := range s.Networks {
				rx, tx = rx+float64(n.RxBytes), tx+float64(n.TxBytes)
			}
			read, written := blockIO(s)
			r.CPUPerc = fmt.Sprintf("%.2f%%", cpuPercent(s))
			r.MemUsage = units.BytesSize(used) + " / " + units.BytesSize(limit)
			r.MemPerc = fmt.Sprintf("%.2f%%", memPerc)
			r.NetIO = units.HumanSizeWithPrecision(rx, 3) + " / " + units.HumanSizeWithPrecision(tx, 3)
			r.BlockIO = units.HumanSizeWithPrecision(read, 3) + " / " + units.HumanSizeWithPrecision(written, 3)
			r.PIDs = fmt.Sprint(s.Pids.Current)
		}
		rows = append(rows, r)
	}
	return rows
}

// cpuPercent is docker's: the container's share of the host's CPU time
// since the previous sample, times the online CPUs (100% is one CPU).
func cpuPercent(s engine.ContainerStats) float64 {
	cpu := float64(s.CPU.Total) - float64(s.PreCPU.Total)
	sys := float64(s.CPU.System) - float64(s.PreCPU.System)
	online := float64(s.CPU.Online)
	if online == 0 {
		online = float64(len(s.CPU.PerCPU))
	}
	if cpu <= 0 || sys <= 0 {
		return 0
	}
	return cpu / sys * online * 100
}

// memoryUsed is docker's: usage less the inactive page cache
// (total_inactive_file on cgroup v1, inactive_file on v2).
func memoryUsed(s engine.ContainerStats) float64 {
	u := s.Memory.Usage
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := s.Memory.Stats[k]; ok && v < u {
			return float64(u - v)
		}
	}
	return float64(u)
}

// blockIO sums the bytes read and written on every device.
func blockIO(s engine.ContainerStats) (read, written float64) {
	for _, e := range s.BlkioBytes {
		switch {
		case len(e.Op) == 0:
		case e.Op[0] == 'r' || e.Op[0] == 'R':
			read += float64(e.Value)
		case e.Op[0] == 'w' || e.Op[0] == 'W':
			written += float64(e.Value)
		}
	}
	return read, written
}
