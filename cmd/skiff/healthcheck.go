package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/runtime"
)

// `skiff healthcheck run CTR` (podman's): the container's check now,
// recorded by its monitor like a scheduled one. Exit 0 healthy, 1 not.
func healthcheckGroup() *cli.Command {
	return &cli.Command{
		Name:  "healthcheck",
		Usage: "run a container's healthcheck",
		Subcommands: []*cli.Command{{
			Name:      "run",
			Usage:     "run the container's healthcheck now: exit 0 when healthy, 1 when not",
			ArgsUsage: "CONTAINER",
			Action: func(c *cli.Context) error {
				if err := requireArgs(c, 1, 1); err != nil {
					return err
				}
				return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
					res, err := e.ContainerHealthcheck(ctx, c.Args().First(), engine.ContainerHealthcheckOptions{})
					if err != nil {
						return err
					}
					if res.Status == runtime.HealthHealthy {
						fmt.Println("healthy")
						return nil
					}
					fmt.Println("unhealthy")
					return &silentError{code: 1}
				})
			},
		}},
	}
}
