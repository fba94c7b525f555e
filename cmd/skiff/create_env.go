package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Environment flags: --env-file files, then -e, as Docker layers them. A
// bare KEY (in a file or -e) takes the value of skiff's own environment, or
// is left out. The engine gets NAME=value strings only: it never reads the
// caller's environment or files. Which names are valid, and how later
// values replace earlier ones, is runtime.MergeEnv's.

func envFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables (KEY=VALUE, or KEY to copy)"},
		&cli.StringSliceFlag{Name: "env-file", Usage: "read environment variables from a file"},
	}
}

func parseEnvFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	var err error
	o.Env, err = parseEnv(c.StringSlice("env-file"), c.StringSlice("env"), os.LookupEnv)
	return err
}

// parseEnv reads the files, then the flags, in order; lookup resolves a
// bare KEY.
func parseEnv(files, flags []string, lookup func(string) (string, bool)) ([]string, error) {
	var all []string
	for _, f := range files {
		lines, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, lines...)
	}
	all = append(all, flags...)
	var out []string
	for _, kv := range all {
		k, _, hasValue := strings.Cut(kv, "=")
		if !hasValue && k != "" {
			v, ok := lookup(k)
			if !ok {
				continue
			}
			kv = k + "=" + v
		}
		out = append(out, kv)
	}
	return out, nil
}

// readEnvFile reads Docker's env-file format: one KEY=VALUE or KEY a line,
// the value taken as it is; blank lines and lines starting with # skipped.
func readEnvFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if pe := (*os.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("--env-file %s: %v", path, err)
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimLeft(strings.TrimSuffix(line, "\r"), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, _, _ := strings.Cut(line, "="); strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("--env-file %s, line %d: variable %q contains whitespace", path, i+1, k)
		}
		out = append(out, line)
	}
	return out, nil
}
