package engine

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/imagestore"
)

// ImagePullOptions tune ImagePull.
type ImagePullOptions struct {
	TLSVerify imagestore.TLSVerify
	Platform  string
	Progress  io.Writer // nil: quiet
	Terminal  bool
}

// ImagePull pulls an image into the local store.
func (e *Engine) ImagePull(ctx context.Context, name string, o ImagePullOptions) (imagestore.PullResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return imagestore.PullResult{}, err
	}
	return is.Pull(ctx, name, imagestore.PullOptions{TLSVerify: o.TLSVerify, Platform: o.Platform, Progress: o.Progress, Terminal: o.Terminal})
}

// ImagePushOptions tune ImagePush.
type ImagePushOptions struct {
	TLSVerify imagestore.TLSVerify
	Progress  io.Writer
	Terminal  bool
}

// ImagePush pushes a local image to dest (its own name when empty).
func (e *Engine) ImagePush(ctx context.Context, source, dest string, o ImagePushOptions) (imagestore.PushResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return imagestore.PushResult{}, err
	}
	return is.Push(ctx, source, dest, imagestore.PushOptions{TLSVerify: o.TLSVerify, Progress: o.Progress, Terminal: o.Terminal})
}

// ImageListOptions select images: Filters are Docker's key=value filters
// (dangling, label, before, since, reference).
type ImageListOptions struct {
	All     bool
	Filters []string
}

// ImageList lists local images matching every filter.
func (e *Engine) ImageList(ctx context.Context, o ImageListOptions) ([]imagestore.Image, error) {
	is, err := e.imageStore()
	if err != nil {
		return nil, err
	}
	match, err := e.imageFilter(ctx, is, o.Filters)
	if err != nil {
		return nil, err
	}
	imgs, err := is.List()
	if err != nil {
		return nil, err
	}
	out := imgs[:0]
	for _, img := range imgs {
		if match(img) {
			out = append(out, img)
		}
	}
	return out, nil
}

// imageFilter compiles Docker's image filters into one predicate.
func (e *Engine) imageFilter(ctx context.Context, is *imagestore.Store, filters []string) (func(imagestore.Image) bool, error) {
	var preds []func(imagestore.Image) bool
	for _, f := range filters {
		key, val, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("bad filter %q: use key=value (dangling, label, before, since, reference): %w", f, errdefs.ErrInvalidArgument)
		}
		switch key {
		case "dangling":
			want := val == "true" || val == "1"
			if !want && val != "false" && val != "0" {
				return nil, fmt.Errorf("bad filter %q: dangling takes true or false: %w", f, errdefs.ErrInvalidArgument)
			}
			preds = append(preds, func(i imagestore.Image) bool { return i.Dangling() == want })
		case "before", "since":
			ref, err := is.Lookup(val)
			if err != nil {
				return nil, err
			}
			t, before := ref.Created, key == "before"
			preds = append(preds, func(i imagestore.Image) bool {
				if before {
					return i.Created.Before(t)
				}
				return i.Created.After(t)
			})
		case "reference":
			preds = append(preds, func(i imagestore.Image) bool { return matchReference(i.Names, val) })
		case "label":
			lk, lv, hasVal := strings.Cut(val, "=")
			preds = append(preds, func(i imagestore.Image) bool {
				_, cfg, err := is.Config(ctx, i.ID)
				if err != nil {
					return false
				}
				v, ok := cfg.Config.Labels[lk]
				return ok && (!hasVal || v == lv)
			})
		default:
			return nil, fmt.Errorf("unknown filter %q: images takes dangling, label, before, since, reference: %w", key, errdefs.ErrInvalidArgument)
		}
	}
	return func(i imagestore.Image) bool {
		for _, p := range preds {
			if !p(i) {
				return false
			}
		}
		return true
	}, nil
}

// matchReference matches Docker's reference filter: a glob against the
// familiar name, with or without the tag.
func matchReference(names []string, pattern string) bool {
	for _, n := range names {
		fam := imagestore.FamiliarName(n)
		repo, _ := imagestore.SplitRepoTag(n)
		for _, cand := range []string{fam, repo, n} {
			if ok, _ := path.Match(pattern, cand); ok {
				return true
			}
		}
	}
	return false
}

// ImageRemoveOptions tune ImageRemove.
type ImageRemoveOptions struct {
	Force bool
}

// ImageRemove untags or deletes each image, going on after a failure as
// Docker does; the error reports the first failure.
func (e *Engine) ImageRemove(ctx context.Context, names []string, o ImageRemoveOptions) ([]imagestore.RemoveResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return nil, err
	}
	var out []imagestore.RemoveResult
	var first error
	for _, n := range names {
		res, err := is.Remove(n, o.Force)
		if err != nil && first == nil {
			first = err
		}
		out = append(out, res)
	}
	return out, first
}

