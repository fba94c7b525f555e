package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Mount flags: -v and --tmpfs syntax becomes engine.Mount values; whether a
// mount is allowed (paths, options, duplicates) is runtime.CheckOptions's.

func mountFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount a volume (/host:/container[:ro])"},
		&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs directory (/path[:options])"},
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem as read only"},
	}
}

func parseMountFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	var err error
	o.Mounts, err = parseMounts(c.StringSlice("volume"), c.StringSlice("tmpfs"))
	o.ReadonlyRootfs = c.Bool("read-only")
	return err
}

// parseMounts reads every -v, then every --tmpfs, in order.
func parseMounts(volumes, tmpfs []string) ([]engine.Mount, error) {
	var out []engine.Mount
	for _, v := range volumes {
		m, err := parseVolume(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, t := range tmpfs {
		out = append(out, parseTmpfs(t))
	}
	return out, nil
}

// parseVolume reads -v SRC:DST[:OPTS] (a bind mount of an absolute host
// path, else a named volume), or -v DST (an anonymous volume). ro and rw
// set ReadOnly; the other options are kept for the runtime to check.
func parseVolume(v string) (engine.Mount, error) {
	parts := strings.Split(v, ":")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return engine.Mount{}, fmt.Errorf("invalid -v %q: use -v /host/path:/container/path[:ro]", v)
	}
	if len(parts) == 1 {
		return engine.Mount{Type: "volume", Destination: parts[0]}, nil
	}
	m := engine.Mount{Type: "bind", Source: parts[0], Destination: parts[1]}
	if !filepath.IsAbs(m.Source) {
		m.Type = "volume"
	}
	if len(parts) == 3 {
		m.ReadOnly, m.Options = readOnly(strings.Split(parts[2], ","))
	}
	return m, nil
}

// parseTmpfs reads --tmpfs DST[:OPTS], OPTS as mount(8) takes them.
func parseTmpfs(t string) engine.Mount {
	dst, opts, _ := strings.Cut(t, ":")
	m := engine.Mount{Type: "tmpfs", Destination: dst}
	if opts != "" {
		m.ReadOnly, m.Options = readOnly(strings.Split(opts, ","))
	}
	return m
}

// readOnly takes ro and rw out of opts: the last one says.
func readOnly(opts []string) (bool, []string) {
	ro := false
	var rest []string
	for _, o := range opts {
		switch o {
		case "ro":
			ro = true
		case "rw":
			ro = false
		default:
			rest = append(rest, o)
		}
	}
	return ro, rest
}
