//go:build skiff_local

package imagestore

import (
	"context"
	"io"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	cstorage "go.podman.io/storage"
)

// A build with the skiff_local tag is the CLI of the hot commands: it
// leaves containers/image's registry client, copy pipeline, archive
// transports and signature code out, for a binary that starts in about
// half the time. Its transfers answer ErrTransferElsewhere, before anything
// is read or written, and the CLI hands the whole command to skiff-full,
// the build that has them.

const CanTransfer = false

func (s *Store) Pull(context.Context, string, PullOptions) (PullResult, error) {
	return PullResult{}, ErrTransferElsewhere
}

func (s *Store) Push(context.Context, string, string, PushOptions) (PushResult, error) {
	return PushResult{}, ErrTransferElsewhere
}

func (s *Store) Save(context.Context, []string, string, io.Writer, SaveOptions) error {
	return ErrTransferElsewhere
}

func (s *Store) Load(context.Context, io.Reader) (LoadResult, error) {
	return LoadResult{}, ErrTransferElsewhere
}

func (s *Store) Import(context.Context, io.Reader, ImportOptions) (Image, error) {
	return Image{}, ErrTransferElsewhere
}

func (s *Store) Login(context.Context, string, string, string, LoginOptions) (string, error) {
	return "", ErrTransferElsewhere
}

func (s *Store) Logout(string) (bool, error) { return false, ErrTransferElsewhere }

func (s *Store) Distribution(context.Context, string, DistributionOptions) (Distribution, error) {
	return Distribution{}, ErrTransferElsewhere
}

func (s *Store) configByTransport(context.Context, *cstorage.Image, string) (*imgspecv1.Image, error) {
	return nil, ErrTransferElsewhere
}
