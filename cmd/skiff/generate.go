package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

func generateGroup() *cli.Command {
	return &cli.Command{
		Name:        "generate",
		Usage:       "generate files that run skiff's containers elsewhere (podman)",
		Subcommands: []*cli.Command{generateSystemdCommand()},
	}
}

func generateSystemdCommand() *cli.Command {
	return &cli.Command{
		Name:      "systemd",
		Usage:     "print (or with --files write) a systemd unit that runs a container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "new", Usage: "create the container from its create command on start, remove it on stop"},
			&cli.BoolFlag{Name: "name", Aliases: []string{"n"}, Usage: "name the container by its name, not its ID, in the unit"},
			&cli.StringFlag{Name: "restart-policy", Value: "on-failure", Usage: "systemd's Restart=: " + strings.Join(engine.SystemdRestartPolicies, ", ")},
			&cli.UintFlag{Name: "restart-sec", Usage: "systemd's RestartSec=, seconds (default: systemd's)"},
			&cli.IntFlag{Name: "time", Aliases: []string{"t", "stop-timeout"}, Value: -1, Usage: "seconds stop waits before killing the container (default: its stop timeout)"},
			&cli.BoolFlag{Name: "files", Aliases: []string{"f"}, Usage: "write the unit to <prefix><separator><name>.service in the current directory and print its path"},
			&cli.StringFlag{Name: "container-prefix", Value: "container", Usage: "prefix of the unit's name"},
			&cli.StringFlag{Name: "separator", Value: "-", Usage: "between the prefix and the container's name or ID"},
			&cli.BoolFlag{Name: "no-header", Usage: "leave out the comment header"},
			&cli.StringSliceFlag{Name: "wants", Usage: "add a Wants= dependency (repeatable)"},
			&cli.StringSliceFlag{Name: "after", Usage: "add an After= dependency (repeatable)"},
			&cli.StringSliceFlag{Name: "requires", Usage: "add a Requires= dependency (repeatable)"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set NAME=value in the unit's environment (repeatable)"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			o, err := generateSystemdOptions(c)
			if err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.GenerateSystemd(ctx, c.Args().First(), o)
				if err != nil {
					return err
				}
				if !c.Bool("files") {
					fmt.Print(res.Unit)
					return nil
				}
				path, err := filepath.Abs(res.Name)
				if err == nil {
					err = os.WriteFile(path, []byte(res.Unit), 0o644)
				}
				if err != nil {
					return fmt.Errorf("writing the unit: %v", err)
				}
				fmt.Println(path)
				return nil
			})
		},
	}
}

func generateSystemdOptions(c *cli.Context) (engine.GenerateSystemdOptions, error) {
	o := engine.GenerateSystemdOptions{
		New: c.Bool("new"), UseName: c.Bool("name"), RestartPolicy: c.String("restart-policy"),
		RestartSec: c.Uint("restart-sec"), ContainerPrefix: c.String("container-prefix"),
		Separator: c.String("separator"), NoHeader: c.Bool("no-header"),
		Wants: c.StringSlice("wants"), After: c.StringSlice("after"), Requires: c.StringSlice("requires"),
		Env: c.StringSlice("env"), SplitCreateCommand: splitCreateCommand(c.App),
	}
	if c.IsSet("time") {
		t := c.Int("time")
		if t < 0 {
			return o, fmt.Errorf("invalid --time %d: use a number of seconds, 0 or more", t)
		}
		o.StopTimeout = &t
	}
	return o, nil
}

// unitFlags are run's flags that a --new unit sets itself, and --restart:
// the unit's Restart= restarts a --new container (a policy would conflict
// with its --rm).
var unitFlags = map[string]bool{"d": true, "detach": true, "rm": true, "replace": true, "cidfile": true, "sdnotify": true, "restart": true}

// splitCreateCommand takes a recorded `skiff [global flags] [container]
// run|create [flags] IMAGE [COMMAND...]` apart by this CLI's own flags
// (run's flags end at the image: what follows is the container's).
func splitCreateCommand(app *cli.App) func([]string) (engine.CreateCommandParts, error) {
	return func(argv []string) (engine.CreateCommandParts, error) {
		var p engine.CreateCommandParts
		rest := argv[min(1, len(argv)):]
		n := leadingFlags(app.Flags, rest)
		p.Global, rest = slices.Clone(rest[:n]), rest[n:]
		if len(rest) > 0 && rest[0] == "container" {
			rest = rest[1:]
		}
		if len(rest) == 0 || (rest[0] != "run" && rest[0] != "create") {
			return p, fmt.Errorf("%q is not a run or create command", strings.Join(argv, " "))
		}
		run := findCommand(app.Commands, "run")
		rest = rest[1:]
		n = leadingFlags(run.Flags, rest)
		flags := rest[:n]
		p.Args = slices.Clone(rest[n:])
		for i := 0; i < len(flags); {
			span := min(flagSpan(run.Flags, flags, i), len(flags)-i)
			words := slices.Clone(flags[i : i+span])
			i += span
			name, value, _ := strings.Cut(strings.TrimLeft(words[0], "-"), "=")
			if span == 2 {
				value = words[1]
			}
			switch {
			case name == "sdnotify":
				p.SdNotify = value
				continue
			case unitFlags[name]:
				continue
			case name == "name":
				p.Named = true
			case !strings.HasPrefix(words[0], "--") && len(name) > 1 && lookupFlag(run.Flags, name) == nil:
				// -dit: the cluster without d.
				if words[0] = strings.ReplaceAll(words[0], "d", ""); words[0] == "-" {
					continue
				}
			}
			p.Flags = append(p.Flags, words...)
		}
		return p, nil
	}
}
