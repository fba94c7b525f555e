package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine"
)

func containerCommands() []*cli.Command {
	return []*cli.Command{
		runCommand(), createCommand(), startCommand(), stopCommand(), killCommand(), restartCommand(),
		rmCommand("rm"), psCommand("ps"), logsCommand(), waitCommand(), attachCommand(), execCommand(), renameCommand(),
		topCommand(), pauseCommand(), unpauseCommand(), portCommand(), cpCommand(),
		diffCommand(), exportCommand(), commitCommand(), statsCommand(), updateCommand(),
	}
}

func containerGroup() *cli.Command {
	return &cli.Command{
		Name:  "container",
		Usage: "manage containers",
		Subcommands: []*cli.Command{
			runCommand(), createCommand(), startCommand(), stopCommand(), killCommand(), restartCommand(),
			rmCommand("rm"), psCommand("ls", "list", "ps"), logsCommand(), waitCommand(), attachCommand(), execCommand(),
			renameCommand(), containerInspectCommand(), containerPruneCommand(), containerExistsCommand(), cleanupCommand(),
			topCommand(), pauseCommand(), unpauseCommand(), portCommand(), cpCommand(),
			diffCommand(), exportCommand(), commitCommand(), statsCommand(), updateCommand(), containerMountCommand(), containerUnmountCommand(),
		},
	}
}

// notifySocketEnv is systemd's socket for a unit's readiness (sd_notify(3)),
// which a start passes to the container's monitor.
const notifySocketEnv = "NOTIFY_SOCKET"

var detachKeysFlag = &cli.StringFlag{Name: "detach-keys", Value: engine.DefaultDetachKeys, Usage: "key sequence for detaching"}

func runCommand() *cli.Command {
	flags := append(createFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run in the background and print the container ID"},
		&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "proxy received signals to the container (non-TTY)"},
		detachKeysFlag, attachFlag,
	)
	return &cli.Command{
		Name:                   "run",
		Usage:                  "create and run a new container from an image",
		ArgsUsage:              "IMAGE [COMMAND] [ARG...]",
		Flags:                  flags,
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			o, err := createOptions(c)
			if err != nil {
				return err
			}
			keys, err := detachKeys(c)
			if err != nil {
				return err
			}
			streams, err := attachStreams(c)
			if err != nil {
				return err
			}
			if streams["stdin"] {
				o.OpenStdin = true
			}
			if o.Tty && o.OpenStdin && !isTerminal(os.Stdin) {
				return fmt.Errorf("the input device is not a TTY: drop -t, or run from a terminal")
			}
			if c.Bool("detach") && o.LogConfig.Type == "passthrough" {
				return fmt.Errorf("--log-driver passthrough hands the container your stdio, which -d gives up: drop -d or choose another log driver")
			}
			o.PullProgress = os.Stderr
			o.CreateCommand = os.Args
			cid, err := openCIDFile(c.String("cidfile"))
			if err != nil {
				return err
			}
			defer cid.discard()
			restore := func() {}
			defer func() { restore() }()
			ro := engine.ContainerRunOptions{Create: o, Detach: c.Bool("detach"), NotifySocket: os.Getenv(notifySocketEnv)}
			var sigReady <-chan struct{} // signals caught from here on (signalsToProxy)
			ro.Created = func(id string, aio *engine.AttachIO) error {
				if sigReady != nil {
					<-sigReady // before the start: a shell's ^C reaches the container
				}
				if err := cid.write(id); err != nil {
					return err
				}
				if aio != nil && o.Tty {
					restore, aio.Size, aio.Resize = rawTerminal()
					if o.OpenStdin {
						aio.DetachKeys = keys
					}
				}
				return nil
			}
			if !ro.Detach {
				ro.IO = runStreams(o, streams)
				if !o.Tty && c.Bool("sig-proxy") {
					ro.Signals, sigReady = signalsToProxy()
				}
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := e.ContainerRun(ctx, ro)
				if err != nil {
					return err
				}
				switch {
				case ro.Detach:
					fmt.Println(res.ID)
				case res.ExitCode != 0 && !res.Detached:
					return &silentError{code: res.ExitCode}
				}
				return nil
			})
		},
	}
}

// runStreams are a foreground run's streams: the caller's stdio, only the
// streams of -a when given.
func runStreams(o engine.ContainerCreateOptions, streams map[string]bool) engine.AttachIO {
	aio := engine.AttachIO{Stdout: os.Stdout, Stderr: os.Stderr}
	if o.OpenStdin && (streams == nil || streams["stdin"]) {
		aio.Stdin = os.Stdin
	}
	if streams != nil && !streams["stdout"] {
		aio.Stdout = io.Discard
	}
	if streams != nil && !streams["stderr"] {
		aio.Stderr = io.Discard
	}
	return aio
}

