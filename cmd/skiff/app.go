package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/userns"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func newApp() *cli.App {
	// -h is run's --hostname, as in docker; help is --help only.
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}
	app := &cli.App{
		Name:                   "skiff",
		Usage:                  "run containers with no daemon and no root",
		Version:                version,
		UseShortOptionHandling: true,
		HideHelpCommand:        true,
		// docker never splits repeated flags on commas: -e A=1,2 and
		// --change 'CMD ["a","b"]' are one value each.
		DisableSliceFlagSeparator: true,
		Suggest:                   true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Usage: "graph root: images, layers, containers"},
			&cli.StringFlag{Name: "runroot", Usage: "run root: locks, sockets, state"},
			&cli.StringFlag{Name: "config", Usage: "skiff.toml to read instead of the defaults"},
			&cli.StringFlag{Name: "storage-driver", Usage: "overlay or vfs"},
			&cli.StringSliceFlag{Name: "storage-opt", Usage: "storage driver option"},
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "debug, info, warn, error"},
		},
		Commands:       commands(),
		ExitErrHandler: func(*cli.Context, error) {}, // main decides the exit code
		OnUsageError:   usageError,
		Before:         setLogLevel,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.ShowAppHelp(c)
			}
			return fmt.Errorf("unknown command %q for \"skiff\": see 'skiff --help'", c.Args().First())
		},
	}
	setUsageErrors(app.Commands)
	return app
}

func commands() []*cli.Command {
	var cmds []*cli.Command
	cmds = append(cmds, imageCommands()...)
	cmds = append(cmds, containerCommands()...)
	cmds = append(cmds, imageGroup(), containerGroup(), networkGroup(), volumeGroup(), systemGroup(), generateGroup(), healthcheckGroup(), eventsCommand(), unshareCommand(), loginCommand(), logoutCommand(), versionCommand(), infoCommand(),
		completionCommand(), completeCommand(), manCommand())
	return cmds
}

// usageError keeps flag mistakes to one line, exit 125, like docker.
func usageError(c *cli.Context, err error, _ bool) error {
	err = flagError(c.Command.Flags, err)
	if c.Lineage()[1] == nil { // the app itself
		return fmt.Errorf("%v: see 'skiff --help'", err)
	}
	return fmt.Errorf("%v: see 'skiff %s --help'", err, commandPath(c))
}

func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = usageError
		skipFlagActions(c)
		setUsageErrors(c.Subcommands)
	}
}

// skipFlagActions spares a command urfave/cli's search for flag Actions,
// which skiff's flags do not have: after parsing, urfave asks IsSet of
// every flag, and each unset one is a scan of all the command's flags with
// a regexp per name. For run's 250 flags that was 1.4 ms of every `skiff
// run`. While urfave looks (between the command's Before and its Action)
// the command lists only the flags that were set; its Action has them all
// back. A command with subcommands keeps its list: its Action is not
// where urfave goes next.
func skipFlagActions(c *cli.Command) {
	if len(c.Subcommands) > 0 || c.Before != nil || c.Action == nil {
		return
	}
	action := c.Action
	var all []cli.Flag
	c.Before = func(ctx *cli.Context) error {
		all = c.Flags
		c.Flags = setFlags(ctx, all)
		given.record(ctx, c.Flags)
		return nil
	}
	c.Action = func(ctx *cli.Context) error {
		if all != nil {
			c.Flags, all = all, nil
		}
		return action(ctx)
	}
}

// setFlags are the flags of fs that ctx's command line (or environment)
// set.
func setFlags(ctx *cli.Context, fs []cli.Flag) []cli.Flag {
	set := map[string]bool{}
	for _, n := range ctx.LocalFlagNames() {
		set[n] = true
	}
	var out []cli.Flag
	for _, f := range fs {
		for _, n := range f.Names() {
			if set[n] {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// givenFlags are, for the context of the command being run, the names of
// the flags its command line (or environment) set, which skipFlagActions
// finds anyway. isSet answers from them: urfave's IsSet of a flag that was
// not set scans every flag of the command (run's 250) and allocates their
// names, and a run's options ask a dozen such.
type givenFlags struct {
	ctx   *cli.Context
	names map[string]bool
}

var given givenFlags

func (g *givenFlags) record(ctx *cli.Context, set []cli.Flag) {
	g.ctx, g.names = ctx, map[string]bool{}
	for _, f := range set {
		for _, n := range f.Names() {
			g.names[n] = true
		}
	}
}

// isSet is c.IsSet(name), from the given flags when c is the running
// command's context.
func isSet(c *cli.Context, name string) bool {
	if c == given.ctx {
		return given.names[name]
	}
	return c.IsSet(name)
}

// newEngine builds the engine from the global flags.
func newEngine(c *cli.Context) (*engine.Engine, error) {
	return engine.New(c.Context, engine.Options{
		ConfigPath:    c.String("config"),
		Root:          c.String("root"),
		RunRoot:       c.String("runroot"),
		StorageDriver: c.String("storage-driver"),
		StorageOpts:   c.StringSlice("storage-opt"),
		AuthFile:      authFileFlag(c),
		SkiffBinary:   cliBinary(),
	})
}

func authFileFlag(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("authfile") {
			return ctx.String("authfile")
		}
	}
	return ""
}

// withEngine runs fn with an engine and closes it afterwards.
func withEngine(c *cli.Context, fn func(context.Context, *engine.Engine) error) error {
	e, err := newEngine(c)
	if err != nil {
		return err
	}
	defer e.Leave() // the exit closes the database (see Leave)
	return fn(c.Context, e)
}

// requireArgs checks the count of positional arguments, docker-style.
func requireArgs(c *cli.Context, min, max int) error {
	n := c.NArg()
	name := commandPath(c)
	if n < min || (max >= 0 && n > max) {
		switch {
		case min == max:
			return fmt.Errorf("%q requires exactly %d argument(s): see 'skiff %s --help'", name, min, name)
		case n < min:
			return fmt.Errorf("%q requires at least %d argument(s): see 'skiff %s --help'", name, min, name)
		default:
			return fmt.Errorf("%q accepts at most %d argument(s): see 'skiff %s --help'", name, max, name)
		}
	}
	return nil
}

// commandPath is the command as typed, "network ls" for a subcommand
// (urfave/cli's FullName knows only the last word when run this way).
func commandPath(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != c.App.Name {
			names = append([]string{ctx.Command.Name}, names...)
		}
	}
	return strings.Join(names, " ")
}

func setLogLevel(c *cli.Context) error {
	switch c.String("log-level") {
	case "debug", "info", "warn", "warning", "error", "fatal", "panic":
	default:
		return fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", c.String("log-level"))
	}
	if err := setLibraryLogLevel(c.String("log-level")); err != nil {
		return err
	}
	// Join chose the run root before the flags were parsed.
	if note := userns.StateDirNote(); note != "" {
		logrus.Info(note)
	}
	return nil
}
