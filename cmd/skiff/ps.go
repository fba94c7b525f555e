package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// psRow is one line of `ps`, with Docker's template field names.
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names, Labels, Mounts, Networks string

	labels map[string]string
}

// Label is docker's and podman's {{.Label "key"}}: one label's value.
func (r psRow) Label(key string) string { return r.labels[key] }

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
			&cli.StringFlag{Name: "sort", Value: "created", Usage: "sort by created, id, image, names, runningfor, size or status (podman)"},
			&cli.BoolFlag{Name: "noheading", Usage: "do not print the header row (podman)"},
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
			if _, ok := psSorts[c.String("sort")]; !ok {
				return fmt.Errorf("invalid --sort %q: use created, id, image, names, runningfor, size or status", c.String("sort"))
			}
			// Sizes walk each writable layer: only when shown, as Docker.
			o.Size = !c.Bool("quiet") && (c.Bool("size") || strings.Contains(c.String("format"), ".Size") || c.String("sort") == "size")
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ContainerList(ctx, o)
				if err != nil {
					return err
				}
				return printPs(c, res)
			})
		},
	}
}

func printPs(c *cli.Context, res engine.ContainerListResult) error {
	noTrunc := c.Bool("no-trunc")
	list := res.Containers
	if c.Bool("quiet") {
		sortContainers(list, c.String("sort"), nil)
		for _, ctr := range list {
			if noTrunc {
				fmt.Println(ctr.ID)
			} else {
				fmt.Println(ctr.ShortID())
			}
		}
		return nil
	}
	sizes := map[string]int64{}
	for id, s := range res.Sizes { // a container being removed meanwhile has none
		sizes[id] = s.RW
		sizes[id+"/virtual"] = s.RootFS
	}
	sortContainers(list, c.String("sort"), sizes)
	rows := make([]any, 0, len(list))
	for _, ctr := range list {
		r := psRow{ID: ctr.ShortID(), Image: imageColumn(ctr), Command: ctr.Command(),
			CreatedAt: ctr.Created.Format("2006-01-02 15:04:05 -0700 MST"), RunningFor: ago(ctr.Created),
			State: string(ctr.State.Status), Status: ctr.Status(), Names: ctr.Name, Networks: ctr.Config.NetworkMode}
		r.Ports = portsColumn(res.Ports[ctr.ID], ctr.Config.Network.Exposed)
		if !noTrunc {
			r.Command = truncateCommand(r.Command)
		} else {
			r.ID = ctr.ID
		}
		r.Command = fmt.Sprintf("%q", r.Command)
		r.labels = ctr.Config.Labels
		r.Labels = joinLabels(ctr.Config.Labels)
		var mounts []string
		for _, m := range ctr.Config.Spec.Mounts {
			mounts = append(mounts, firstNonEmpty(m.Name, m.Source, m.Destination)) // a volume by its name, as Docker
		}
		r.Mounts = strings.Join(mounts, ",")
		if rw, ok := sizes[ctr.ID]; ok {
			// Docker's "2B (virtual 4.26MB)".
			r.Size = units.HumanSizeWithPrecision(float64(rw), 3) + " (virtual " + units.HumanSizeWithPrecision(float64(sizes[ctr.ID+"/virtual"]), 3) + ")"
		}
		rows = append(rows, r)
	}
	t := psTable
	if c.Bool("size") {
		t.format += "\t{{.Size}}"
	}
	t.noHeading = c.Bool("noheading")
	return render(os.Stdout, c.String("format"), t, rows)
}

// imageColumn is the image as the user named it (Container.ImageRef).
func imageColumn(ctr *engine.Container) string { return ctr.ImageRef() }

// truncateCommand keeps docker's 20 characters, ending in an ellipsis.
func truncateCommand(s string) string {
	if len([]rune(s)) <= 20 {
		return s
	}
	return string([]rune(s)[:19]) + "…"
}

// psSorts are podman's ps --sort keys; created (newest first) is the
// default order.
var psSorts = map[string]func(a, b *engine.Container, sizes map[string]int64) bool{
	"created":    func(a, b *engine.Container, _ map[string]int64) bool { return a.Created.After(b.Created) },
	"runningfor": func(a, b *engine.Container, _ map[string]int64) bool { return a.Created.After(b.Created) },
	"id":         func(a, b *engine.Container, _ map[string]int64) bool { return a.ID < b.ID },
	"image":      func(a, b *engine.Container, _ map[string]int64) bool { return imageColumn(a) < imageColumn(b) },
	"names":      func(a, b *engine.Container, _ map[string]int64) bool { return a.Name < b.Name },
	"status":     func(a, b *engine.Container, _ map[string]int64) bool { return a.Status() < b.Status() },
	"size":       func(a, b *engine.Container, s map[string]int64) bool { return s[a.ID] < s[b.ID] },
}

func sortContainers(list []*engine.Container, key string, sizes map[string]int64) {
	less := psSorts[key]
	sort.SliceStable(list, func(i, j int) bool { return less(list[i], list[j], sizes) })
}

// joinLabels is docker's Labels column: key=value, comma-separated, by key.
func joinLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + labels[k]
	}
	return strings.Join(keys, ",")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// portsColumn is Docker's PORTS: published ports as ip:host->container/proto,
// then exposed ones that are not published.
func portsColumn(published []engine.PortMapping, exposed []engine.Port) string {
	var out []string
	seen := map[engine.Port]bool{}
	for _, p := range published {
		out = append(out, p.HostAddr()+"->"+strconv.Itoa(p.ContainerPort)+"/"+p.Proto)
		seen[engine.Port{Number: p.ContainerPort, Protocol: p.Proto}] = true
	}
	for _, p := range exposed {
		if !seen[p] {
			out = append(out, p.String())
		}
	}
	return strings.Join(out, ", ")
}
