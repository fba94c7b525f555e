// Package imagestore moves images between registries, archives and the local
// store, on top of containers/image (go.podman.io/image/v5).
//
// It owns everything about image references: Docker-style short names
// (busybox → docker.io/library/busybox:latest), short-name aliases and
// unqualified-search-registries from containers-registries.conf(5), mirrors
// and insecure registries (honoured by containers/image as long as every
// SystemContext points at the same files), credentials (auth.json, then
// ~/.docker/config.json) and the signature policy (containers-policy.json(5)
// when present, else accept anything, as Docker does).
//
// Images live in the containers/storage store handed to New; their storage
// ID is the config digest, which is Docker's image ID.
package imagestore

import (
	"os"

	cstorage "go.podman.io/storage"
)

// Options configure where imagestore finds registries.conf, credentials and
// the signature policy. Empty fields use containers/image's defaults.
type Options struct {
	// AuthFile overrides the credentials file (REGISTRY_AUTH_FILE, --authfile).
	AuthFile string
	// RegistriesConf overrides registries.conf (CONTAINERS_REGISTRIES_CONF).
	RegistriesConf string
	// PolicyPath overrides policy.json.
	PolicyPath string
	// TmpDir holds temporary files (archives read from stdin, import layouts).
	TmpDir string
}

// Store is the image side of the engine.
type Store struct {
	cs   cstorage.Store
	opts Options
}

// New returns a Store over an open containers/storage store.
func New(cs cstorage.Store, opts Options) *Store {
	if opts.TmpDir == "" {
		opts.TmpDir = os.TempDir()
	}
	return &Store{cs: cs, opts: opts}
}

// TLS choices for registry connections: Default honours registries.conf.
type TLSVerify int

const (
	TLSDefault TLSVerify = iota
	TLSVerifyOn
	TLSVerifyOff
)
