//go:build !skiff_local

package imagestore

import (
	"context"
	"fmt"
	"path/filepath"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	cstorage "go.podman.io/storage"

	"github.com/skiff-engine/skiff/storage"
)

// CanTransfer says whether this build moves images through registries and
// archives itself (see transfer_local.go).
const CanTransfer = true

// sys builds the SystemContext every containers/image call uses, so that
// mirrors, insecure flags and credentials are read from the same files.
func (s *Store) sys(tls TLSVerify) *types.SystemContext {
	sys := &types.SystemContext{
		AuthFilePath:                s.opts.AuthFile,
		SystemRegistriesConfPath:    s.opts.RegistriesConf,
		SignaturePolicyPath:         s.opts.PolicyPath,
		BigFilesTemporaryDir:        s.opts.TmpDir,
		DockerRegistryUserAgent:     "skiff",
		OSChoice:                    "linux",
		DockerInsecureSkipTLSVerify: types.OptionalBoolUndefined,
	}
	if s.cs != nil { // login and logout open no store
		// containers/image's blob-info cache (which registry has which
		// blob) goes in skiff's own store, not in /var/lib/containers or
		// ~/.local/share/containers.
		sys.BlobInfoCacheDir = filepath.Join(s.cs.GraphRoot(), "cache")
	}
	switch tls {
	case TLSVerifyOff:
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
		sys.OCIInsecureSkipTLSVerify = true
		sys.DockerDaemonInsecureSkipTLSVerify = true
	case TLSVerifyOn:
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolFalse
	}
	return sys
}

// configByTransport reads an image's config through containers/image's
// storage transport, for an image whose config blob is not stored under
// its digest (Store.config).
func (s *Store) configByTransport(ctx context.Context, img *cstorage.Image, input string) (*imgspecv1.Image, error) {
	ref, err := istorage.Transport.NewStoreReference(s.cs, nil, img.ID)
	if err != nil {
		return nil, err
	}
	src, err := ref.NewImage(ctx, s.sys(TLSDefault))
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", input, storage.Err(err))
	}
	defer src.Close()
	cfg, err := src.OCIConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("image %s: reading its config: %w", input, err)
	}
	return cfg, nil
}
