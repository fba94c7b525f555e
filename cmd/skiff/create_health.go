package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Healthcheck flags: Docker's --health-* and --no-healthcheck become a
// typed engine.Healthcheck (Docker's Config.Healthcheck: nil keeps the
// image's, zero fields take the image's or the defaults), podman's
// --health-on-failure an action. Docker's range rules (at least 1ms, no
// negative retries) are the engine's, for the API too; refused here is
// only what a command line can get wrong.

func healthFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "health-cmd", Usage: `command to run to check health, by /bin/sh -c (or a JSON array: ["CMD", "arg"...])`},
		&cli.StringFlag{Name: "health-interval", Usage: "time between running the check (ms|s|m|h) (default 30s)"},
		&cli.StringFlag{Name: "health-timeout", Usage: "maximum time to allow one check to run (ms|s|m|h) (default 30s)"},
		&cli.StringFlag{Name: "health-retries", Usage: "consecutive failures needed to report unhealthy (default 3)"},
		&cli.StringFlag{Name: "health-start-period", Usage: "start period for the container to initialize before counting retries towards unstable (ms|s|m|h) (default 0s)"},
		&cli.StringFlag{Name: "health-start-interval", Usage: "time between running the check during the start period (ms|s|m|h) (default 5s)"},
		&cli.BoolFlag{Name: "no-healthcheck", Usage: "disable any container-specified HEALTHCHECK"},
		&cli.StringFlag{Name: "health-on-failure", Usage: "action when the container turns unhealthy: none, kill, restart or stop (podman)"},
	}
}

// healthDurations are the duration flags and the field each sets.
var healthDurations = []struct {
	flag  string
	field func(*engine.Healthcheck) *time.Duration
}{
	{"health-interval", func(h *engine.Healthcheck) *time.Duration { return &h.Interval }},
	{"health-timeout", func(h *engine.Healthcheck) *time.Duration { return &h.Timeout }},
	{"health-start-period", func(h *engine.Healthcheck) *time.Duration { return &h.StartPeriod }},
	{"health-start-interval", func(h *engine.Healthcheck) *time.Duration { return &h.StartInterval }},
}

func parseHealthFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	o.HealthOnFailure = c.String("health-on-failure") // the engine checks it
	set := false
	for _, f := range []string{"health-cmd", "health-retries", "health-interval", "health-timeout", "health-start-period", "health-start-interval"} {
		set = set || isSet(c, f)
	}
	if c.Bool("no-healthcheck") {
		if set {
			return fmt.Errorf("--no-healthcheck conflicts with --health-* options")
		}
		o.Healthcheck = &engine.Healthcheck{Test: []string{"NONE"}}
		return nil
	}
	if !set {
		return nil
	}
	h := &engine.Healthcheck{}
	if cmd := c.String("health-cmd"); cmd != "" {
		test, err := healthTest(cmd)
		if err != nil {
			return err
		}
		h.Test = test
	}
	for _, d := range healthDurations {
		if !isSet(c, d.flag) {
			continue
		}
		v, err := parseHealthDuration(d.flag, c.String(d.flag))
		if err != nil {
			return err
		}
		*d.field(h) = v
	}
	if isSet(c, "health-retries") {
		n, err := strconv.Atoi(c.String("health-retries"))
		if err != nil {
			return fmt.Errorf("invalid --health-retries %q: use a whole number", c.String("health-retries"))
		}
		if n < 0 {
			return fmt.Errorf("--health-retries cannot be negative")
		}
		h.Retries = n
	}
	o.Healthcheck = h
	return nil
}

// healthTest is Docker's CMD-SHELL form of --health-cmd, or podman's exec
// form when it is a JSON array.
func healthTest(cmd string) ([]string, error) {
	if !strings.HasPrefix(strings.TrimSpace(cmd), "[") {
		return []string{"CMD-SHELL", cmd}, nil
	}
	var argv []string
	if err := json.Unmarshal([]byte(cmd), &argv); err != nil || len(argv) == 0 {
		return nil, fmt.Errorf("invalid --health-cmd %s: a JSON array must hold the command and its arguments as strings", cmd)
	}
	if argv[0] == "CMD" || argv[0] == "CMD-SHELL" {
		return argv, nil
	}
	return append([]string{"CMD"}, argv...), nil
}

// parseHealthDuration reads a Go duration; a bare number is seconds
// (podman's). Zero is refused: Docker reads it as "the default", which is
// never what a user who typed it meant.
func parseHealthDuration(flag, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if n, aerr := strconv.Atoi(s); aerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("invalid --%s %q: use a duration like 30s, 500ms or 1m", flag, s)
	case d < 0:
		return 0, fmt.Errorf("--%s cannot be negative", flag)
	case d == 0 && flag != "health-start-period":
		return 0, fmt.Errorf("--%s cannot be 0: use a duration of at least 1ms", flag)
	}
	return d, nil
}
