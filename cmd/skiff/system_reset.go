package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/userns"
)

// `skiff system reset [-f]` (podman's): everything this user's skiff owns
// goes, a damaged store or database included.
func systemResetCommand() *cli.Command {
	return &cli.Command{
		Name:  "reset",
		Usage: "remove every container, image, volume and network, and skiff's records: start over",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 0); err != nil {
				return err
			}
			if !c.Bool("force") && !confirm("WARNING! This will remove all containers (running ones killed), images, volumes and networks,\n"+
				"and skiff's records, in the graph root and the run root.\nAre you sure you want to continue? [y/N] ") {
				return nil
			}
			err := withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				_, err := e.SystemReset(ctx, engine.SystemResetOptions{})
				return err
			})
			if err != nil {
				return err
			}
			if userns.Rootless() {
				// A fresh namespace for the next command.
				if err := userns.Migrate(io.Discard); err != nil {
					return fmt.Errorf("stopping the rootless namespace: %w", err)
				}
			}
			return nil
		},
	}
}
