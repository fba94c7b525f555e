//go:build !skiff_local

package imagestore

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/compression"
)

// Import turns a (possibly compressed) tarball into a one-layer image. The
// layer is applied by containers/storage, which refuses entries that would
// land outside the layer ("../", symlinks pointing out). Entries it could
// not apply (see layerChecker) are refused first, as
// errdefs.ErrInvalidArgument naming the entry, and nothing is stored.
func (s *Store) Import(ctx context.Context, r io.Reader, o ImportOptions) (Image, error) {
	var named reference.Named
	if o.Reference != "" {
		n, err := parseNamed(o.Reference)
		if err != nil {
			return Image{}, err
		}
		named = n
	}
	now := time.Now().UTC()
	cfg := imgspecv1.Image{
		Created:  &now,
		Platform: imgspecv1.Platform{OS: "linux", Architecture: runtime.GOARCH},
		RootFS:   imgspecv1.RootFS{Type: "layers"},
		History:  []imgspecv1.History{{Created: &now, CreatedBy: "skiff import", Comment: o.Message}},
	}
	if err := ApplyChanges(&cfg.Config, o.Changes); err != nil {
		return Image{}, err
	}
	dir, err := os.MkdirTemp(s.opts.TmpDir, "skiff-import-")
	if err != nil {
		return Image{}, err
	}
	defer os.RemoveAll(dir)
	layer, diffID, err := writeLayerBlob(dir, r)
	if err != nil {
		return Image{}, err
	}
	cfg.RootFS.DiffIDs = []digest.Digest{diffID}
	refName := ""
	if named != nil {
		refName = named.String()
	}
	if err := writeLayout(dir, refName, cfg, layer); err != nil {
		return Image{}, err
	}
	src, err := layout.NewReference(dir, refName)
	if err != nil {
		return Image{}, err
	}
	return s.copyIntoStore(ctx, src, named)
}

// writeLayerBlob stores the tarball as a blob, returning its descriptor and
// the digest of its uncompressed form (the diff ID). Input that is not a tar
// archive is refused here, before anything reaches the store.
func writeLayerBlob(dir string, r io.Reader) (imgspecv1.Descriptor, digest.Digest, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return imgspecv1.Descriptor{}, "", err
	}
	tmp := filepath.Join(blobs, "incoming")
	f, err := os.Create(tmp)
	if err != nil {
		return imgspecv1.Descriptor{}, "", err
	}
	raw := sha256.New()
	br := bufio.NewReader(io.TeeReader(r, io.MultiWriter(f, raw)))
	algo, decompress, br2, err := compression.DetectCompressionFormat(br)
	if err != nil {
		f.Close()
		return imgspecv1.Descriptor{}, "", notATar(err)
	}
	dr := io.NopCloser(br2)
	if decompress != nil {
		if dr, err = decompress(br2); err != nil {
			f.Close()
			return imgspecv1.Descriptor{}, "", notATar(err)
		}
	}
	diff := sha256.New()
	tr := tar.NewReader(io.TeeReader(dr, diff))
	check := newLayerChecker(false)
	entries := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Close()
			return imgspecv1.Descriptor{}, "", notATar(err)
		}
		if err := check.check(h); err != nil {
			f.Close()
			return imgspecv1.Descriptor{}, "", fmt.Errorf("cannot import the archive: %w", err)
		}
		entries++
	}
	// Drain the padding after the end-of-archive marker so both digests
	// cover the whole input.
	if _, err := io.Copy(diff, dr); err != nil {
		f.Close()
		return imgspecv1.Descriptor{}, "", notATar(err)
	}
	io.Copy(io.Discard, br2)
	dr.Close()
	if err := f.Close(); err != nil {
		return imgspecv1.Descriptor{}, "", err
	}
	if entries == 0 {
		return imgspecv1.Descriptor{}, "", notATar(errors.New("no entries"))
	}
	st, err := os.Stat(tmp)
	if err != nil {
		return imgspecv1.Descriptor{}, "", err
	}
	d := digest.NewDigestFromBytes(digest.SHA256, raw.Sum(nil))
	if err := os.Rename(tmp, filepath.Join(blobs, d.Encoded())); err != nil {
		return imgspecv1.Descriptor{}, "", err
	}
	mt := imgspecv1.MediaTypeImageLayer
	switch algo.Name() {
	case "":
	case "zstd":
		mt = imgspecv1.MediaTypeImageLayerZstd
	case "gzip":
		mt = imgspecv1.MediaTypeImageLayerGzip
	default:
		return imgspecv1.Descriptor{}, "", notATar(fmt.Errorf("%s layers are not supported in images; use gzip, zstd or none", algo.Name()))
	}
	return imgspecv1.Descriptor{MediaType: mt, Digest: d, Size: st.Size()}, digest.NewDigestFromBytes(digest.SHA256, diff.Sum(nil)), nil
}

func notATar(err error) error {
	return fmt.Errorf("import needs a tar archive (plain, gzip or zstd) of a root filesystem: %v: %w", err, errdefs.ErrInvalidArgument)
}

// writeLayout writes config, manifest and index for a one-layer image.
func writeLayout(dir, refName string, cfg imgspecv1.Image, layer imgspecv1.Descriptor) error {
	cfgDesc, err := writeJSONBlob(dir, imgspecv1.MediaTypeImageConfig, cfg)
	if err != nil {
		return err
	}
	m := imgspecv1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: imgspecv1.MediaTypeImageManifest,
		Config:    cfgDesc,
		Layers:    []imgspecv1.Descriptor{layer},
	}
	mDesc, err := writeJSONBlob(dir, imgspecv1.MediaTypeImageManifest, m)
	if err != nil {
		return err
	}
	if refName != "" {
		mDesc.Annotations = map[string]string{imgspecv1.AnnotationRefName: refName}
	}
	idx := imgspecv1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: imgspecv1.MediaTypeImageIndex, Manifests: []imgspecv1.Descriptor{mDesc}}
	if err := writeJSON(filepath.Join(dir, imgspecv1.ImageIndexFile), idx); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, imgspecv1.ImageLayoutFile), imgspecv1.ImageLayout{Version: imgspecv1.ImageLayoutVersion})
}

func writeJSONBlob(dir, mediaType string, v any) (imgspecv1.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return imgspecv1.Descriptor{}, err
	}
	d := digest.FromBytes(b)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), b, 0o644); err != nil {
		return imgspecv1.Descriptor{}, err
	}
	return imgspecv1.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}, nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