// ImageTag names an image.
func (e *Engine) ImageTag(ctx context.Context, source, target string) error {
	is, err := e.imageStore()
	if err != nil {
		return err
	}
	return is.Tag(source, target)
}

// ImageUntag removes names (all when none given) but keeps the image.
func (e *Engine) ImageUntag(ctx context.Context, image string, names []string) ([]string, error) {
	is, err := e.imageStore()
	if err != nil {
		return nil, err
	}
	return is.Untag(image, names)
}

// ImageInspect returns Docker's inspect document.
func (e *Engine) ImageInspect(ctx context.Context, name string) (imagestore.Inspect, error) {
	is, err := e.imageStore()
	if err != nil {
		return imagestore.Inspect{}, err
	}
	return is.InspectImage(ctx, name)
}

// ImageExists reports whether name resolves to a local image.
func (e *Engine) ImageExists(ctx context.Context, name string) (bool, error) {
	is, err := e.imageStore()
	if err != nil {
		return false, err
	}
	_, err = is.Lookup(name)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// HistoryEntry is one row of ImageHistory.
type HistoryEntry = imagestore.HistoryEntry

// ImageHistory lists the build steps of an image.
func (e *Engine) ImageHistory(ctx context.Context, name string) ([]imagestore.HistoryEntry, error) {
	is, err := e.imageStore()
	if err != nil {
		return nil, err
	}
	return is.History(ctx, name)
}

// ImageSaveOptions tune ImageSave.
type ImageSaveOptions struct {
	Format string    // docker-archive (default) or oci-archive
	Output string    // file path; empty writes to Writer
	Writer io.Writer // used when Output is empty
}

// ImageSave writes images into one archive file.
func (e *Engine) ImageSave(ctx context.Context, names []string, o ImageSaveOptions) error {
	is, err := e.imageStore()
	if err != nil {
		return err
	}
	return is.Save(ctx, names, o.Output, o.Writer, imagestore.SaveOptions{Format: o.Format})
}

// ImageLoad stores every image of an archive read from r.
func (e *Engine) ImageLoad(ctx context.Context, r io.Reader) (imagestore.LoadResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return imagestore.LoadResult{}, err
	}
	return is.Load(ctx, r)
}

// ImageImportOptions describe the image built by ImageImport.
type ImageImportOptions = imagestore.ImportOptions

// ImageImport makes a one-layer image from a root filesystem tarball.
func (e *Engine) ImageImport(ctx context.Context, r io.Reader, o ImageImportOptions) (imagestore.Image, error) {
	is, err := e.imageStore()
	if err != nil {
		return imagestore.Image{}, err
	}
	return is.Import(ctx, r, o)
}

// ImagePruneOptions tune ImagePrune.
type ImagePruneOptions struct {
	All     bool // also images with names, when no container uses them
	Filters []string
}

// ImagePruneResult lists deleted image IDs and the space freed.
type ImagePruneResult struct {
	Deleted   []string
	Reclaimed int64
}

// ImagePrune deletes dangling images (every unused image with All).
func (e *Engine) ImagePrune(ctx context.Context, o ImagePruneOptions) (ImagePruneResult, error) {
	var res ImagePruneResult
	filters := o.Filters
	if !o.All {
		filters = append(filters, "dangling=true")
	}
	imgs, err := e.ImageList(ctx, ImageListOptions{Filters: filters})
	if err != nil {
		return res, err
	}
	is, _ := e.imageStore()
	for _, img := range imgs {
		if _, err := is.Remove(img.ID, true); err != nil {
			if errdefs.IsConflict(err) {
				continue // in use by a container
			}
			return res, err
		}
		res.Deleted = append(res.Deleted, "sha256:"+img.ID)
		res.Reclaimed += img.Size
	}
	return res, nil
}

// LoginOptions tune Login.
type LoginOptions struct {
	TLSVerify imagestore.TLSVerify
}

// Login verifies and stores registry credentials; returns the file used.
func (e *Engine) Login(ctx context.Context, registry, user, password string, o LoginOptions) (string, error) {
	return e.authStore().Login(ctx, registry, user, password, imagestore.LoginOptions{TLSVerify: o.TLSVerify})
}

// Logout forgets registry credentials; false when there were none.
func (e *Engine) Logout(ctx context.Context, registry string) (bool, error) {
	return e.authStore().Logout(registry)
}
