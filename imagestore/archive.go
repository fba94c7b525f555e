//go:build !skiff_local

package imagestore

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/compression"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	storagearchive "go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"
)

// Archive formats for save and load.
const (
	FormatDockerArchive = "docker-archive"
	FormatOCIArchive    = "oci-archive"
)

// Save writes the named images into one archive at path, or to w when path
// is empty. The archive is built beside path and renamed into place, so a
// failure leaves no partial file.
func (s *Store) Save(ctx context.Context, inputs []string, path string, w io.Writer, o SaveOptions) error {
	if len(inputs) == 0 {
		return fmt.Errorf("save needs at least one image: %w", errdefs.ErrInvalidArgument)
	}
	dir := s.opts.TmpDir
	if path != "" {
		dir = filepath.Dir(path)
	}
	tmp, err := os.CreateTemp(dir, ".skiff-save-*")
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	switch o.Format {
	case "", FormatDockerArchive:
		err = s.saveDocker(ctx, inputs, tmp.Name())
	case FormatOCIArchive:
		err = s.saveOCI(ctx, inputs, tmp.Name())
	default:
		return fmt.Errorf("unknown archive format %q: use docker-archive or oci-archive: %w", o.Format, errdefs.ErrInvalidArgument)
	}
	if err != nil {
		return err
	}
	if path != "" {
		// CreateTemp made it 0600; an archive is as readable as any new file.
		if err := os.Chmod(tmp.Name(), 0o644&^umask()); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), path)
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// saveSource resolves an input to the store reference and the name to record.
func (s *Store) saveSource(input string) (types.ImageReference, reference.NamedTagged, error) {
	img, name, err := s.lookup(input)
	if err != nil {
		return nil, nil, err
	}
	ref, err := istorage.Transport.NewStoreReference(s.cs, nil, img.ID)
	if err != nil {
		return nil, nil, err
	}
	var tagged reference.NamedTagged
	if name != "" {
		if n, err := reference.ParseNormalizedNamed(name); err == nil {
			tagged, _ = n.(reference.NamedTagged)
		}
	}
	return ref, tagged, nil
}

