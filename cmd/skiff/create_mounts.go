package main

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Mount flags: -v, --mount and --tmpfs syntax becomes engine.Mount values;
// whether a mount is allowed (paths, options, duplicates, volume names) is
// the engine's and runtime.CheckOptions's.

func mountFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "bind mount a host path or a volume (/host:/ctr, NAME:/ctr, /ctr[:ro|rw|z|Z|U|nocopy])"},
		&cli.StringSliceFlag{Name: "mount", Usage: "attach a file system mount (type=bind|volume|tmpfs,source=,target=,readonly,...)"},
		&cli.StringSliceFlag{Name: "volumes-from", Usage: "mount the volumes of a container (CONTAINER[:ro|rw])"},
		&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs directory (/path[:options])"},
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem as read only"},
	}
}

func parseMountFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	var err error
	o.Mounts, err = parseMounts(c.StringSlice("volume"), c.StringSlice("mount"), c.StringSlice("tmpfs"))
	o.VolumesFrom = c.StringSlice("volumes-from")
	o.ReadonlyRootfs = c.Bool("read-only")
	return err
}

// parseMounts reads every -v, then every --mount, then every --tmpfs, in
// order.
func parseMounts(volumes, mounts, tmpfs []string) ([]engine.Mount, error) {
	var out []engine.Mount
	for _, v := range volumes {
		m, err := parseVolume(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, s := range mounts {
		m, err := parseMount(s)
		if err != nil {
			return nil, fmt.Errorf("invalid argument %q for \"--mount\" flag: %w", s, err)
		}
		out = append(out, m)
	}
	for _, t := range tmpfs {
		out = append(out, parseTmpfs(t))
	}
	return out, nil
}

// parseVolume reads -v SRC:DST[:OPTS] or -v DST (engine.ParseVolume).
func parseVolume(v string) (engine.Mount, error) {
	m, ok := engine.ParseVolume(v)
	if !ok {
		return m, fmt.Errorf("invalid -v %q: use -v /host/path:/container/path[:ro], -v NAME:/container/path or -v /container/path", v)
	}
	return m, nil
}

// parseMount reads Docker's --mount: comma-separated key=value fields (CSV,
// so a value may be quoted), flags without a value meaning true.
func parseMount(s string) (engine.Mount, error) {
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return engine.Mount{}, err
	}
	m := engine.Mount{Type: "volume"}
	var bindOpts, volumeOpts, tmpfsOpts []string // the keys given, for "cannot mix"
	for _, f := range fields {
		key, val, hasVal := strings.Cut(f, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		flag := func() (bool, error) {
			if !hasVal {
				return true, nil
			}
			b, err := strconv.ParseBool(val)
			if err != nil {
				return false, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			return b, nil
		}
		switch key {
		case "type":
			m.Type = val
		case "source", "src":
			m.Source = val
		case "target", "dst", "destination":
			m.Destination = val
		case "readonly", "ro":
			if m.ReadOnly, err = flag(); err != nil {
				return engine.Mount{}, err
			}
		case "consistency":
		case "bind-propagation":
			bindOpts = append(bindOpts, key)
			switch val {
			case "shared", "rshared", "slave", "rslave", "private", "rprivate":
				m.Options = append(m.Options, val)
			default:
				return engine.Mount{}, fmt.Errorf("invalid value for %s: %s", key, val)
			}
		case "bind-nonrecursive":
			bindOpts = append(bindOpts, key)
			if nr, err := flag(); err != nil {
				return engine.Mount{}, err
			} else if nr {
				m.Options = append(m.Options, "bind")
			}
		case "volume-nocopy":
			volumeOpts = append(volumeOpts, key)
			if m.NoCopy, err = flag(); err != nil {
				return engine.Mount{}, err
			}
		case "volume-opt":
			volumeOpts = append(volumeOpts, key)
			k, v, ok := strings.Cut(val, "=")
			if !ok || k == "" {
				return engine.Mount{}, fmt.Errorf("invalid value for %s: %s (use volume-opt=KEY=VALUE)", key, val)
			}
			if m.VolumeOptions == nil {
				m.VolumeOptions = map[string]string{}
			}
			m.VolumeOptions[k] = v
		case "volume-driver":
			volumeOpts = append(volumeOpts, key)
			if val != "local" {
				return engine.Mount{}, fmt.Errorf("invalid value for %s: %s (only local)", key, val)
			}
		case "tmpfs-size":
			tmpfsOpts = append(tmpfsOpts, key)
			n, err := units.RAMInBytes(val)
			if err != nil || n <= 0 {
				return engine.Mount{}, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			m.Options = append(m.Options, "size="+strconv.FormatInt(n, 10))
		case "tmpfs-mode":
			tmpfsOpts = append(tmpfsOpts, key)
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil || mode > 0o7777 {
				return engine.Mount{}, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			m.Options = append(m.Options, "mode="+strconv.FormatUint(mode, 8))
		default:
			return engine.Mount{}, fmt.Errorf("unexpected key '%s' in '%s'", key, f)
		}
	}
	return checkMount(m, bindOpts, volumeOpts, tmpfsOpts)
}

// checkMount is Docker's check of one --mount: a target, a type, a source
// as the type needs one, and no options of another type.
func checkMount(m engine.Mount, bindOpts, volumeOpts, tmpfsOpts []string) (engine.Mount, error) {
	mix := func(opts []string) error {
		if len(opts) > 0 { // Docker's words: 'volume-*', not the key given
			return fmt.Errorf("cannot mix '%s-*' options with mount type '%s'", strings.SplitN(opts[0], "-", 2)[0], m.Type)
		}
		return nil
	}
	var err error
	switch m.Type {
	case "":
		return m, fmt.Errorf("type is required")
	case "bind":
		if m.Source == "" {
			return m, fmt.Errorf("invalid mount config for type \"bind\": field Source must not be empty")
		}
		err = firstErr(mix(volumeOpts), mix(tmpfsOpts))
	case "volume":
		m.Name, m.Source = m.Source, ""
		err = firstErr(mix(bindOpts), mix(tmpfsOpts))
		if m.Name == "" && len(m.VolumeOptions) > 0 {
			err = fmt.Errorf("volume-opt needs a named volume: give source=NAME")
		}
	case "tmpfs":
		if m.Source != "" {
			return m, fmt.Errorf("invalid mount config for type \"tmpfs\": field Source must not be specified")
		}
		err = firstErr(mix(bindOpts), mix(volumeOpts))
	default:
		return m, fmt.Errorf("invalid mount type '%s': use bind, volume or tmpfs", m.Type)
	}
	if err == nil && m.Destination == "" {
		err = fmt.Errorf("target is required")
	}
	return m, err
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// parseTmpfs reads --tmpfs DST[:OPTS], OPTS as mount(8) takes them.
func parseTmpfs(t string) engine.Mount {
	dst, opts, _ := strings.Cut(t, ":")
	return engine.ParseTmpfs(dst, opts)
}
