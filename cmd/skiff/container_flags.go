package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// create and run flags, by concern, each in its own file with its own
// parse function and table test: create_process.go, create_env.go,
// create_mounts.go, create_security.go, create_resources.go,
// create_logging.go, create_health.go, container_extra_flags.go; the network here. Each
// turns command-line syntax into typed engine.ContainerCreateOptions and
// names flags in its errors; the rules both the command line and the API
// obey are checked once, by the engine and runtime.

func createFlags() []cli.Flag {
	var fs []cli.Flag
	for _, group := range [][]cli.Flag{processFlags(), envFlags(), mountFlags(), securityFlags(), resourceFlags(), kernelFlags(), networkFlags(), logFlags(), healthFlags(), extraFlags(), restartFlags()} {
		fs = append(fs, group...)
	}
	return fs
}

// createOptions reads every create/run flag plus IMAGE [COMMAND [ARG...]].
func createOptions(c *cli.Context) (engine.ContainerCreateOptions, error) {
	var o engine.ContainerCreateOptions
	if c.NArg() < 1 {
		return o, fmt.Errorf("%q requires at least 1 argument: see 'skiff %s --help'", commandPath(c), commandPath(c))
	}
	for _, parse := range []func(*cli.Context, *engine.ContainerCreateOptions) error{
		parseProcessFlags, parseEnvFlags, parseMountFlags, parseSecurityFlags, parseResourceFlags, parseKernelFlags,
		parseNetworkFlags, parseLogFlags, parseHealthFlags, parseExtraFlags, parseRestartFlags,
	} {
		if err := parse(c, &o); err != nil {
			return o, err
		}
	}
	return o, nil
}
