//go:build !skiff_local

package imagestore

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/types"
)

// Limits of Linux path names (NAME_MAX, PATH_MAX without the NUL).
const (
	nameMax = 255
	pathMax = 4095
)

// layerChecker refuses, before anything reaches the store, the tar entries
// containers/storage cannot apply. It would otherwise fail half-way through
// the image, in a re-executed child whose error is "exit status 1" and a
// message that often names no entry.
type layerChecker struct {
	// seen holds the entries so far (true: a directory), for hard links,
	// which can only point to a file created before them.
	seen map[string]bool
	// lowerLinks: a hard link may point to a file of a lower layer (the vfs
	// driver applies a layer onto a copy of its parent; overlay applies it
	// to an empty directory, where such a link fails).
	lowerLinks bool
}

func newLayerChecker(lowerLinks bool) *layerChecker {
	return &layerChecker{seen: map[string]bool{}, lowerLinks: lowerLinks}
}

// check returns an errdefs.ErrInvalidArgument naming the entry, or nil.
func (c *layerChecker) check(h *tar.Header) error {
	name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
	if err := checkPathName(h.Name, name); err != nil {
		return err
	}
	if name == "" && h.Typeflag != tar.TypeDir {
		return badEntry(h.Name, "is the root directory, and it is not a directory")
	}
	base := path.Base(name)
	switch {
	case strings.HasPrefix(name, ".wh..wh."): // aufs metadata, skipped by storage
	case strings.HasPrefix(base, ".wh.") && base != ".wh..wh..opq":
		switch base[len(".wh."):] {
		case "", ".", "..":
			return badEntry(h.Name, "is a whiteout that names no file (a whiteout is .wh.<name>)")
		}
		delete(c.seen, path.Join(path.Dir(name), base[len(".wh."):]))
		return nil
	}
	switch h.Typeflag {
	case tar.TypeLink:
		target := strings.TrimPrefix(path.Clean("/"+h.Linkname), "/")
		if err := checkPathName(h.Linkname, target); err != nil {
			return badEntry(h.Name, fmt.Sprintf("is a hard link to a path that is too long (%d bytes)", len(h.Linkname)))
		}
		isDir, ok := c.seen[target]
		switch {
		case target == "" || isDir:
			return badEntry(h.Name, fmt.Sprintf("is a hard link to the directory %q", h.Linkname))
		case !ok && !c.lowerLinks:
			return badEntry(h.Name, fmt.Sprintf("is a hard link to %q, which is not a file earlier in the same layer", h.Linkname))
		}
	case tar.TypeSymlink:
		if len(h.Linkname) > pathMax {
			return badEntry(h.Name, fmt.Sprintf("is a symbolic link to a path of %d bytes (Linux allows %d)", len(h.Linkname), pathMax))
		}
	}
	c.seen[name] = h.Typeflag == tar.TypeDir
	return nil
}

func checkPathName(raw, clean string) error {
	if len(clean) > pathMax {
		return badEntry(raw, fmt.Sprintf("has a path of %d bytes (Linux allows %d)", len(clean), pathMax))
	}
	for _, part := range strings.Split(clean, "/") {
		if len(part) > nameMax {
			return badEntry(raw, fmt.Sprintf("has a file name of %d bytes (Linux allows %d)", len(part), nameMax))
		}
	}
	return nil
}

// badEntry names the entry, cut short when it is long: the message must
// stay one readable line.
func badEntry(name, why string) error {
	if len(name) > 60 {
		name = name[:40] + "…" + name[len(name)-12:]
	}
	return fmt.Errorf("entry %q %s: %w", name, why, errdefs.ErrInvalidArgument)
}

// checkLayers reads every layer of the image src names (the instance for
// this platform in a list) and checks each entry, before the copy stores
// anything.
func (s *Store) checkLayers(ctx context.Context, sys *types.SystemContext, src types.ImageReference) error {
	is, err := src.NewImageSource(ctx, sys)
	if err != nil {
		return badArchive(err)
	}
	defer is.Close()
	unparsed := image.UnparsedInstance(is, nil)
	raw, mt, err := unparsed.Manifest(ctx)
	if err != nil {
		return badArchive(err)
	}
	if manifest.MIMETypeIsMultiImage(mt) {
		list, err := manifest.ListFromBlob(raw, mt)
		if err != nil {
			return badArchive(err)
		}
		d, err := list.ChooseInstance(sys)
		if err != nil {
			return fmt.Errorf("%v: %w", err, errdefs.ErrNotFound)
		}
		unparsed = image.UnparsedInstance(is, &d)
	}
	img, err := image.FromUnparsedImage(ctx, sys, unparsed)
	if err != nil {
		return badArchive(err)
	}
	lowerLinks := s.cs.GraphDriverName() == "vfs"
	for i, l := range img.LayerInfos() {
		if err := checkLayerBlob(ctx, is, l, newLayerChecker(lowerLinks && i > 0)); err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
	}
	return nil
}

func checkLayerBlob(ctx context.Context, is types.ImageSource, l types.BlobInfo, c *layerChecker) error {
	rc, _, err := is.GetBlob(ctx, l, none.NoCache)
	if err != nil {
		return badArchive(err)
	}
	defer rc.Close()
	dr, _, err := compression.AutoDecompress(rc)
	if err != nil {
		return badArchive(err)
	}
	defer dr.Close()
	tr := tar.NewReader(dr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return badArchive(err)
		}
		if err := c.check(h); err != nil {
			return err
		}
	}
}
