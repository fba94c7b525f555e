package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Process flags: the command, its user, directory, terminal, stop signal
// and timeout, the labels; IMAGE [COMMAND [ARG...]] are the arguments.
// Merging them with the image's (Docker's ENTRYPOINT/CMD rules) is the
// engine's; their validity (an absolute working directory, a known signal)
// is runtime's.

func processFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "assign a name to the container"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: <name|uid>[:<group|gid>])"},
		&cli.StringSliceFlag{Name: "group-add", Usage: "additional groups to join"},
		&cli.StringFlag{Name: "entrypoint", Usage: "overwrite the default ENTRYPOINT of the image"},
		&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set metadata on the container (key=value)"},
		&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "container host name"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
		&cli.BoolFlag{Name: "init", Usage: "run an init inside the container that forwards signals and reaps processes"},
		&cli.StringFlag{Name: "stop-signal", Usage: "signal to stop the container (default SIGTERM)"},
		&cli.IntFlag{Name: "stop-timeout", Usage: "timeout (in seconds) to stop a container (default 10)"},
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: "pull image before running (always, missing, never)"},
		cidfileFlag,
		&cli.BoolFlag{Name: "rm", Usage: "automatically remove the container when it exits"},
	}
}

func parseProcessFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	o.Image = c.Args().First()
	o.Cmd = c.Args().Tail()
	o.Name = c.String("name")
	o.WorkingDir = c.String("workdir")
	o.User = c.String("user")
	o.GroupAdd = c.StringSlice("group-add")
	o.Entrypoint, o.EntrypointSet = entrypoint(c.String("entrypoint"), isSet(c, "entrypoint"))
	o.Hostname = c.String("hostname")
	o.Tty = c.Bool("tty")
	o.OpenStdin = c.Bool("interactive")
	o.Init = c.Bool("init")
	o.StopSignal = c.String("stop-signal")
	if isSet(c, "stop-timeout") {
		t := c.Int("stop-timeout")
		o.StopTimeout = &t
	}
	o.Pull = c.String("pull")
	o.AutoRemove = c.Bool("rm")
	var err error
	o.Labels, err = parseLabels(c.StringSlice("label"))
	return err
}

// entrypoint is --entrypoint as Docker takes it: one program, not split;
// given as "" it clears the image's.
func entrypoint(v string, set bool) ([]string, bool) {
	if !set || v == "" {
		return nil, set
	}
	return []string{v}, true
}

// parseLabels reads --label KEY=VALUE (KEY alone: an empty value).
func parseLabels(labels []string) (map[string]string, error) {
	if len(labels) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --label %q: use key=value", l)
		}
		out[k] = v
	}
	return out, nil
}
