package imagestore

import (
	"errors"
	"io"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// The options and results of the store's transfers: pulls and pushes
// through registries, saves and loads of archives, imports of tarballs,
// logins. The transfers themselves (pull.go, push.go, archive.go, ...) link
// containers/image's registry client, copy pipeline and signature code,
// which a build with the skiff_local tag leaves out (transfer_local.go).

// ErrTransferElsewhere is what a transfer answers in a build without them
// (the skiff_local tag), before it reads or writes anything: the command is
// for skiff-full.
var ErrTransferElsewhere = errors.New("this skiff build moves no images: the command is for skiff-full")

// SaveOptions tune save.
type SaveOptions struct {
	Format string // docker-archive (default) or oci-archive
}

// LoadResult names what load stored: familiar names, or IDs of untagged images.
type LoadResult struct {
	Names []string
	IDs   []string
}

// Credentials are one transfer's own registry login (the Engine API's
// X-Registry-Auth); the zero value uses the stored logins.
type Credentials struct {
	Username      string
	Password      string
	IdentityToken string
}

// LoginOptions tune a login.
type LoginOptions struct {
	TLSVerify TLSVerify
}

// DistributionOptions tune Distribution.
type DistributionOptions struct {
	TLSVerify TLSVerify
	Auth      Credentials
}

// Distribution is what a registry serves under a name, without pulling
// it: the manifest's descriptor and the platforms it is for (each entry of
// a manifest list, or the one image's config).
type Distribution struct {
	Descriptor imgspecv1.Descriptor
	Platforms  []imgspecv1.Platform
}

// ImportOptions describe the image import builds around a root filesystem tarball.
type ImportOptions struct {
	Reference string   // name for the new image; empty leaves it untagged
	Changes   []string // Dockerfile instructions: CMD, ENTRYPOINT, ENV, ...
	Message   string   // history comment
}

// PullOptions tune one pull.
type PullOptions struct {
	TLSVerify TLSVerify
	Platform  string    // os/arch[/variant]; empty is this machine's
	Progress  io.Writer // Docker-style progress lines; nil prints nothing
	Terminal  bool      // Progress is a terminal: redraw bars in place
	JSON      bool      // Progress gets Docker's JSON messages (the Engine API's stream)
	Auth      Credentials
}

// PullResult says what was pulled.
type PullResult struct {
	Image    Image
	Name     string // the full name pulled, docker.io/library/busybox:latest
	UpToDate bool   // the image was already there with the same ID
}

// PushOptions tune one push.
type PushOptions struct {
	TLSVerify TLSVerify
	Progress  io.Writer
	Terminal  bool
	JSON      bool // Progress gets Docker's JSON messages (the Engine API's stream)
	Auth      Credentials
}

// PushResult is where the image went.
type PushResult struct {
	Name   string // full destination name
	Digest string // manifest digest in the registry
	Size   int    // manifest size
}
