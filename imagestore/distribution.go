//go:build !skiff_local

package imagestore

import (
	"context"
	"fmt"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
)

// Distribution asks input's registry for its manifest (Docker's
// distribution inspect).
func (s *Store) Distribution(ctx context.Context, input string, o DistributionOptions) (Distribution, error) {
	named, err := parseNamed(input)
	if err != nil {
		return Distribution{}, err
	}
	ref, err := docker.NewReference(named)
	if err != nil {
		return Distribution{}, fmt.Errorf("%s: %w", input, err)
	}
	sys := s.sys(o.TLSVerify)
	o.Auth.apply(sys)
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return Distribution{}, registryError(named, err)
	}
	defer src.Close()
	raw, mediaType, err := src.GetManifest(ctx, nil)
	if err != nil {
		return Distribution{}, registryError(named, err)
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		return Distribution{}, err
	}
	out := Distribution{Descriptor: imgspecv1.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(raw))}, Platforms: []imgspecv1.Platform{}}
	if manifest.MIMETypeIsMultiImage(mediaType) {
		list, err := manifest.ListFromBlob(raw, mediaType)
		if err != nil {
			return Distribution{}, fmt.Errorf("%s: manifest list: %w", input, err)
		}
		for _, inst := range list.Instances() {
			if u, err := list.Instance(inst); err == nil && u.ReadOnly.Platform != nil {
				out.Platforms = append(out.Platforms, *u.ReadOnly.Platform)
			}
		}
		return out, nil
	}
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(src, nil))
	if err != nil {
		return Distribution{}, registryError(named, err)
	}
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return Distribution{}, registryError(named, err)
	}
	out.Platforms = append(out.Platforms, imgspecv1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant})
	return out, nil
}
