//go:build !skiff_local

package imagestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// Pull copies input from its registry into the local store, trying each
// candidate of a short name in turn. A failed pull leaves no image behind:
// containers/image commits the image only after every layer is in place.
func (s *Store) Pull(ctx context.Context, input string, o PullOptions) (PullResult, error) {
	sys := s.sys(o.TLSVerify)
	o.Auth.apply(sys)
	if err := applyPlatform(sys, o.Platform); err != nil {
		return PullResult{}, err
	}
	candidates, err := s.pullCandidates(sys, input)
	if err != nil {
		return PullResult{}, err
	}
	var errs []error
	for _, named := range candidates {
		res, err := s.pullOne(ctx, sys, named, input, o)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return PullResult{}, ctx.Err()
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return PullResult{}, errs[0]
	}
	return PullResult{}, fmt.Errorf("pulling %s: tried %d registries: %w", input, len(errs), errors.Join(errs...))
}

func (s *Store) pullOne(ctx context.Context, sys *types.SystemContext, named reference.Named, input string, o PullOptions) (PullResult, error) {
	srcRef, err := docker.NewReference(named)
	if err != nil {
		return PullResult{}, fmt.Errorf("%s: %v: %w", input, err, errdefs.ErrInvalidArgument)
	}
	destRef, err := istorage.Transport.NewStoreReference(s.cs, named, "")
	if err != nil {
		return PullResult{}, err
	}
	before, _ := s.cs.Image(named.String())
	p := newProgress(o.Progress, o.Terminal, o.JSON, false)
	if !hasTagOrDigest(input) && !o.JSON { // the API's client says it itself
		p.say("", "Using default tag: latest")
	}
	p.say(tagOrDigest(named), "Pulling from "+reference.Path(named))
	copied, err := s.copyWithProgress(ctx, destRef, srcRef, sys, sys, p)
	if err != nil {
		return PullResult{}, registryError(named, err)
	}
	img, err := istorage.Transport.GetStoreImage(s.cs, destRef)
	if err != nil {
		return PullResult{}, fmt.Errorf("%s: pulled, but not found in the store: %w", named, err)
	}
	res := PullResult{Image: s.fromStorage(img, false), Name: named.String()}
	res.UpToDate = before != nil && before.ID == img.ID
	if d, err := manifest.Digest(copied); err == nil {
		p.say("", "Digest: "+d.String())
	}
	status := "Downloaded newer image for"
	if res.UpToDate {
		status = "Image is up to date for"
	}
	p.say("", "Status: "+status+" "+reference.FamiliarString(named))
	return res, nil
}

// copyWithProgress runs copy.Image, reporting to p (nil: silently).
func (s *Store) copyWithProgress(ctx context.Context, dest, src types.ImageReference, srcSys, destSys *types.SystemContext, p *progress) ([]byte, error) {
	opts := &copy.Options{
		SourceCtx:      srcSys,
		DestinationCtx: destSys,
		ReportWriter:   io.Discard,
	}
	var done chan struct{}
	if p != nil {
		ch := make(chan types.ProgressProperties, 64)
		opts.Progress = ch
		opts.ProgressInterval = 200 * time.Millisecond
		done = make(chan struct{})
		go p.run(ch, done)
		defer func() { close(ch); <-done }()
	}
	pc, err := s.policyContext(srcSys)
	if err != nil {
		return nil, err
	}
	defer pc.Destroy()
	return copy.Image(ctx, pc, dest, src, opts)
}

func tagOrDigest(named reference.Named) string {
	if t, ok := named.(reference.Tagged); ok {
		return t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		return d.Digest().String()
	}
	return "latest"
}

// applyPlatform sets the os/arch[/variant] choice for manifest lists.
func applyPlatform(sys *types.SystemContext, platform string) error {
	if platform == "" {
		return nil
	}
	parts := strings.Split(platform, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("invalid platform %q: use os/arch[/variant], e.g. linux/amd64: %w", platform, errdefs.ErrInvalidArgument)
	}
	sys.OSChoice, sys.ArchitectureChoice = parts[0], parts[1]
	if len(parts) == 3 {
		sys.VariantChoice = parts[2]
	}
	return nil
}

// lastCause keeps the innermost part of a long wrapped error message.
func lastCause(msg string) string {
	parts := strings.Split(msg, ": ")
	if len(parts) > 2 {
		return strings.Join(parts[len(parts)-2:], ": ")
	}
	return msg
}

// hasTagOrDigest reports whether the user named a tag or digest (a registry
// port is neither).
func hasTagOrDigest(input string) bool {
	n, err := reference.ParseNormalizedNamed(input)
	if err != nil {
		return false
	}
	_, tagged := n.(reference.Tagged)
	_, digested := n.(reference.Digested)
	return tagged || digested
}
