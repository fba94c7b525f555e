package engine

import (
	"context"
	"fmt"
	"io"
	"slices"

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

// ImageListOptions select images: Filters are Docker's "key=value"
// filters (image_filter.go has the keys).
type ImageListOptions struct {
	All     bool
	Filters []string
}

// ImageList lists local images matching every filter. With a reference
// filter, an image carries only the names that match.
func (e *Engine) ImageList(ctx context.Context, o ImageListOptions) ([]imagestore.Image, error) {
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	return e.listImages(ctx, f, false)
}

func (e *Engine) listImages(ctx context.Context, filters Filters, prune bool) ([]imagestore.Image, error) {
	is, err := e.imageStore()
	if err != nil {
		return nil, err
	}
	f, err := compileImageFilter(is, filters, prune)
	if err != nil {
		return nil, err
	}
	imgs, err := is.List()
	if err != nil {
		return nil, err
	}
	out := imgs[:0]
	for _, img := range imgs {
		if img, ok := f.apply(img, imageLabels(ctx, is, img.ID)); ok {
			out = append(out, img)
		}
	}
	return out, nil
}

// imageLabels reads an image's config labels at the first call.
func imageLabels(ctx context.Context, is *imagestore.Store, id string) func() map[string]string {
	var labels map[string]string
	read := false
	return func() map[string]string {
		if !read {
			read = true
			if _, cfg, err := is.Config(ctx, id); err == nil {
				labels = cfg.Config.Labels
			}
		}
		return labels
	}
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
	// dangling is a mode here, as Docker's: true (the default) prunes the
	// dangling images, false (-a) every unused one.
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return res, err
	}
	if o.All {
		if slices.ContainsFunc(f["dangling"], func(v string) bool { return v == "true" || v == "1" }) {
			return res, fmt.Errorf("--all prunes every unused image, dangling=true only the dangling ones: use one of them: %w", errdefs.ErrInvalidArgument)
		}
		f["dangling"] = append(f["dangling"], "false")
	} else if !f.Has("dangling") {
		f["dangling"] = []string{"true"}
	}
	imgs, err := e.listImages(ctx, f, true)
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
