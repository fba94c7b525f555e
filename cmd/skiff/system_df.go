package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// dfRow is one line of `system df`, with Docker's template field names.
type dfRow struct {
	Type, TotalCount, Active, Size, Reclaimable string
}

var dfTable = table{
	format:  "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
	headers: map[string]string{"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"},
}

func systemDfCommand() *cli.Command {
	return &cli.Command{
		Name:  "df",
		Usage: "show disk usage of images, containers and volumes",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show every image, container and volume"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if c.Bool("verbose") && c.String("format") != "" {
				return fmt.Errorf("--format and --verbose cannot be used together: choose one")
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.SystemDf(ctx, engine.SystemDfOptions{})
				if err != nil {
					return err
				}
				if c.Bool("verbose") {
					return printDfVerbose(os.Stdout, res)
				}
				return render(os.Stdout, c.String("format"), dfTable, dfSummary(res))
			})
		},
	}
}

// dfSummary is Docker's four lines; reclaimable is what removing every
// unused image, stopped container and unlinked volume would free.
func dfSummary(res engine.SystemDfResult) []any {
	var imgActive, imgUsed int64
	for _, i := range res.Images {
		if i.Containers > 0 {
			imgActive++
			imgUsed += i.Size - i.SharedSize
		}
	}
	var ctrActive, ctrSize, ctrFree int64
	for _, c := range res.Containers {
		ctrSize += c.SizeRw
		if c.Running() {
			ctrActive++
		} else {
			ctrFree += c.SizeRw
		}
	}
	var volActive, volSize, volFree int64
	for _, v := range res.Volumes {
		volSize += v.Size
		if v.Links > 0 {
			volActive++
		} else {
			volFree += v.Size
		}
	}
	return []any{
		dfLine("Images", len(res.Images), imgActive, res.LayersSize, max(res.LayersSize-imgUsed, 0)),
		dfLine("Containers", len(res.Containers), ctrActive, ctrSize, ctrFree),
		dfLine("Local Volumes", len(res.Volumes), volActive, volSize, volFree),
		dfLine("Build Cache", 0, 0, 0, 0),
	}
}

func dfLine(kind string, total int, active, size, free int64) dfRow {
	r := dfRow{Type: kind, TotalCount: fmt.Sprint(total), Active: fmt.Sprint(active), Size: units.HumanSize(float64(size)),
		Reclaimable: units.HumanSize(float64(free))}
	if size > 0 {
		r.Reclaimable += fmt.Sprintf(" (%d%%)", free*100/size)
	}
	return r
}

// printDfVerbose prints Docker's `system df -v`: a table per kind.
func printDfVerbose(w io.Writer, res engine.SystemDfResult) error {
	fmt.Fprint(w, "Images space usage:\n\n")
	var rows [][]string
	for _, i := range res.Images {
		repo, tag := "<none>", "<none>"
		if len(i.Names) > 0 {
			repo, tag = engine.SplitRepoTag(i.Names[0])
		}
		rows = append(rows, []string{repo, tag, shortID(i.ID), ago(i.Created), humanSize(i.Size),
			humanSize(i.SharedSize), humanSize(i.UniqueSize), fmt.Sprint(i.Containers)})
	}
	if err := dfTableOf(w, []string{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"}, rows); err != nil {
		return err
	}
	fmt.Fprint(w, "\nContainers space usage:\n\n")
	rows = nil
	for _, c := range res.Containers {
		rows = append(rows, []string{c.ShortID(), imageColumn(c.Container), fmt.Sprintf("%q", truncateCommand(c.Command())),
			fmt.Sprint(c.LocalVolumes), humanSize(c.SizeRw), ago(c.Created), c.Status(), c.Name})
	}
	if err := dfTableOf(w, []string{"CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"}, rows); err != nil {
		return err
	}
	fmt.Fprint(w, "\nLocal Volumes space usage:\n\n")
	rows = nil
	for _, v := range res.Volumes {
		rows = append(rows, []string{v.Name, fmt.Sprint(v.Links), humanSize(v.Size)})
	}
	if err := dfTableOf(w, []string{"VOLUME NAME", "LINKS", "SIZE"}, rows); err != nil {
		return err
	}
	fmt.Fprint(w, "\nBuild cache usage: 0B\n\n")
	return dfTableOf(w, []string{"CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"}, nil)
}

// dfTableOf prints a header and rows of cells, aligned as the other tables.
func dfTableOf(w io.Writer, headers []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	for _, r := range append([][]string{headers}, rows...) {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
