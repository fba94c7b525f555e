package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// The restart flag: --restart POLICY[:MAX-RETRIES], Docker's syntax. The
// policy's rules (a known name, a count for on-failure only, never
// negative) are runtime's, for the API too; only the clash with --rm is
// the command line's.

func restartFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "restart", Usage: "restart policy when the container exits: no, on-failure[:max-retries], always, unless-stopped"},
	}
}

func parseRestartFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	p, err := parseRestartPolicy(c.String("restart"))
	if err != nil {
		return err
	}
	if o.AutoRemove && !p.IsNone() {
		return errors.New("Conflicting options: --restart and --rm")
	}
	o.RestartPolicy = p
	return nil
}

// parseRestartPolicy splits NAME[:COUNT]; the name is checked later, with
// the count.
func parseRestartPolicy(v string) (engine.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(v, ":")
	p := engine.RestartPolicy{Name: name}
	if hasCount && name == "" {
		return p, errors.New("invalid --restart " + strconv.Quote(v) + ": no policy before the colon")
	}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return p, errors.New("invalid --restart " + strconv.Quote(v) + ": the maximum retry count must be an integer")
		}
		p.MaximumRetryCount = n
	}
	return p, nil
}
