package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// The verbs that take CONTAINER [CONTAINER...] (start, stop, kill, rm,
// restart, pause, unpause) also act on every container with --all, or on
// those matching ps's filters with --filter (podman's flags). The names
// given are printed as given (docker); containers chosen by --all or
// --filter are printed by full ID (podman).

// selection says which containers --all means for one verb.
type selection func(*engine.Container) bool

var (
	anyContainer  selection = func(*engine.Container) bool { return true }
	runningOnly   selection = (*engine.Container).Running
	notRunning    selection = func(c *engine.Container) bool { return !c.Running() }
	pausedOnly    selection = func(c *engine.Container) bool { return c.State.Status == "paused" }
	allFlagUsage            = map[string]string{"start": "start every container that is not running", "stop": "stop every running container", "kill": "kill every running container", "rm": "remove every container (running ones need --force)", "restart": "restart every container", "pause": "pause every running container", "unpause": "unpause every paused container"}
	filterFlagDef           = &cli.StringSliceFlag{Name: "filter", Usage: "act on the containers that match ps's filter (name=, id=, label=, status=, ...)"}
)

// targetFlags are --all, and --filter where the verb has it (podman gives
// it to start, stop and rm).
func targetFlags(verb string, withFilter bool) []cli.Flag {
	fs := []cli.Flag{&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: allFlagUsage[verb]}}
	if withFilter {
		fs = append(fs, &cli.StringSliceFlag{Name: filterFlagDef.Name, Usage: filterFlagDef.Usage})
	}
	return fs
}

// selecting reports whether --all or --filter choose the containers.
func selecting(c *cli.Context) bool { return c.Bool("all") || len(c.StringSlice("filter")) > 0 }

// checkTargets validates the arguments against --all and --filter before
// anything is opened.
func checkTargets(c *cli.Context) error {
	if selecting(c) {
		if c.NArg() > 0 {
			return fmt.Errorf("--all and --filter choose the containers themselves: give either them or container names, not both")
		}
		return nil
	}
	if len(c.StringSlice("cidfile")) > 0 {
		return nil
	}
	return requireArgs(c, 1, -1)
}

// targets are the containers the verb acts on: its arguments, or those
// --all and --filter select (--all alone: those sel accepts).
func targets(ctx context.Context, e *engine.Engine, c *cli.Context, sel selection) ([]string, error) {
	if !selecting(c) {
		ids, err := cidfileTargets(c)
		return append(c.Args().Slice(), ids...), err
	}
	filters := c.StringSlice("filter")
	res, err := e.ContainerList(ctx, engine.ContainerListOptions{All: true, Filters: filters})
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, ctr := range res.Containers {
		if len(filters) > 0 || sel(ctr) {
			refs = append(refs, ctr.ID)
		}
	}
	return refs, nil
}

// perContainer is the body of the verbs that take CONTAINER [CONTAINER...]
// or --all/--filter: one engine, fn for each container.
func perContainer(c *cli.Context, sel selection, fn func(context.Context, *engine.Engine, string) error) error {
	if err := checkTargets(c); err != nil {
		return err
	}
	return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
		refs, err := targets(ctx, e, c, sel)
		if err != nil {
			return err
		}
		return eachContainer(refs, func(ref string) error { return fn(ctx, e, ref) })
	})
}

// eachContainer runs fn for every container, printing each that succeeded
// and reporting every failure; the exit code is 125 if any failed.
func eachContainer(refs []string, fn func(ref string) error) error {
	var failed error
	for _, ref := range refs {
		if err := fn(ref); err != nil {
			fmt.Fprintf(os.Stderr, "Error: %s\n", oneLine(err))
			failed = &silentError{code: exitEngine}
			continue
		}
		fmt.Println(ref)
	}
	return failed
}

// stopTime reads --time (-1 when not given: the container's own timeout).
func stopTime(c *cli.Context) (int, error) {
	if !c.IsSet("time") {
		return -1, nil
	}
	t := c.Int("time")
	if t < 0 {
		return 0, fmt.Errorf("invalid --time %d: use a number of seconds, 0 or more", t)
	}
	return t, nil
}

func timeFlag(aliases ...string) cli.Flag {
	return &cli.IntFlag{Name: "time", Aliases: append([]string{"t"}, aliases...), Usage: "seconds to wait before killing the container (default: its stop timeout, 10)"}
}
