package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// podman's create/run flags that Docker lacks (engine/container_extra.go).
func extraFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "replace", Usage: "stop and remove an existing container of the same --name first (podman)"},
		&cli.StringFlag{Name: "tz", Usage: "time zone of the container, e.g. Europe/Paris, or local for the host's (podman)"},
		&cli.IntFlag{Name: "timeout", Usage: "seconds the container may run before it is killed; 0: no limit (podman)"},
		&cli.BoolFlag{Name: "rmi", Usage: "with --rm: remove the image too once the container is removed, unless in use (podman)"},
		&cli.StringFlag{Name: "sdnotify", Usage: "under systemd, who says the container is ready: monitor (once it runs; the default), container (itself, through NOTIFY_SOCKET) or ignore (podman)"},
	}
}

// parseExtraFlags also refuses the combinations that only the command line
// can get wrong; the engine takes Replace without Name, or RemoveImage
// without AutoRemove, as nothing to do.
func parseExtraFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	o.Replace = c.Bool("replace")
	o.Timezone = c.String("tz")
	o.RemoveImage = c.Bool("rmi")
	o.SdNotify = c.String("sdnotify")
	t := c.Int("timeout")
	if t < 0 {
		return fmt.Errorf("invalid --timeout %d: use a number of seconds, 0 for no limit", t)
	}
	o.RunTimeout = uint(t)
	if o.RemoveImage && !o.AutoRemove {
		return fmt.Errorf("--rmi removes the image after the container is removed: add --rm")
	}
	if o.Replace && o.Name == "" {
		return fmt.Errorf("--replace replaces the container of the same name: add --name")
	}
	return nil
}

// attachFlag is docker run's -a: attach only the streams named.
var attachFlag = &cli.StringSliceFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach to STDIN, STDOUT or STDERR (repeatable; default all, STDIN with -i)"}

// attachStreams reads -a: which of stdin, stdout and stderr a foreground
// run attaches; nil when -a is not given (all, stdin with -i).
func attachStreams(c *cli.Context) (map[string]bool, error) {
	if !isSet(c, "attach") {
		return nil, nil
	}
	if c.Bool("detach") {
		return nil, fmt.Errorf("conflicting options: cannot specify both --attach and --detach")
	}
	streams := map[string]bool{}
	for _, s := range c.StringSlice("attach") {
		switch v := strings.ToLower(s); v {
		case "stdin", "stdout", "stderr":
			streams[v] = true
		default:
			return nil, fmt.Errorf("invalid --attach %q: use stdin, stdout or stderr", s)
		}
	}
	return streams, nil
}
