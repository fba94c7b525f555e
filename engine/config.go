package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/BurntSushi/toml"
	"github.com/containerd/errdefs"
)

// Config is skiff.toml. Zero values mean "use the default for this user".
//
//	[storage]
//	driver = "overlay"        # or "vfs"
//	graphroot = "/var/lib/skiff"
//	runroot = "/run/skiff"
//	options = ["overlay.mount_program=..."]
//
//	[network]
//	default = "bridge"
//
//	[log]
//	max_size = "10m"
//
//	[events]
//	max = 100000              # events kept, the oldest dropped
//
//	[api]
//	group = "docker"          # skiff system service's socket: 0660 for this group
type Config struct {
	Storage StorageConfig `toml:"storage"`
	Network NetworkConfig `toml:"network"`
	Log     LogConfig     `toml:"log"`
	Events  EventsConfig  `toml:"events"`
	API     APIConfig     `toml:"api"`
}

// StorageConfig selects the graph driver and where skiff keeps its data.
type StorageConfig struct {
	Driver    string   `toml:"driver"`
	GraphRoot string   `toml:"graphroot"`
	RunRoot   string   `toml:"runroot"`
	Options   []string `toml:"options"`
}

// NetworkConfig holds network defaults.
type NetworkConfig struct {
	Default string `toml:"default"` // the mode without --network ("": bridge rootful, slirp4netns rootless)
	// Bridge and Subnet lay out the rootful default network (skiff0 and
	// Docker's 172.17.0.0/16, or the next free 172.N.0.0/16): read when
	// the network is first recorded in the database.
	Bridge string `toml:"bridge"`
	Subnet string `toml:"subnet"`
	// SubnetPool is where user networks created without --subnet get
	// their /24 ("": 10.89.0.0/16, podman's).
	SubnetPool string `toml:"subnet_pool"`
	// RootlessNetnsOptions are slirp4netns's options (as in --network
	// slirp4netns:OPTIONS) for the way out of the shared namespace that
	// rootless user networks live in: allow_host_loopback=true lets their
	// containers reach the host's loopback at 10.0.2.2.
	RootlessNetnsOptions string `toml:"rootless_netns_options"`
}

// LogConfig holds container log defaults.
type LogConfig struct {
	MaxSize string `toml:"max_size"`
}

// EventsConfig bounds the events table.
type EventsConfig struct {
	Max int `toml:"max"` // events kept (0: 100000); the oldest are dropped
}

// APIConfig holds the API service's settings.
type APIConfig struct {
	Group string `toml:"group"` // the socket's group (mode 0660); "": the user alone (0600)
}

// ConfigPaths lists the files LoadConfig reads, later ones overriding earlier
// ones key by key: /etc/skiff/skiff.toml, then the user's own.
func ConfigPaths(p Paths) []string {
	paths := []string{"/etc/skiff/skiff.toml"}
	if p.Rootless {
		paths = append(paths, filepath.Join(p.ConfigHome, "skiff", "skiff.toml"))
	}
	return paths
}

// LoadConfig reads explicit (if not empty, it must exist) or else every file
// of ConfigPaths that exists. Unknown keys are an error so typos surface.
func LoadConfig(explicit string, p Paths) (Config, error) {
	var cfg Config
	paths := ConfigPaths(p)
	if explicit != "" {
		paths = []string{explicit}
	}
	for _, path := range paths {
		md, err := toml.DecodeFile(path, &cfg)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && explicit == "" {
				continue
			}
			if errors.Is(err, fs.ErrNotExist) {
				return cfg, fmt.Errorf("config file %q does not exist: %w", path, errdefs.ErrInvalidArgument)
			}
			return cfg, fmt.Errorf("config file %q: %v: %w", path, err, errdefs.ErrInvalidArgument)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return cfg, fmt.Errorf("config file %q: unknown key %q: %w", path, und[0].String(), errdefs.ErrInvalidArgument)
		}
	}
	return cfg, nil
}
