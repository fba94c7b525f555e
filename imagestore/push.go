//go:build !skiff_local

package imagestore

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	istorage "go.podman.io/image/v5/storage"
)

// Push copies a local image to a registry; dest defaults to source's name.
func (s *Store) Push(ctx context.Context, source, dest string, o PushOptions) (PushResult, error) {
	img, name, err := s.lookup(source)
	if err != nil {
		return PushResult{}, err
	}
	if dest == "" {
		dest = source
		if name == "" {
			return PushResult{}, fmt.Errorf("push %s: an image ID needs a destination name (skiff push ID REGISTRY/NAME:TAG): %w", source, errdefs.ErrInvalidArgument)
		}
	}
	named, err := parseNamed(dest)
	if err != nil {
		return PushResult{}, err
	}
	srcRef, err := istorage.Transport.NewStoreReference(s.cs, nil, img.ID)
	if err != nil {
		return PushResult{}, err
	}
	destRef, err := docker.NewReference(named)
	if err != nil {
		return PushResult{}, fmt.Errorf("%s: %v: %w", dest, err, errdefs.ErrInvalidArgument)
	}
	sys := s.sys(o.TLSVerify)
	o.Auth.apply(sys)
	p := newProgress(o.Progress, o.Terminal, o.JSON, true)
	p.say("", fmt.Sprintf("The push refers to repository [%s]", reference.TrimNamed(named)))
	copied, err := s.copyWithProgress(ctx, destRef, srcRef, sys, sys, p)
	if err != nil {
		return PushResult{}, registryError(named, err)
	}
	d, err := manifest.Digest(copied)
	if err != nil {
		return PushResult{}, err
	}
	res := PushResult{Name: named.String(), Digest: d.String(), Size: len(copied)}
	tag := tagOrDigest(named)
	p.say("", fmt.Sprintf("%s: digest: %s size: %d", tag, res.Digest, res.Size))
	p.aux(struct {
		Tag, Digest string
		Size        int
	}{tag, res.Digest, res.Size})
	return res, nil
}
