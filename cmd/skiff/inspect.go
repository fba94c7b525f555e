package main

import (
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"github.com/containerd/errdefs"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

var formatFlag = &cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template, or json"}

// inspectCommand is `skiff inspect`: containers first, then images, then
// volumes, as docker looks up any object by name or ID; --type narrows it.
func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show low-level information on containers, images or volumes",
		ArgsUsage: "NAME|ID [NAME|ID...]",
		Flags: []cli.Flag{formatFlag,
			&cli.StringFlag{Name: "type", Usage: "only inspect objects of this type: container, image or volume"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			kind := c.String("type")
			if kind != "" && kind != "container" && kind != "image" && kind != "volume" {
				return fmt.Errorf("invalid --type %q: use container, image or volume", kind)
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return inspectEach(c, func(ref string) (any, error) {
					if kind == "" || kind == "container" {
						res, err := e.ContainerInspect(ctx, ref, engine.ContainerInspectOptions{Size: c.Bool("size")})
						if err == nil || kind == "container" || !isNotFound(err) {
							return res.Container, err
						}
					}
					if kind != "volume" {
						res, err := e.ImageInspect(ctx, ref, engine.ImageInspectOptions{})
						if err == nil || kind == "image" || !isNotFound(err) {
							return res.Image, err
						}
					}
					res, err := e.VolumeInspect(ctx, ref, engine.VolumeInspectOptions{})
					if isNotFound(err) && kind == "" {
						return nil, fmt.Errorf("No such object: %s: %w", ref, errdefs.ErrNotFound)
					}
					return res.Volume, err
				})
			})
		},
	}
}

func containerInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show low-level information on containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     []cli.Flag{formatFlag, &cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes"}},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return inspectEach(c, func(ref string) (any, error) {
					res, err := e.ContainerInspect(ctx, ref, engine.ContainerInspectOptions{Size: c.Bool("size")})
					return res.Container, err
				})
			})
		},
	}
}

// inspectEach prints the documents found, then fails if any was missing.
func inspectEach(c *cli.Context, get func(string) (any, error)) error {
	var docs []any
	var failed error
	for _, n := range c.Args().Slice() {
		doc, err := get(n)
		if err != nil {
			if failed == nil {
				failed = err
			}
			continue
		}
		docs = append(docs, doc)
	}
	if err := printInspect(c.String("format"), docs); err != nil {
		return err
	}
	return failed
}

func imageInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show low-level information on images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags:     []cli.Flag{formatFlag},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return inspectEach(c, func(ref string) (any, error) {
					res, err := e.ImageInspect(ctx, ref, engine.ImageInspectOptions{})
					return res.Image, err
				})
			})
		},
	}
}

// printInspect prints a JSON array, or the template once per document.
func printInspect(format string, docs []any) error {
	if format == "" || format == "json" {
		if docs == nil {
			docs = []any{}
		}
		return printJSON(os.Stdout, docs)
	}
	// Templates see the JSON document, as docker's do: {{.Id}}, {{.Config.Cmd}}.
	generic := make([]any, len(docs))
	for i, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber() // 536870912, not 5.36870912e+08
		if err := dec.Decode(&generic[i]); err != nil {
			return err
		}
	}
	return render(os.Stdout, format, table{}, generic)
}

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "show the history of an image",
		ArgsUsage: "IMAGE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "human", Aliases: []string{"H"}, Value: true, Usage: "sizes and dates in human-readable form"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ImageHistory(ctx, c.Args().First(), engine.ImageHistoryOptions{})
				if err != nil {
					return err
				}
				return printHistory(c, res.Entries)
			})
		},
	}
}

type historyRow struct {
	ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment string
}

var historyTable = table{
	format:  "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
	headers: map[string]string{"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"},
}

func printHistory(c *cli.Context, entries []engine.HistoryEntry) error {
	noTrunc, human := c.Bool("no-trunc"), c.Bool("human")
	var rows []any
	for _, h := range entries {
		r := historyRow{ID: h.ID, CreatedBy: h.CreatedBy, Comment: h.Comment,
			CreatedAt: h.Created.Format("2006-01-02T15:04:05Z07:00"), CreatedSince: ago(h.Created)}
		if h.ID != "<missing>" && !noTrunc {
			r.ID = shortID(h.ID)
		} else if h.ID != "<missing>" {
			r.ID = "sha256:" + h.ID
		}
		if c.Bool("quiet") {
			fmt.Println(r.ID)
			continue
		}
		if !noTrunc && len(r.CreatedBy) > 45 {
			r.CreatedBy = r.CreatedBy[:44] + "…"
		}
		r.CreatedBy = strings.ReplaceAll(r.CreatedBy, "\n", " ")
		r.Size = humanSize(h.Size)
		if !human {
			r.Size = fmt.Sprint(h.Size)
			r.CreatedSince = r.CreatedAt
		}
		rows = append(rows, r)
	}
	if c.Bool("quiet") {
		return nil
	}
	return render(os.Stdout, c.String("format"), historyTable, rows)
}
