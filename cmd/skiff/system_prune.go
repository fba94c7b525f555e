package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// `skiff system prune` (Docker's): stopped containers, unused networks,
// dangling (-a: unused) images, and with --volumes unused anonymous volumes.
func systemPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove stopped containers, unused networks, dangling images (and with --volumes unused volumes)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove every unused image, not only dangling ones"},
			&cli.BoolFlag{Name: "volumes", Usage: "also remove unused anonymous volumes"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "filter by key=value: until, label, label!"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if !c.Bool("force") && !confirm(systemPruneWarning(c.Bool("all"), c.Bool("volumes"))) {
				return nil
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.SystemPrune(ctx, engine.SystemPruneOptions{All: c.Bool("all"), Volumes: c.Bool("volumes"), Filters: c.StringSlice("filter")})
				if err != nil && len(res.Containers)+len(res.Networks)+len(res.Images)+len(res.Volumes) == 0 {
					return err // a bad filter: one line, no summary
				}
				for _, part := range []struct {
					what string
					ids  []string
				}{{"Containers", res.Containers}, {"Networks", res.Networks}, {"Volumes", res.Volumes}, {"Images", res.Images}} {
					if len(part.ids) == 0 {
						continue
					}
					fmt.Println("Deleted " + part.what + ":")
					for _, id := range part.ids {
						if part.what == "Images" {
							fmt.Println("deleted: " + id)
						} else {
							fmt.Println(id)
						}
					}
					fmt.Println()
				}
				printPruned("", nil, res.SpaceReclaimed)
				return err
			})
		},
	}
}

// systemPruneWarning is Docker's list of what will go.
func systemPruneWarning(all, volumes bool) string {
	var b strings.Builder
	b.WriteString("WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n")
	if volumes {
		b.WriteString("  - all anonymous volumes not used by at least one container\n")
	}
	if all {
		b.WriteString("  - all images without at least one container associated to them\n")
	} else {
		b.WriteString("  - all dangling images\n")
	}
	b.WriteString("\nAre you sure you want to continue? [y/N] ")
	return b.String()
}
