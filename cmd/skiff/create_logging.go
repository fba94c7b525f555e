package main

import (
	"fmt"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
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
		switch k {
		case "max-size":
			n, err := units.RAMInBytes(v)
			if err != nil || n < 0 {
				return l, fmt.Errorf("invalid --log-opt max-size=%s: use a size like 10m", v)
			}
			l.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return l, fmt.Errorf("invalid --log-opt max-file=%s: use a number >= 1", v)
			}
			l.MaxFile = n
		default:
			return l, fmt.Errorf("unknown --log-opt %q: use max-size= or max-file=", k)
		}
	}
	return l, nil
}
