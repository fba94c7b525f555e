package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/userns"
)

func systemGroup() *cli.Command {
	return &cli.Command{
		Name:  "system",
		Usage: "manage skiff itself",
		Subcommands: []*cli.Command{
			systemDfCommand(), eventsCommand(),
			systemBootCommand(), systemServiceCommand(), systemCheckCommand(), systemPruneCommand(), systemResetCommand(),
			{
				Name:  "migrate",
				Usage: "restart the rootless namespace (after changing /etc/subuid or upgrading)",
				Action: func(c *cli.Context) error {
					if err := requireArgs(c, 0, 0); err != nil {
						return err
					}
					return userns.Migrate(os.Stderr)
				},
			},
		},
	}
}

func unshareCommand() *cli.Command {
	return &cli.Command{
		Name:            "unshare",
		Usage:           "run a command in skiff's rootless user and mount namespace",
		ArgsUsage:       "[COMMAND [ARG...]]",
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			return userns.Unshare(c.Args().Slice(), os.Environ())
		},
	}
}