// signalsToProxy are the signals a shell sends, for the container. They
// are caught once ready is closed: a process's first signal.Notify waits
// for the Go runtime to start a thread for its signal mask (~0.2 ms), which
// here overlaps the container's creation; the run waits for ready before
// the start (ContainerRunOptions.Created). They stay caught until the
// process exits (see proxySignals).
func signalsToProxy() (sigs <-chan unix.Signal, ready <-chan struct{}) {
	ch := make(chan os.Signal, 8)
	out := make(chan unix.Signal, 8)
	caught := make(chan struct{})
	go func() {
		signal.Notify(ch, proxiedSignals...)
		close(caught)
		for s := range ch {
			out <- s.(unix.Signal)
		}
	}()
	return out, caught
}

// proxiedSignals are the signals a foreground run, start -a and attach
// pass on to the container.
//
// They are never given back (signal.Stop) before the exit: a stop is a
// round trip to the Go runtime's signal-mask thread for each signal, 0.4
// to 1.2 ms for these six on a busy 2-core host, measured on the way out
// of every run --rm; and one that arrives after the container has ended
// would then kill us, with its own exit code in place of the container's.
var proxiedSignals = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// proxySignals forwards the signals a shell sends to the container, until
// the process exits (proxiedSignals).
func proxySignals(ctx context.Context, e *engine.Engine, id string) {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, proxiedSignals...)
	go func() {
		for s := range ch {
			e.ContainerKill(ctx, id, engine.ContainerKillOptions{Signal: fmt.Sprint(int(s.(unix.Signal)))})
		}
	}()
}

func createCommand() *cli.Command {
	return &cli.Command{
		Name:                   "create",
		Usage:                  "create a new container",
		ArgsUsage:              "IMAGE [COMMAND] [ARG...]",
		Flags:                  createFlags(),
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			o, err := createOptions(c)
			if err != nil {
				return err
			}
			o.PullProgress = os.Stderr
			o.CreateCommand = os.Args
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				res, err := createContainer(ctx, e, c, o)
				if err != nil {
					return err
				}
				fmt.Println(res.ID)
				return nil
			})
		},
	}
}

// createContainer is the engine's create with --cidfile around it: the
// file is claimed first and gets the ID; a failure leaves neither.
func createContainer(ctx context.Context, e *engine.Engine, c *cli.Context, o engine.ContainerCreateOptions) (engine.ContainerCreateResult, error) {
	cid, err := openCIDFile(c.String("cidfile"))
	if err != nil {
		return engine.ContainerCreateResult{}, err
	}
	res, err := e.ContainerCreate(ctx, o)
	if err != nil {
		cid.discard()
		return res, err
	}
	if err := cid.write(res.ID); err != nil {
		e.ContainerRemove(context.WithoutCancel(ctx), res.ID, engine.ContainerRemoveOptions{Force: true})
		return engine.ContainerCreateResult{}, err
	}
	return res, nil
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start one or more stopped containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: append([]cli.Flag{
			// docker's -a is --attach; podman's --all has no short form here.
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach STDOUT/STDERR and forward signals"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach the container's STDIN"},
			&cli.BoolFlag{Name: "all", Usage: allFlagUsage["start"]},
			detachKeysFlag,
		}, targetFlags("start", true)[1:]...),
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			if err := checkTargets(c); err != nil {
				return err
			}
			if _, err := detachKeys(c); err != nil {
				return err
			}
			attach := c.Bool("attach") || c.Bool("interactive")
			if attach && (c.NArg() > 1 || selecting(c)) {
				return fmt.Errorf("you cannot start and attach multiple containers at once")
			}
			if attach {
				return withEngine(c, func(ctx context.Context, e *engine.Engine) error { return startAttached(ctx, e, c) })
			}
			return perContainer(c, notRunning, func(ctx context.Context, e *engine.Engine, ref string) error {
				_, err := e.ContainerStart(ctx, ref, engine.ContainerStartOptions{NotifySocket: os.Getenv(notifySocketEnv)})
				return err
			})
		},
	}
}

