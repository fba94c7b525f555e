package main

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// create and run flags, by concern. Each group has its own parse function
// filling engine.ContainerCreateOptions.

func processFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "assign a name to the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables (KEY=VALUE, or KEY to copy)"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "read environment variables from a file"},
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
		&cli.IntFlag{Name: "stop-timeout", Value: -1, Usage: "timeout (in seconds) to stop a container (default 10)"},
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: "pull image before running (always, missing, never)"},
		&cli.StringFlag{Name: "cidfile", Usage: "write the container ID to the file"},
		&cli.BoolFlag{Name: "rm", Usage: "automatically remove the container when it exits"},
	}
}

func parseProcessFlags(c *cli.Context, o *engine.ContainerCreateOptions) {
	o.Name = c.String("name")
	o.Env = c.StringSlice("env")
	o.EnvFiles = c.StringSlice("env-file")
	o.Workdir = c.String("workdir")
	o.User = c.String("user")
	o.GroupAdd = c.StringSlice("group-add")
	o.Entrypoint, o.EntrypointSet = c.String("entrypoint"), c.IsSet("entrypoint")
	o.Labels = c.StringSlice("label")
	o.Hostname = c.String("hostname")
	o.Tty = c.Bool("tty")
	o.Interactive = c.Bool("interactive")
	o.Init = c.Bool("init")
	o.StopSignal = c.String("stop-signal")
	o.StopTimeout = c.Int("stop-timeout")
	o.Pull = c.String("pull")
	o.CIDFile = c.String("cidfile")
	o.AutoRemove = c.Bool("rm")
}

func mountFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount a volume (/host:/container[:ro])"},
		&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs directory (/path[:options])"},
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem as read only"},
	}
}

func parseMountFlags(c *cli.Context, o *engine.ContainerCreateOptions) {
	o.Volumes = c.StringSlice("volume")
	o.Tmpfs = c.StringSlice("tmpfs")
	o.ReadOnly = c.Bool("read-only")
}

func securityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to this container"},
		&cli.StringSliceFlag{Name: "cap-add", Usage: "add Linux capabilities"},
		&cli.StringSliceFlag{Name: "cap-drop", Usage: "drop Linux capabilities"},
		&cli.StringSliceFlag{Name: "security-opt", Usage: "security options (no-new-privileges, seccomp=unconfined|profile.json)"},
	}
}

func parseSecurityFlags(c *cli.Context, o *engine.ContainerCreateOptions) {
	o.Privileged = c.Bool("privileged")
	o.CapAdd = c.StringSlice("cap-add")
	o.CapDrop = c.StringSlice("cap-drop")
	o.SecurityOpt = c.StringSlice("security-opt")
}

func resourceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit (e.g. 512m)"},
		&cli.StringFlag{Name: "cpus", Usage: "number of CPUs"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "tune container pids limit (-1 for unlimited)"},
		&cli.StringSliceFlag{Name: "ulimit", Usage: "ulimit options (nofile=1024:2048)"},
	}
}

func parseResourceFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	o.Memory = c.String("memory")
	if s := c.String("cpus"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 {
			return fmt.Errorf("invalid --cpus %q: use a positive number such as 1.5", s)
		}
		o.CPUs = f
	}
	o.PidsLimit = c.Int64("pids-limit")
	o.Ulimits = c.StringSlice("ulimit")
	return nil
}

func networkFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Usage: "connect a container to a network (none, host)"},
	}
}

func parseNetworkFlags(c *cli.Context, o *engine.ContainerCreateOptions) {
	o.Network = c.String("network")
}

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-driver", Usage: "logging driver (json-file, k8s-file, none, passthrough)"},
		&cli.StringSliceFlag{Name: "log-opt", Usage: "log driver options (max-size=10m, max-file=3)"},
	}
}

func parseLogFlags(c *cli.Context, o *engine.ContainerCreateOptions) {
	o.LogDriver = c.String("log-driver")
	o.LogOpts = c.StringSlice("log-opt")
}

func createFlags() []cli.Flag {
	var fs []cli.Flag
	for _, group := range [][]cli.Flag{processFlags(), mountFlags(), securityFlags(), resourceFlags(), networkFlags(), logFlags(), extraFlags()} {
		fs = append(fs, group...)
	}
	return fs
}

// createOptions reads every create/run flag plus IMAGE [COMMAND [ARG...]].
func createOptions(c *cli.Context) (engine.ContainerCreateOptions, error) {
	var o engine.ContainerCreateOptions
	if c.NArg() < 1 {
		return o, fmt.Errorf("%q requires at least 1 argument: see 'skiff %s --help'", c.Command.FullName(), c.Command.FullName())
	}
	o.Image = c.Args().First()
	o.Command = c.Args().Tail()
	parseProcessFlags(c, &o)
	parseMountFlags(c, &o)
	parseSecurityFlags(c, &o)
	parseNetworkFlags(c, &o)
	parseLogFlags(c, &o)
	parseExtraFlags(c, &o)
	if err := parseResourceFlags(c, &o); err != nil {
		return o, err
	}
	return o, nil
}
