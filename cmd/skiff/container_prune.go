package main

import (
	"context"
	"fmt"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

func containerPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove all stopped containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "filter by key=value: until, label, label!"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if !c.Bool("force") && !confirm("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ") {
				return nil
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ContainerPrune(ctx, engine.ContainerPruneOptions{Filters: c.StringSlice("filter")})
				if err != nil && len(res.Removed) == 0 {
					return err // a bad filter: one line, no summary
				}
				printPruned("Containers", res.Removed, res.SpaceReclaimed)
				return err
			})
		},
	}
}

// printPruned is Docker's prune summary: "Deleted Containers:" (what) and
// the names, then the space freed.
func printPruned(what string, removed []string, reclaimed int64) {
	if len(removed) > 0 {
		fmt.Println("Deleted " + what + ":")
		for _, n := range removed {
			fmt.Println(n)
		}
		fmt.Println()
	}
	fmt.Println("Total reclaimed space:", units.HumanSize(float64(reclaimed)))
}

func containerExistsCommand() *cli.Command {
	return &cli.Command{
		Name:      "exists",
		Usage:     "exit 0 if the container exists, 1 if not (podman)",
		ArgsUsage: "CONTAINER",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ContainerExists(ctx, c.Args().First(), engine.ContainerExistsOptions{})
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
