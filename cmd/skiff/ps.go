package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// psRow is one line of `ps`, with Docker's template field names.
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names, Labels, Mounts, Networks string
}

var psTable = table{
	format: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
	headers: map[string]string{"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
		"RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE", "Names": "NAMES",
		"Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS"},
}

func psCommand(name string, aliases ...string) *cli.Command {
	return &cli.Command{
		Name:    name,
		Aliases: aliases,
		Usage:   "list containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display container IDs"},
			&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "show n last created containers (includes all states)"},
			&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "show the latest created container (includes all states)"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output by key=value (id, name, label, status, exited, ancestor, before, since, volume, network, ...); one key twice: either, different keys: all"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes"},
			&cli.BoolFlag{Name: "external", Usage: "show containers of other tools too (podman; skiff has only its own)"},
		},
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			o := engine.ContainerListOptions{All: c.Bool("all"), Last: c.Int("last"), Filters: c.StringSlice("filter")}
			if c.Bool("latest") {
				o.Last = 1
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				list, err := e.ContainerList(ctx, o)
				if err != nil {
					return err
				}
				return printPs(c, e, list)
			})
		},
	}
}

func printPs(c *cli.Context, e *engine.Engine, list []*engine.Container) error {
	noTrunc := c.Bool("no-trunc")
	// Sizes walk each writable layer: only when shown, as Docker.
	withSize := c.Bool("size") || strings.Contains(c.String("format"), ".Size")
	if c.Bool("quiet") {
		for _, ctr := range list {
			if noTrunc {
				fmt.Println(ctr.ID)
			} else {
				fmt.Println(ctr.ShortID())
			}
		}
		return nil
	}
	rows := make([]any, 0, len(list))
	for _, ctr := range list {
		r := psRow{ID: ctr.ShortID(), Image: imageColumn(ctr), Command: ctr.Command(),
			CreatedAt: ctr.Created.Format("2006-01-02 15:04:05 -0700 MST"), RunningFor: ago(ctr.Created),
			State: string(ctr.State.Status), Status: ctr.Status(), Names: ctr.Name, Networks: ctr.Config.NetworkMode}
		if !noTrunc {
			r.Command = truncateCommand(r.Command)
		} else {
			r.ID = ctr.ID
		}
		r.Command = fmt.Sprintf("%q", r.Command)
		var labels []string
		for k, v := range ctr.Config.Labels {
			labels = append(labels, k+"="+v)
		}
		r.Labels = strings.Join(labels, ",")
		if withSize {
			// Docker's "2B (virtual 4.26MB)"; a container being removed
			// meanwhile has none.
			if rw, rootfs, err := e.ContainerSizes(ctr); err == nil {
				r.Size = units.HumanSizeWithPrecision(float64(rw), 3) + " (virtual " + units.HumanSizeWithPrecision(float64(rootfs), 3) + ")"
			}
		}
		rows = append(rows, r)
	}
	t := psTable
	if c.Bool("size") {
		t.format += "\t{{.Size}}"
	}
	return render(os.Stdout, c.String("format"), t, rows)
}

// imageColumn is the image as the user named it, as Docker shows it.
func imageColumn(ctr *engine.Container) string {
	if ctr.Config.Image != "" {
		return ctr.Config.Image
	}
	return engine.FamiliarName(ctr.Config.ImageName)
}

// truncateCommand keeps docker's 20 characters, ending in an ellipsis.
func truncateCommand(s string) string {
	if len([]rune(s)) <= 20 {
		return s
	}
	return string([]rune(s)[:19]) + "…"
}
