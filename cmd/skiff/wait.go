package main

import (
	"context"
	"fmt"
	"os"
	"time"

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
					code, err := waitFor(ctx, e, ref, cond)
					if err != nil {
						fmt.Fprintf(os.Stderr, "Error: %s\n", oneLine(err))
						failed = &silentError{code: exitEngine}
						continue
					}
					fmt.Println(code)
				}
				return failed
			})
		},
	}
}

// waitPoll is how often wait looks for a start or a removal, which the
// engine does not announce.
const waitPoll = 100 * time.Millisecond

// waitFor is docker's wait conditions on top of the engine's wait for an
// exit: next-exit first waits for a run that started after the call (a
// running container's current run counts), removed waits for the record to
// go after the exit.
func waitFor(ctx context.Context, e *engine.Engine, ref, cond string) (int, error) {
	info, err := e.ContainerInspect(ctx, ref, engine.ContainerInspectOptions{})
	if err != nil {
		return 0, err
	}
	if cond == "next-exit" && !info.State.Running {
		for {
			now, err := e.ContainerInspect(ctx, info.ID, engine.ContainerInspectOptions{})
			if err != nil {
				return 0, err
			}
			if now.State.Running || now.State.StartedAt != info.State.StartedAt {
				break
			}
			if err := sleepCtx(ctx, waitPoll); err != nil {
				return 0, err
			}
		}
	}
	code, err := e.ContainerWait(ctx, info.ID)
	if err != nil || cond != "removed" {
		return code, err
	}
	for {
		ok, err := e.ContainerExists(ctx, info.ID)
		if err != nil || !ok {
			return code, err
		}
		if err := sleepCtx(ctx, waitPoll); err != nil {
			return 0, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
