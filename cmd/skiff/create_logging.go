package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Logging flags: --log-driver and --log-opt become a typed
// engine.ContainerLogConfig; which drivers exist, and what goes with a
// terminal, is runtime.CheckLogConfig's.

func logFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-driver", Usage: "logging driver (json-file, k8s-file, none, passthrough)"},
		&cli.StringSliceFlag{Name: "log-opt", Usage: "log driver options (max-size=10m, max-file=3)"},
	}
}

func parseLogFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	var err error
	o.LogConfig, err = parseLogConfig(c.String("log-driver"), c.StringSlice("log-opt"))
	return err
}

func parseLogConfig(driver string, opts []string) (engine.ContainerLogConfig, error) {
	l := engine.ContainerLogConfig{Type: driver}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		if err := engine.SetLogOption(&l, k, v); err != nil {
			return l, fmt.Errorf("invalid --log-opt %w", err)
		}
	}
	return l, nil
}