func startAttached(ctx context.Context, e *engine.Engine, c *cli.Context) error {
	ref := c.Args().First()
	ir, err := e.ContainerInspect(ctx, ref, engine.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	info := ir.Container
	keys, _ := detachKeys(c) // checked by the start command
	aio := &engine.AttachIO{Stdout: os.Stdout, Stderr: os.Stderr, CleanupOwner: true}
	if c.Bool("interactive") {
		aio.Stdin = os.Stdin
	}
	if info.Config.Tty {
		restore, size, resize := rawTerminal()
		defer restore()
		aio.Size, aio.Resize, aio.DetachKeys = size, resize, keys
	} else {
		proxySignals(ctx, e, info.ID)
	}
	res, err := e.ContainerStart(ctx, info.ID, engine.ContainerStartOptions{Attach: aio, NotifySocket: os.Getenv(notifySocketEnv)})
	if res.Detached {
		return nil
	}
	e.ContainerCleanup(context.WithoutCancel(ctx), info.ID, engine.ContainerCleanupOptions{})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &silentError{code: res.ExitCode}
	}
	return nil
}

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: append(targetFlags("stop", true), timeFlag("timeout"),
			&cli.BoolFlag{Name: "ignore", Aliases: []string{"i"}, Usage: "ignore errors when a container does not exist (podman)"},
			cidfileTargetFlag),
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			t, err := stopTime(c)
			if err != nil {
				return err
			}
			return perContainer(c, runningOnly, func(ctx context.Context, e *engine.Engine, ref string) error {
				_, err := e.ContainerStop(ctx, ref, engine.ContainerStopOptions{Timeout: t})
				if err != nil && c.Bool("ignore") && isNotFound(err) {
					return nil
				}
				return err
			})
		},
	}
}

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:                   "restart",
		Usage:                  "restart one or more containers",
		ArgsUsage:              "CONTAINER [CONTAINER...]",
		Flags:                  append(targetFlags("restart", false), timeFlag()),
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			t, err := stopTime(c)
			if err != nil {
				return err
			}
			return perContainer(c, anyContainer, func(ctx context.Context, e *engine.Engine, ref string) error {
				_, err := e.ContainerRestart(ctx, ref, engine.ContainerRestartOptions{Timeout: t})
				return err
			})
		},
	}
}

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "kill one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: append(targetFlags("kill", false),
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "signal to send to the container"}),
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			return perContainer(c, runningOnly, func(ctx context.Context, e *engine.Engine, ref string) error {
				_, err := e.ContainerKill(ctx, ref, engine.ContainerKillOptions{Signal: c.String("signal")})
				return err
			})
		},
	}
}

func rmCommand(name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     "remove one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: append(targetFlags("rm", true),
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the removal of a running container (uses SIGKILL)"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove anonymous volumes associated with the container"},
			&cli.BoolFlag{Name: "ignore", Aliases: []string{"i"}, Usage: "ignore errors when a container does not exist (podman)"},
			timeFlag(), cidfileTargetFlag,
		),
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			t, err := stopTime(c)
			if err != nil {
				return err
			}
			return perContainer(c, anyContainer, func(ctx context.Context, e *engine.Engine, ref string) error {
				err := removeContainer(ctx, e, ref, engine.ContainerRemoveOptions{Force: c.Bool("force"), Volumes: c.Bool("volumes")}, t)
				if err != nil && c.Bool("ignore") && isNotFound(err) {
					return nil
				}
				return err
			})
		},
	}
}

// removeContainer is rm of one container; with --force and --time (podman)
// a running one is stopped politely first.
func removeContainer(ctx context.Context, e *engine.Engine, ref string, o engine.ContainerRemoveOptions, time int) error {
	if o.Force && time >= 0 {
		if _, err := e.ContainerStop(ctx, ref, engine.ContainerStopOptions{Timeout: time}); err != nil {
			return err
		}
	}
	_, err := e.ContainerRemove(ctx, ref, o)
	return err
}

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "attach local standard input, output, and error streams to a running container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stdin", Usage: "do not attach STDIN"},
			&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "proxy all received signals to the process"},
			detachKeysFlag,
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			keys, err := detachKeys(c)
			if err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				ir, err := e.ContainerInspect(ctx, c.Args().First(), engine.ContainerInspectOptions{})
				if err != nil {
					return err
				}
				info := ir.Container
				if !info.State.Running {
					return fmt.Errorf("you cannot attach to a stopped container, start it first")
				}
				aio := &engine.AttachIO{Stdout: os.Stdout, Stderr: os.Stderr, DetachKeys: keys}
				if !c.Bool("no-stdin") && info.Config.OpenStdin {
					aio.Stdin = os.Stdin
				}
				if info.Config.Tty {
					restore, size, resize := rawTerminal()
					defer restore()
					aio.Size, aio.Resize = size, resize
				} else if c.Bool("sig-proxy") {
					proxySignals(ctx, e, info.ID)
				}
				res, err := e.ContainerAttach(ctx, info.ID, engine.ContainerAttachOptions{IO: *aio})
				if err != nil || res.Detached {
					return err
				}
				if res.ExitCode != 0 {
					return &silentError{code: res.ExitCode}
				}
				return nil
			})
		},
	}
}

func renameCommand() *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "rename a container",
		ArgsUsage: "CONTAINER NEW_NAME",
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 2, 2); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				_, err := e.ContainerRename(ctx, c.Args().Get(0), engine.ContainerRenameOptions{Name: c.Args().Get(1)})
				return err
			})
		},
	}
}

func cleanupCommand() *cli.Command {
	return &cli.Command{
		Name:      "cleanup",
		Usage:     "release a stopped container's mounts (run by its monitor)",
		ArgsUsage: "CONTAINER",
		Hidden:    true,
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 1, 1); err != nil {
				return err
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				_, err := e.ContainerCleanup(ctx, c.Args().First(), engine.ContainerCleanupOptions{})
				return err
			})
		},
	}
}
