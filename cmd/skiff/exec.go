package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command in a running container",
		ArgsUsage: "CONTAINER COMMAND [ARG...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the command in the background"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: <name|uid>[:<group|gid>])"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
			&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to the command"},
			detachKeysFlag,
		},
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 2, -1); err != nil {
				return err
			}
			if _, err := detachKeys(c); err != nil {
				return err
			}
			env, err := parseEnv(nil, c.StringSlice("env"), os.LookupEnv)
			if err != nil {
				return err
			}
			o := engine.ContainerExecOptions{Cmd: c.Args().Tail(), Env: env, User: c.String("user"),
				Workdir: c.String("workdir"), Tty: c.Bool("tty"), Interactive: c.Bool("interactive"),
				Detach: c.Bool("detach"), Privileged: c.Bool("privileged")}
			if o.Tty && o.Interactive && !isTerminal(os.Stdin) {
				return fmt.Errorf("the input device is not a TTY: drop -t, or run from a terminal")
			}
			var cmd engine.ExecCommand
			err = withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				var err error
				cmd, err = e.ContainerExec(ctx, c.Args().First(), o)
				return err
			})
			if err != nil {
				return err
			}
			if !o.Interactive {
				// The process gets no stdin, as with docker exec without -i.
				if null, err := os.Open(os.DevNull); err == nil {
					syscall.Dup2(int(null.Fd()), 0)
				}
			}
			// Replace skiff with the monitor: it runs the process with our
			// stdio and exits with its status.
			return syscall.Exec(cmd.Path, cmd.Args, os.Environ())
		},
	}
}

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "fetch the logs of one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of lines to show from the end of the logs"},
			&cli.StringFlag{Name: "since", Usage: "show logs since timestamp (2013-01-02T13:23:37Z) or relative (42m)"},
			&cli.StringFlag{Name: "until", Usage: "show logs before a timestamp or relative time"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show timestamps"},
		},
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, -1); err != nil {
				return err
			}
			o := engine.ContainerLogsOptions{Follow: c.Bool("follow"), Timestamps: c.Bool("timestamps"), Stdout: os.Stdout, Stderr: os.Stderr, Tail: -1}
			if t := c.String("tail"); t != "all" && t != "" {
				n, err := strconv.Atoi(t)
				if err != nil || n < 0 {
					return fmt.Errorf("invalid --tail %q: use a number or all", t)
				}
				o.Tail = n
			}
			var err error
			if o.Since, err = parseTime(c.String("since"), "since"); err != nil {
				return err
			}
			if o.Until, err = parseTime(c.String("until"), "until"); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				if c.NArg() == 1 {
					return e.ContainerLogs(ctx, c.Args().First(), o)
				}
				return logsOfSeveral(ctx, e, c.Args().Slice(), o)
			})
		},
	}
}

// parseTime reads docker's --since/--until: RFC 3339 (with or without
// zone), a date, a unix timestamp, or a duration before now (42m).
func parseTime(s, flag string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := engine.ParseTimestamp(s, time.Now()); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid --%s %q: use a timestamp (2006-01-02T15:04:05Z), a unix time, or a duration like 10m", flag, s)
}
