package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

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
			if os.Getenv(execStreamEnv) == "1" {
				return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
					return execStreams(ctx, e, c.Args().First(), o)
				})
			}
			var cmd engine.ContainerExecCommandResult
			err = withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				var err error
				cmd, err = e.ContainerExecCommand(ctx, c.Args().First(), o)
				return err
			})
			if err != nil {
				return err
			}
			// The fast path: replace skiff with the monitor, which relays our
			// stdio to the process and exits with its status.
			return syscall.Exec(cmd.Path, cmd.Args, os.Environ())
		},
	}
}

// execStreamEnv set to 1 makes exec run through the engine's stream form
// (skiff stays between the terminal and the monitor) instead of replacing
// itself with the monitor: what an API server does, for debugging and for
// the tests of that path. Output and exit codes are the same.
const execStreamEnv = "SKIFF_EXEC_STREAM"

// execStreams runs an exec with our stdio as its streams.
func execStreams(ctx context.Context, e *engine.Engine, ref string, o engine.ContainerExecOptions) error {
	o.Stdout, o.Stderr = os.Stdout, os.Stderr
	if o.Interactive {
		o.Stdin = os.Stdin
	}
	if o.Tty && o.Interactive {
		restore, size, resize := rawTerminal()
		defer restore()
		o.Size, o.Resize = size, resize
	} else if o.Tty {
		o.Size = terminalSize()
	}
	// Ctrl-C and Ctrl-\ reach the process from the terminal (it is in our
	// process group); SIGTERM and SIGHUP to us are passed on. Both stay
	// caught until the exit, as a run's (proxiedSignals).
	signal.Notify(make(chan os.Signal, 1), unix.SIGINT, unix.SIGQUIT)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP)
	o.Signals = sigs
	res, err := e.ContainerExec(ctx, ref, o)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &silentError{code: res.ExitCode}
	}
	return nil
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
					_, err := e.ContainerLogs(ctx, c.Args().First(), o)
					return err
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
