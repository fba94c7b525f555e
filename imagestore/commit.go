package imagestore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	cstorage "go.podman.io/storage"

	"github.com/skiff-engine/skiff/storage"
)

// A committed image is written into containers/storage directly, as
// containers/image's storage destination would leave it, so that
// everything reading images (inspect, history, save, push, run) sees a
// first-class image: the new layer is made by the caller straight from the
// container's layer (storage.CommitLayer), and the image record gets
//
//	big data "sha256:<id>"          the config (id = its digest: Docker's image ID)
//	big data "manifest-<digest>"    the manifest, and again as "manifest"
//	Digest                          the manifest's digest
//
// The manifest lists every layer uncompressed (digest = diff ID), as
// buildah does for local images: containers/image finds layers by their
// uncompressed digest and compresses them when it pushes. The base
// image's layers are shared, never read.

// CommitOptions describe the image Commit makes.
type CommitOptions struct {
	Base      string // the container's image ID
	Reference string // name for the new image; empty leaves it untagged
	// Config is the container's: its command, environment, user, working
	// directory, labels and ports replace the base image's, as Docker's
	// commit does. Changes (Dockerfile instructions) go on top.
	Config  imgspecv1.ImageConfig
	Changes []string
	Message string // history comment
	Author  string
	// CreatedBy is the history entry's command (the container's).
	CreatedBy string
	Squash    bool   // one layer with the whole file system
	Format    string // "oci" (default) or "docker" media types
	// Layer makes the new layer on parent (the base image's top layer;
	// "" with Squash). Commit calls it once the options are known good,
	// and deletes the layer when the image cannot be made.
	Layer func(parent string) (storage.Layer, error)
}

// Commit makes an image of the base image plus one layer. Bad options (a
// reference, a change, a format) are errdefs.ErrInvalidArgument, found
// before any layer is made.
func (s *Store) Commit(ctx context.Context, o CommitOptions) (Image, error) {
	var named string
	if o.Reference != "" {
		n, err := ParseName(o.Reference)
		if err != nil {
			return Image{}, err
		}
		if n.Digest != "" {
			return Image{}, fmt.Errorf("invalid reference %q: a commit's name cannot contain a digest: %w", o.Reference, errdefs.ErrInvalidArgument)
		}
		named = n.String()
	}
	types, err := mediaTypes(o.Format)
	if err != nil {
		return Image{}, err
	}
	base, err := s.cs.Image(o.Base)
	if err != nil {
		return Image{}, storage.Err(err)
	}
	cfg, err := s.config(ctx, base, o.Base)
	if err != nil {
		return Image{}, err
	}
	now := time.Now().UTC()
	newCfg := commitConfig(*cfg, o, now)
	if err := ApplyChanges(&newCfg.Config, o.Changes); err != nil {
		return Image{}, err
	}
	parent := base.TopLayer
	if o.Squash {
		parent = ""
	}
	layers, err := s.layerChain(parent)
	if err != nil {
		return Image{}, err
	}
	l, err := o.Layer(parent)
	if err != nil {
		return Image{}, err
	}
	img, err := s.createCommitted(newCfg, append(layers, l), types, now)
	if err == nil && named != "" {
		err = storage.Err(s.cs.AddNames(img.ID, []string{named}))
		if err != nil {
			s.cs.DeleteImage(img.ID, true)
		}
	}
	if err != nil {
		if img == nil {
			s.cs.DeleteLayer(l.ID)
		}
		return Image{}, err
	}
	if img, err = s.cs.Image(img.ID); err != nil {
		return Image{}, storage.Err(err)
	}
	return s.fromStorage(img, false), nil
}