func (s *Store) saveDocker(ctx context.Context, inputs []string, path string) error {
	sys := s.sys(TLSDefault)
	w, err := archive.NewWriter(sys, path)
	if err != nil {
		return err
	}
	// containers/image's archive writer cannot write one image twice (the
	// reused config blob is lost), so each image is written once and its
	// further names are added to manifest.json afterwards.
	written := map[string]bool{}
	extra := map[string][]string{}
	for _, input := range inputs {
		src, tagged, err := s.saveSource(input)
		if err != nil {
			w.Close()
			return err
		}
		id := src.StringWithinTransport()
		img, _ := istorage.Transport.GetStoreImage(s.cs, src)
		if img != nil {
			id = img.ID
		}
		if written[id] {
			if tagged != nil {
				extra[id] = append(extra[id], reference.FamiliarString(tagged))
			}
			continue
		}
		written[id] = true
		dest, err := w.NewReference(tagged)
		if err != nil {
			w.Close()
			return err
		}
		if _, err := s.copyWithProgress(ctx, dest, src, sys, sys, nil); err != nil {
			w.Close()
			return fmt.Errorf("saving %s: %w", input, err)
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if len(extra) == 0 {
		return nil
	}
	return addRepoTags(path, extra)
}

// addRepoTags rewrites a docker-archive, adding RepoTags to the manifest.json
// entries of the given image IDs.
func addRepoTags(path string, extra map[string][]string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(path), ".skiff-tags-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Close()
			return err
		}
		var body io.Reader = tr
		if h.Name == "manifest.json" {
			b, err := mergeRepoTags(tr, extra)
			if err != nil {
				out.Close()
				return err
			}
			h.Size, body = int64(len(b)), bytes.NewReader(b)
		}
		if err := tw.WriteHeader(h); err != nil {
			out.Close()
			return err
		}
		if _, err := io.Copy(tw, body); err != nil {
			out.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(out.Name(), path)
}

func mergeRepoTags(r io.Reader, extra map[string][]string) ([]byte, error) {
	var items []map[string]any
	if err := json.NewDecoder(r).Decode(&items); err != nil {
		return nil, err
	}
	for _, item := range items {
		cfg, _ := item["Config"].(string)
		id := strings.TrimSuffix(filepath.Base(cfg), ".json")
		tags, _ := item["RepoTags"].([]any)
		for _, t := range extra[id] {
			tags = append(tags, t)
		}
		item["RepoTags"] = tags
	}
	return json.Marshal(items)
}

// saveOCI writes an OCI image layout holding every image, then tars it: the
// oci-archive transport itself holds one image only.
func (s *Store) saveOCI(ctx context.Context, inputs []string, path string) error {
	dir, err := os.MkdirTemp(s.opts.TmpDir, "skiff-oci-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sys := s.sys(TLSDefault)
	for _, input := range inputs {
		src, tagged, err := s.saveSource(input)
		if err != nil {
			return err
		}
		refName := ""
		if tagged != nil {
			refName = tagged.String()
		}
		dest, err := layout.NewReference(dir, refName)
		if err != nil {
			return err
		}
		if _, err := s.copyWithProgress(ctx, dest, src, sys, sys, nil); err != nil {
			return fmt.Errorf("saving %s: %w", input, err)
		}
	}
	rc, err := storagearchive.Tar(dir, storagearchive.Uncompressed)
	if err != nil {
		return err
	}
	defer rc.Close()
	return writeFile(path, rc)
}

func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Load reads a docker-archive or oci-archive (optionally compressed) from r
// and stores every image in it. A corrupt or truncated archive is
// errdefs.ErrInvalidArgument and stores no image.
func (s *Store) Load(ctx context.Context, r io.Reader) (LoadResult, error) {
	path, cleanup, err := s.spool(r)
	if err != nil {
		return LoadResult{}, err
	}
	defer cleanup()
	format, err := sniffArchive(path)
	if err != nil {
		return LoadResult{}, err
	}
	if format == FormatOCIArchive {
		return s.loadOCI(ctx, path)
	}
	return s.loadDocker(ctx, path)
}

// spool copies r, decompressed, into a temporary file: both archive readers
// need random access.
func (s *Store) spool(r io.Reader) (string, func(), error) {
	dr, _, err := compression.AutoDecompress(bufio.NewReader(r))
	if err != nil {
		return "", nil, badArchive(err)
	}
	defer dr.Close()
	f, err := os.CreateTemp(s.opts.TmpDir, "skiff-load-*.tar")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	if _, err := io.Copy(f, dr); err != nil {
		f.Close()
		cleanup()
		return "", nil, badArchive(err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return f.Name(), cleanup, nil
}

func badArchive(err error) error {
	return fmt.Errorf("the archive is corrupt or truncated (%v); load needs a docker-archive or oci-archive tarball: %w", err, errdefs.ErrInvalidArgument)
}

// sniffArchive reads the tar headers (not the contents) to tell the format.
func sniffArchive(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	format := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", badArchive(err)
		}
		switch filepath.Clean(h.Name) {
		case "manifest.json":
			format = FormatDockerArchive
		case "oci-layout", "index.json":
			if format == "" {
				format = FormatOCIArchive
			}
		}
	}
	if format == "" {
		return "", fmt.Errorf("the archive has neither manifest.json (docker-archive) nor index.json (oci-archive): %w", errdefs.ErrInvalidArgument)
	}
	return format, nil
}

func (s *Store) loadDocker(ctx context.Context, path string) (LoadResult, error) {
	sys := s.sys(TLSDefault)
	reader, err := archive.NewReader(sys, path)
	if err != nil {
		return LoadResult{}, badArchive(err)
	}
	defer reader.Close()
	lists, err := reader.List()
	if err != nil {
		return LoadResult{}, badArchive(err)
	}
	if len(lists) == 0 {
		return LoadResult{}, fmt.Errorf("the docker-archive's manifest.json lists no image: %w", errdefs.ErrInvalidArgument)
	}
	var images []archived
	for _, refs := range lists {
		a := archived{src: refs[0]}
		for _, ref := range refs {
			if n := ref.DockerReference(); n != nil {
				a.names = append(a.names, n)
			}
		}
		images = append(images, a)
	}
	return s.loadAll(ctx, sys, images)
}

func (s *Store) loadOCI(ctx context.Context, path string) (LoadResult, error) {
	dir, err := os.MkdirTemp(s.opts.TmpDir, "skiff-load-oci-")
	if err != nil {
		return LoadResult{}, err
	}
	defer os.RemoveAll(dir)
	f, err := os.Open(path)
	if err != nil {
		return LoadResult{}, err
	}
	err = storagearchive.Untar(f, dir, &storagearchive.TarOptions{NoLchown: true})
	f.Close()
	if err != nil {
		return LoadResult{}, badArchive(err)
	}
	list, err := layout.List(dir)
	if err != nil {
		return LoadResult{}, badArchive(err)
	}
	if len(list) == 0 {
		return LoadResult{}, fmt.Errorf("the oci-archive's index.json lists no image: %w", errdefs.ErrInvalidArgument)
	}
	var images []archived
	for _, item := range list {
		a := archived{src: item.Reference}
		if n, err := parseNamed(item.ManifestDescriptor.Annotations["org.opencontainers.image.ref.name"]); err == nil {
			a.names = append(a.names, n)
		}
		images = append(images, a)
	}
	return s.loadAll(ctx, s.sys(TLSDefault), images)
}

// archived is one image of an archive and the names it carries there.
type archived struct {
	src   types.ImageReference
	names []reference.Named
}

// loadAll checks the layers of every image before it stores any, then
// copies them in.
func (s *Store) loadAll(ctx context.Context, sys *types.SystemContext, images []archived) (LoadResult, error) {
	for i, a := range images {
		if err := s.checkLayers(ctx, sys, a.src); err != nil {
			what := fmt.Sprintf("image %d of the archive", i+1)
			if len(a.names) > 0 {
				what = reference.FamiliarString(a.names[0])
			}
			return LoadResult{}, fmt.Errorf("cannot load %s: %w", what, err)
		}
	}
	var res LoadResult
	for _, a := range images {
		if err := s.loadOne(ctx, sys, a.src, a.names, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// loadOne copies one archived image into the store under all its names.
func (s *Store) loadOne(ctx context.Context, sys *types.SystemContext, src types.ImageReference, names []reference.Named, res *LoadResult) error {
	var first reference.Named
	if len(names) > 0 {
		first = names[0]
	}
	dest, err := istorage.Transport.NewStoreReference(s.cs, first, "")
	if err != nil {
		return err
	}
	if _, err := s.copyWithProgress(ctx, dest, src, sys, sys, nil); err != nil {
		return loadError(err)
	}
	img, err := istorage.Transport.GetStoreImage(s.cs, dest)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		res.IDs = append(res.IDs, img.ID)
		return nil
	}
	var extra []string
	for _, n := range names {
		extra = append(extra, n.String())
		res.Names = append(res.Names, reference.FamiliarString(n))
	}
	return s.cs.AddNames(img.ID, extra)
}

func loadError(err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) {
		return badArchive(err)
	}
	msg := err.Error()
	for _, s := range []string{"digest", "unexpected EOF", "invalid tar", "does not match", "checksum"} {
		if containsFold(msg, s) {
			return badArchive(err)
		}
	}
	// containers/storage applies layers in a re-executed child: its exit
	// status must not become skiff's.
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return fmt.Errorf("loading image: %v", err)
	}
	return fmt.Errorf("loading image: %w", err)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// copyIntoStore copies src into the store under named (nil: untagged).
func (s *Store) copyIntoStore(ctx context.Context, src types.ImageReference, named reference.Named) (Image, error) {
	dest, err := istorage.Transport.NewStoreReference(s.cs, named, "")
	if err != nil {
		return Image{}, err
	}
	sys := s.sys(TLSDefault)
	if _, err := s.copyWithProgress(ctx, dest, src, sys, sys, nil); err != nil {
		return Image{}, loadError(err)
	}
	img, err := istorage.Transport.GetStoreImage(s.cs, dest)
	if err != nil {
		return Image{}, err
	}
	return s.fromStorage(img, true), nil
}

// umask reads the process umask (the only way is to set it and restore it).
func umask() os.FileMode {
	m := unix.Umask(0)
	unix.Umask(m)
	return os.FileMode(m)
}
