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

// volume: Docker's volume commands (the local driver), and podman's exists.

func volumeGroup() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "manage volumes",
		Subcommands: []*cli.Command{
			volumeCreateCommand(), volumeLsCommand(), volumeInspectCommand(), volumeRmCommand(),
			volumePruneCommand(), volumeExistsCommand(),
		},
	}
}

func volumeCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a volume",
		ArgsUsage: "[NAME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "local", Usage: "volume driver (local)"},
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set metadata on the volume (key=value)"},
			&cli.StringSliceFlag{Name: "opt", Aliases: []string{"o"}, Usage: "driver options: type=tmpfs|none|ext4..., device=..., o=..."},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 1); err != nil {
				return err
			}
			labels, opts, err := labelsAndOpts(c)
			if err != nil {
				return err
			}
			o := engine.VolumeCreateOptions{Name: c.Args().First(), Driver: c.String("driver"), Labels: labels, Options: opts}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.VolumeCreate(ctx, o)
				if err != nil {
					return err
				}
				fmt.Println(res.Name)
				return nil
			})
		},
	}
}

// labelsAndOpts are a create's --label and --opt (network, volume).
func labelsAndOpts(c *cli.Context) (labels, opts map[string]string, err error) {
	if labels, err = parseLabels(c.StringSlice("label")); err != nil {
		return nil, nil, err
	}
	opts, err = parseOpts(c.StringSlice("opt"))
	return labels, opts, err
}

// parseOpts reads a driver's --opt KEY=VALUE (the value may hold '=' and
// ','); nil for none.
func parseOpts(in []string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	opts := map[string]string{}
	for _, o := range in {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid --opt %q: use key=value", o)
		}
		opts[k] = v
	}
	return opts, nil
}

type volumeRow struct {
	Name, Driver, Scope, Mountpoint, Labels, Links, Size string
}

var volumeTable = table{
	format: "table {{.Driver}}\t{{.Name}}",
	headers: map[string]string{"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
		"Labels": "LABELS", "Links": "LINKS", "Size": "SIZE"},
}

func volumeLsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "list volumes",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output by key=value (name, label, label!, dangling, driver)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display volume names"},
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.BoolFlag{Name: "noheading", Usage: "do not print the header row (podman)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			format := c.String("format")
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.VolumeList(ctx, engine.VolumeListOptions{Filters: c.StringSlice("filter"), Size: strings.Contains(format, ".Size")})
				if err != nil {
					return err
				}
				var rows []any
				for _, v := range res.Volumes {
					if c.Bool("quiet") {
						fmt.Println(v.Name)
						continue
					}
					size := "N/A"
					if v.Size >= 0 {
						size = units.HumanSize(float64(v.Size))
					}
					rows = append(rows, volumeRow{Name: v.Name, Driver: v.Driver, Scope: "local", Mountpoint: v.Mountpoint,
						Labels: joinLabels(v.Config.Labels), Links: "N/A", Size: size})
				}
				if c.Bool("quiet") {
					return nil
				}
				t := volumeTable
				t.noHeading = c.Bool("noheading")
				return render(os.Stdout, format, t, rows)
			})
		},
	}
}

func volumeInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "display detailed information on one or more volumes",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags:     []cli.Flag{formatFlag},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return inspectEach(c, func(name string) (any, error) {
					res, err := e.VolumeInspect(ctx, name, engine.VolumeInspectOptions{})
					return res.Volume, err
				})
			})
		},
	}
}

func volumeRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "remove one or more volumes",
		ArgsUsage: "VOLUME [VOLUME...]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not error if the volume does not exist"}},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				return removeEach(c, func(name string) error {
					_, err := e.VolumeRemove(ctx, name, engine.VolumeRemoveOptions{Force: c.Bool("force")})
					return err
				})
			})
		},
	}
}

func volumePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove unused anonymous volumes (all unused volumes with --all)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused volumes, not just anonymous ones"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (label, label!, all, until)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			what := "anonymous local volumes"
			if c.Bool("all") {
				what = "all local volumes"
			}
			if !c.Bool("force") && !confirm("WARNING! This will remove "+what+" not used by at least one container.\nAre you sure you want to continue? [y/N] ") {
				return nil
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.VolumePrune(ctx, engine.VolumePruneOptions{Filters: c.StringSlice("filter"), All: c.Bool("all")})
				if err != nil && len(res.Removed) == 0 {
					return err // a bad filter: one line, no summary
				}
				printPruned("Volumes", res.Removed, res.SpaceReclaimed)
				return err
			})
		},
	}
}

func volumeExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "exit 0 if the volume exists, 1 if not (podman)",
		ArgsUsage: "VOLUME",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.VolumeExists(ctx, c.Args().First(), engine.VolumeExistsOptions{})
				if err != nil {
					return err
				}
				if !res.Exists {
					return &silentError{code: 1}
				}
				return nil
			})
		},
	}
}

// removeEach is the rm of a group (network rm, volume rm): each argument in
// turn, its name printed once removed, one Error line for each that failed;
// the exit code is the last failure's.
func removeEach(c *cli.Context, rm func(string) error) error {
	var failed error
	for _, name := range c.Args().Slice() {
		if err := rm(name); err != nil {
			fmt.Fprintf(os.Stderr, "Error: %s\n", oneLine(err))
			failed = &silentError{code: exitCode(err)}
			continue
		}
		fmt.Println(name)
	}
	return failed
}
