package engine

import (
	"path/filepath"
	"slices"
	"strings"
)

// The string forms of mounts that the command line (-v, --tmpfs) and
// Docker's API (HostConfig.Binds, HostConfig.Tmpfs) share: one reading of
// each, here. Whether the mount is allowed is runtime.CheckOptions's.

// ParseVolume reads SRC:DST[:OPTS] (a bind mount of an absolute host
// path, else a named volume), or DST (an anonymous volume). ro and rw set
// ReadOnly, nocopy NoCopy, U Chown; the other options are kept for the
// runtime to check. ok is false when the spec has no such shape; the caller
// says so in its own words (a flag, a JSON field).
func ParseVolume(v string) (m Mount, ok bool) {
	parts := strings.Split(v, ":")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return Mount{}, false
	}
	if len(parts) == 1 {
		return Mount{Type: "volume", Destination: parts[0]}, true
	}
	m = Mount{Type: "bind", Source: parts[0], Destination: parts[1]}
	if !filepath.IsAbs(m.Source) {
		m.Type, m.Name, m.Source = "volume", m.Source, ""
	}
	if len(parts) == 3 {
		var opts []string
		m.ReadOnly, opts = readOnlyOption(strings.Split(parts[2], ","))
		for _, o := range opts {
			switch o {
			case "nocopy":
				m.NoCopy = true
			case "U":
				m.Chown = true
			default:
				m.Options = append(m.Options, o)
			}
		}
	}
	return m, true
}

// ParseTmpfs is a tmpfs at dst with mount(8)'s comma-separated options
// (--tmpfs DST[:OPTS], a HostConfig.Tmpfs entry).
func ParseTmpfs(dst, opts string) Mount {
	m := Mount{Type: "tmpfs", Destination: dst}
	if opts != "" {
		m.ReadOnly, m.Options = readOnlyOption(strings.Split(opts, ","))
	}
	return m
}

// readOnlyOption takes ro and rw out of opts: the last one says.
func readOnlyOption(opts []string) (bool, []string) {
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
