package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// The commands that take a container's file system out: diff, export,
// commit, and podman's container mount/unmount.

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "inspect changes to files or directories on a container's filesystem",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "json for podman's {\"changed\":[...],\"added\":[...],\"deleted\":[...]}"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			format := c.String("format")
			if format != "" && format != "json" {
				return fmt.Errorf("invalid --format %q: only json is supported", format)
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ContainerDiff(ctx, c.Args().First(), engine.ContainerDiffOptions{})
				if err != nil {
					return err
				}
				if format == "json" {
					return printDiffJSON(res)
				}
				for _, ch := range res.Changes {
					fmt.Printf("%s %s\n", ch.Kind, ch.Path)
				}
				return nil
			})
		},
	}
}

// printDiffJSON prints podman's diff --format json.
func printDiffJSON(res engine.ContainerDiffResult) error {
	out := map[string][]string{}
	key := map[string]string{"A": "added", "C": "changed", "D": "deleted"}
	for _, ch := range res.Changes {
		out[key[ch.Kind]] = append(out[key[ch.Kind]], ch.Path)
	}
	b, err := json.MarshalIndent(out, "", "    ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "export a container's filesystem as a tar archive (stdout by default)",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file instead of stdout"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			o := engine.ContainerExportOptions{Path: c.String("output")}
			if o.Path == "" {
				if isTerminal(os.Stdout) {
					return fmt.Errorf("cowardly refusing to write a tar to a terminal: use the -o flag or redirect")
				}
				o.Output = os.Stdout
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				_, err := e.ContainerExport(ctx, c.Args().First(), o)
				return err
			})
		},
	}
}

func commitCommand() *cli.Command {
	return &cli.Command{
		Name:      "commit",
		Usage:     "create a new image from a container's changes",
		ArgsUsage: "CONTAINER [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit message (the history comment)"},
			&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: `author (e.g. "Jane Doe <jane@example.com>")`},
			&cli.BoolFlag{Name: "pause", Aliases: []string{"p"}, Value: true, Usage: "pause a running container during the commit"},
			&cli.BoolFlag{Name: "squash", Usage: "one layer holding the whole filesystem (podman)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image ID (podman)"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "oci", Usage: "image format: oci or docker (podman)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 2); err != nil {
				return err
			}
			o := engine.ContainerCommitOptions{
				Reference: c.Args().Get(1), Changes: c.StringSlice("change"), Message: c.String("message"),
				Author: c.String("author"), Pause: c.Bool("pause"), Squash: c.Bool("squash"), Format: c.String("format"),
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ContainerCommit(ctx, c.Args().First(), o)
				if err != nil {
					return err
				}
				fmt.Printf("sha256:%s\n", res.Image.ID)
				return nil
			})
		},
	}
}

func containerMountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "mount containers' root filesystems and print where (no container: list the mounted ones)",
		ArgsUsage: "[CONTAINER...]",
		Action: func(c *cli.Context) error {
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				if c.NArg() == 0 {
					res, err := e.ContainerMountList(ctx, engine.ContainerMountOptions{})
					for _, m := range res.Mounts {
						fmt.Printf("%s %s\n", m.ID[:12], m.Mountpoint)
					}
					return err
				}
				var failed error
				for _, ref := range c.Args().Slice() {
					res, err := e.ContainerMount(ctx, ref, engine.ContainerMountOptions{})
					if err != nil {
						fmt.Fprintf(os.Stderr, "Error: %s\n", oneLine(err))
						failed = &silentError{code: exitEngine}
						continue
					}
					fmt.Println(res.Mountpoint)
				}
				return failed
			})
		},
	}
}

func containerUnmountCommand() *cli.Command {
	return &cli.Command{
		Name:      "unmount",
		Aliases:   []string{"umount"},
		Usage:     "release containers' root filesystem mounts",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "unmount every mounted container"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "release every mount at once, not just one"},
		},
		Action: func(c *cli.Context) error {
			if err := checkTargets(c); err != nil {
				return err
			}
			o := engine.ContainerUnmountOptions{Force: c.Bool("force")}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				refs := c.Args().Slice()
				if c.Bool("all") {
					res, err := e.ContainerMountList(ctx, engine.ContainerMountOptions{})
					if err != nil {
						return err
					}
					refs = nil
					for _, m := range res.Mounts {
						refs = append(refs, m.ID)
					}
				}
				return eachContainer(refs, func(ref string) error {
					_, err := e.ContainerUnmount(ctx, ref, o)
					return err
				})
			})
		},
	}
}
