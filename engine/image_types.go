package engine

import "github.com/skiff-engine/skiff/imagestore"

// The image types callers of the engine see; the CLI and the API shim use
// these names and never import imagestore.
type (
	Image        = imagestore.Image
	ImageInspect = imagestore.Inspect
	TLSVerify    = imagestore.TLSVerify
	RemoveResult = imagestore.RemoveResult
	Credentials  = imagestore.Credentials
)

// TLS choices for registry connections.
const (
	TLSDefault   = imagestore.TLSDefault
	TLSVerifyOn  = imagestore.TLSVerifyOn
	TLSVerifyOff = imagestore.TLSVerifyOff
)

// FamiliarName is what Docker prints for a stored name (busybox:latest).
func FamiliarName(name string) string { return imagestore.FamiliarName(name) }

// SplitRepoTag splits a stored name into the REPOSITORY and TAG columns.
func SplitRepoTag(name string) (repo, tag string) { return imagestore.SplitRepoTag(name) }
