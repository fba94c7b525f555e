package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

func topCommand() *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "display the running processes of a container",
		ArgsUsage: "CONTAINER [ps OPTIONS]",
		// Everything after the container is for ps, dashes included.
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
				return cli.ShowSubcommandHelp(c)
			}
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ContainerTop(ctx, args[0], engine.ContainerTopOptions{PsArgs: args[1:]})
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(os.Stdout, 20, 1, 3, ' ', 0)
				fmt.Fprintln(w, strings.Join(res.Titles, "\t"))
				for _, p := range res.Processes {
					fmt.Fprintln(w, strings.Join(p, "\t"))
				}
				return w.Flush()
			})
		},
	}
}

func pauseCommand() *cli.Command {
	return eachContainerCommand("pause", "pause all processes within one or more containers", runningOnly, func(e *engine.Engine, ctx context.Context, ref string) error {
		_, err := e.ContainerPause(ctx, ref, engine.ContainerPauseOptions{})
		return err
	})
}

func unpauseCommand() *cli.Command {
	return eachContainerCommand("unpause", "unpause all processes within one or more containers", pausedOnly, func(e *engine.Engine, ctx context.Context, ref string) error {
		_, err := e.ContainerUnpause(ctx, ref, engine.ContainerPauseOptions{})
		return err
	})
}

// eachContainerCommand is a command whose only flag is --all that applies
// op to every container named (or, with --all, every one sel accepts).
func eachContainerCommand(name, usage string, sel selection, op func(*engine.Engine, context.Context, string) error) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     targetFlags(name, false),
		Action: func(c *cli.Context) error {
			return perContainer(c, sel, func(ctx context.Context, e *engine.Engine, ref string) error { return op(e, ctx, ref) })
		},
	}
}

func portCommand() *cli.Command {
	return &cli.Command{
		Name:      "port",
		Usage:     "list port mappings or a specific mapping for the container",
		ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 2); err != nil {
				return err
			}
			port, proto := 0, ""
			if c.NArg() == 2 {
				var err error
				if port, proto, err = engine.ParsePortProto(c.Args().Get(1)); err != nil {
					return err
				}
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				ref := c.Args().First()
				res, err := e.ContainerPorts(ctx, ref, engine.ContainerPortsOptions{})
				ports := res.Ports
				if err != nil {
					return err
				}
				found := false
				for _, p := range ports {
					if port == 0 {
						fmt.Println(p)
					} else if p.ContainerPort == port && p.Proto == proto {
						fmt.Println(p.HostAddr())
						found = true
					}
				}
				if port != 0 && !found {
					// Docker's words and its exit code 1.
					fmt.Fprintf(os.Stderr, "Error: No public port '%d/%s' published for %s\n", port, proto, ref)
					return &silentError{code: 1}
				}
				return nil
			})
		},
	}
}
