package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "block until containers stop, then print their exit codes",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "condition", Value: "not-running", Usage: "not-running, next-exit or removed"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			cond := c.String("condition")
			switch cond {
			case "not-running", "next-exit", "removed":
			default:
				return fmt.Errorf("invalid --condition %q: use not-running, next-exit or removed", cond)
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				var failed error
				for _, ref := range c.Args().Slice() {
					res, err := e.ContainerWait(ctx, ref, engine.ContainerWaitOptions{Condition: cond})
					if err != nil {
						fmt.Fprintf(os.Stderr, "Error: %s\n", oneLine(err))
						failed = &silentError{code: exitEngine}
						continue
					}
					fmt.Println(res.ExitCode)
				}
				return failed
			})
		},
	}
}