// commitConfig is the base config with the container's settings and one
// more history entry (for Squash, the base's entries no longer have a
// layer of their own).
func commitConfig(base imgspecv1.Image, o CommitOptions, now time.Time) imgspecv1.Image {
	c := base
	c.Created = &now
	c.Author = o.Author
	cc := o.Config
	c.Config.Cmd, c.Config.Entrypoint, c.Config.Env = cc.Cmd, cc.Entrypoint, cc.Env
	c.Config.User, c.Config.WorkingDir, c.Config.Labels = cc.User, cc.WorkingDir, cc.Labels
	c.Config.ExposedPorts = cc.ExposedPorts
	if cc.StopSignal != "" {
		c.Config.StopSignal = cc.StopSignal
	}
	c.History = append([]imgspecv1.History(nil), base.History...)
	c.RootFS = imgspecv1.RootFS{Type: "layers", DiffIDs: append([]digest.Digest(nil), base.RootFS.DiffIDs...)}
	if o.Squash {
		for i := range c.History {
			c.History[i].EmptyLayer = true
		}
		c.RootFS.DiffIDs = nil
	}
	c.History = append(c.History, imgspecv1.History{Created: &now, CreatedBy: o.CreatedBy, Author: o.Author, Comment: o.Message})
	return c
}

// layerChain lists the layers from the base up to top.
func (s *Store) layerChain(top string) ([]storage.Layer, error) {
	var out []storage.Layer
	for id := top; id != ""; {
		l, err := s.cs.Layer(id)
		if err != nil {
			return nil, storage.Err(err)
		}
		if l.UncompressedDigest == "" {
			return nil, fmt.Errorf("layer %s of the image has no known digest: %w", l.ID, errdefs.ErrFailedPrecondition)
		}
		out = append([]storage.Layer{{ID: l.ID, DiffID: l.UncompressedDigest, Size: l.UncompressedSize}}, out...)
		id = l.Parent
	}
	return out, nil
}

// Docker's image manifest, version 2 schema 2: its media types, the layer
// uncompressed as a commit stores it.
const (
	dockerManifestType = "application/vnd.docker.distribution.manifest.v2+json"
	dockerConfigType   = "application/vnd.docker.container.image.v1+json"
	dockerLayerType    = "application/vnd.docker.image.rootfs.diff.tar"
)

// commitTypes are the media types of one manifest format.
type commitTypes struct{ manifest, config, layer string }

func mediaTypes(format string) (commitTypes, error) {
	switch format {
	case "", "oci":
		return commitTypes{imgspecv1.MediaTypeImageManifest, imgspecv1.MediaTypeImageConfig, imgspecv1.MediaTypeImageLayer}, nil
	case "docker":
		return commitTypes{dockerManifestType, dockerConfigType, dockerLayerType}, nil
	}
	return commitTypes{}, fmt.Errorf("unknown image format %q: use oci or docker: %w", format, errdefs.ErrInvalidArgument)
}

// createCommitted writes the image record for cfg over layers (the last
// one on top). A nil image means nothing was created.
func (s *Store) createCommitted(cfg imgspecv1.Image, layers []storage.Layer, t commitTypes, now time.Time) (*cstorage.Image, error) {
	last := layers[len(layers)-1]
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, last.DiffID)
	cfgBlob, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cfgDigest := digest.FromBytes(cfgBlob)
	m := imgspecv1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: t.manifest,
		Config:    imgspecv1.Descriptor{MediaType: t.config, Digest: cfgDigest, Size: int64(len(cfgBlob))},
	}
	for _, l := range layers {
		m.Layers = append(m.Layers, imgspecv1.Descriptor{MediaType: t.layer, Digest: l.DiffID, Size: l.Size})
	}
	mBlob, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	mDigest := digest.FromBytes(mBlob)
	img, err := s.cs.CreateImage(cfgDigest.Encoded(), nil, last.ID, "", &cstorage.ImageOptions{
		CreationDate: now,
		Digest:       mDigest,
		BigData: []cstorage.ImageBigDataOption{
			{Key: cfgDigest.String(), Data: cfgBlob, Digest: cfgDigest},
			{Key: cstorage.ImageDigestManifestBigDataNamePrefix + "-" + mDigest.String(), Data: mBlob, Digest: mDigest},
			{Key: cstorage.ImageDigestBigDataKey, Data: mBlob, Digest: mDigest},
		},
	})
	if err != nil {
		return nil, storage.Err(err)
	}
	return img, nil
}
