package engine

import (
	"os"
	"path/filepath"

	"github.com/skiff-engine/skiff/userns"
)

// Paths are the per-user locations of the design's "On disk" table.
type Paths struct {
	Rootless   bool
	ConfigHome string // $XDG_CONFIG_HOME or ~/.config
	GraphRoot  string // images, layers, container rootfs, volumes, records
	RunRoot    string // locks, sockets, exit files, libcontainer state
	AuthFile   string // containers auth.json written by login
}

// DefaultPaths computes the locations for the current user. Rootless here
// means "running for an unprivileged user", including inside skiff's user
// namespace where the euid is 0.
func DefaultPaths() Paths {
	p := Paths{Rootless: userns.Rootless()}
	home, _ := os.UserHomeDir()
	p.ConfigHome = os.Getenv("XDG_CONFIG_HOME")
	if p.ConfigHome == "" {
		p.ConfigHome = filepath.Join(home, ".config")
	}
	if !p.Rootless {
		p.GraphRoot = "/var/lib/skiff"
		p.RunRoot = "/run/skiff"
		p.AuthFile = "/run/containers/0/auth.json"
		if x := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(x) { // relative: ignored here, refused rootless
			p.AuthFile = filepath.Join(x, "containers", "auth.json")
		}
		return p
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		data = filepath.Join(home, ".local", "share")
	}
	p.GraphRoot = filepath.Join(data, "skiff")
	p.RunRoot = userns.StateDir()
	p.AuthFile = filepath.Join(userns.RuntimeDir(), "containers", "auth.json")
	return p
}
