package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// `skiff system check [--repair] [--force] [--quick]` (podman's): what is
// damaged in skiff's records and store, and with --repair the fix.
func systemCheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "check skiff's records and store for damage, and with --repair fix it",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "repair", Aliases: []string{"r"}, Usage: "fix what was found (remove damaged layers, images and containers, release what dead containers hold)"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "with --repair: also remove running containers whose root filesystem is damaged"},
			&cli.BoolFlag{Name: "quick", Aliases: []string{"q"}, Usage: "skip checking the layers' content digests (faster)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if c.Bool("force") && !c.Bool("repair") {
				return fmt.Errorf("--force goes with --repair: %w", errdefs.ErrInvalidArgument)
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.SystemCheck(ctx, engine.SystemCheckOptions{Repair: c.Bool("repair"), Force: c.Bool("force"), Quick: c.Bool("quick")})
				if len(res.Findings) > 0 {
					w := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
					fmt.Fprintln(w, "KIND\tSUBJECT\tPROBLEM\tREPAIRED")
					for _, f := range res.Findings {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", f.Kind, f.Subject, f.Problem, yesNo(f.Repaired))
					}
					w.Flush()
				}
				if err != nil {
					return err
				}
				if n := res.Unrepaired(); n > 0 {
					if c.Bool("repair") {
						return fmt.Errorf("%d problems remain after the repair (see above): %w", n, errdefs.ErrFailedPrecondition)
					}
					return fmt.Errorf("%d problems found: run skiff system check --repair: %w", n, errdefs.ErrFailedPrecondition)
				}
				if len(res.Findings) == 0 {
					fmt.Println("No problems found")
				}
				return nil
			})
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
