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
	JSON      bool        // Progress gets Docker's JSON messages, one a line (the API's stream)
	Auth      Credentials // this pull's login; empty: the stored ones
}

// ImagePullResult: the image pulled, its full name, and whether it was
// already there.
type ImagePullResult = imagestore.PullResult

// ImagePull pulls an image into the local store.
func (e *Engine) ImagePull(ctx context.Context, name string, o ImagePullOptions) (ImagePullResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImagePullResult{}, err
	}
	res, err := is.Pull(ctx, name, imagestore.PullOptions{TLSVerify: o.TLSVerify, Platform: o.Platform,
		Progress: o.Progress, Terminal: o.Terminal, JSON: o.JSON, Auth: o.Auth})
	if err == nil {
		n := imagestore.FamiliarName(res.Name)
		e.imageEvent(ctx, "pull", n, stripTag(n))
	}
	return res, err
}

// ImagePushOptions tune ImagePush.
type ImagePushOptions struct {
	Dest      string // the registry name to push to; empty: the image's own
	TLSVerify imagestore.TLSVerify
	Progress  io.Writer
	Terminal  bool
	JSON      bool        // Progress gets Docker's JSON messages, one a line (the API's stream)
	Auth      Credentials // this push's login; empty: the stored ones
}

// ImagePushResult: the destination's full name and the manifest's digest
// and size.
type ImagePushResult = imagestore.PushResult

// ImagePush pushes the local image ref to o.Dest (its own name when empty).
func (e *Engine) ImagePush(ctx context.Context, ref string, o ImagePushOptions) (ImagePushResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImagePushResult{}, err
	}
	res, err := is.Push(ctx, ref, o.Dest, imagestore.PushOptions{TLSVerify: o.TLSVerify,
		Progress: o.Progress, Terminal: o.Terminal, JSON: o.JSON, Auth: o.Auth})
	if err == nil {
		n := imagestore.FamiliarName(firstNonEmpty(o.Dest, ref))
		e.imageEvent(ctx, "push", n, stripTag(n))
	}
	return res, err
}

// ImageListOptions select images: Filters are Docker's "key=value"
// filters (image_filter.go has the keys).
type ImageListOptions struct {
	All     bool
	Filters []string
}

// ImageListResult: the images selected, in the store's order.
type ImageListResult struct {
	Images []Image
}

// ImageList lists local images matching every filter. With a reference
// filter, an image carries only the names that match.
func (e *Engine) ImageList(ctx context.Context, o ImageListOptions) (ImageListResult, error) {
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return ImageListResult{}, err
	}
	imgs, err := e.listImages(ctx, f, false)
	return ImageListResult{Images: imgs}, err
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

// ImageRemoveResult: the names removed and the image IDs deleted.
type ImageRemoveResult = imagestore.RemoveResult

// ImageRemove untags ref, and deletes the image once no name is left or
// when ref is its ID (deleting an image with several names by ID needs
// Force). A caller removing several images goes on after a failure, as
// Docker does.
func (e *Engine) ImageRemove(ctx context.Context, ref string, o ImageRemoveOptions) (ImageRemoveResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageRemoveResult{}, err
	}
	img, _ := is.Lookup(ref) // the ID its untag events name
	res, err := is.Remove(ref, o.Force)
	e.removeEvents(ctx, img.ID, res)
	return res, err
}

// removeEvents records what a removal did: an untag per name, a delete per
// image.
func (e *Engine) removeEvents(ctx context.Context, id string, res imagestore.RemoveResult) {
	for range res.Untagged {
		e.imageEvent(ctx, "untag", imageEventID(id), imageEventID(id))
	}
	for _, id := range res.Deleted {
		e.imageEvent(ctx, "delete", imageEventID(id), imageEventID(id))
	}
}

// ImageTagOptions: Target is the new name.
type ImageTagOptions struct {
	Target string
}

// ImageTagResult is empty: the tag either exists afterwards or the error says why.
type ImageTagResult struct{}

// ImageTag gives the image ref the name o.Target.
func (e *Engine) ImageTag(ctx context.Context, ref string, o ImageTagOptions) (ImageTagResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageTagResult{}, err
	}
	if err := is.Tag(ref, o.Target); err != nil {
		return ImageTagResult{}, err
	}
	if img, err := is.Lookup(o.Target); err == nil {
		e.imageEvent(ctx, "tag", imageEventID(img.ID), taggedName(o.Target))
	}
	return ImageTagResult{}, nil
}

// ImageUntagOptions: Names to remove; none removes them all.
type ImageUntagOptions struct {
	Names []string
}

// ImageUntagResult lists the names removed.
type ImageUntagResult struct {
	Untagged []string
}

// ImageUntag removes names of the image ref but keeps the image.
func (e *Engine) ImageUntag(ctx context.Context, ref string, o ImageUntagOptions) (ImageUntagResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageUntagResult{}, err
	}
	img, _ := is.Lookup(ref)
	names, err := is.Untag(ref, o.Names)
	for range names {
		e.imageEvent(ctx, "untag", imageEventID(img.ID), imageEventID(img.ID))
	}
	return ImageUntagResult{Untagged: names}, err
}

// ImageInspectOptions tune ImageInspect (none yet).
type ImageInspectOptions struct{}

// ImageInspectResult carries Docker's inspect document of the image.
type ImageInspectResult struct {
	Image ImageInspect
}

// ImageInspect builds Docker's inspect document of the image ref.
func (e *Engine) ImageInspect(ctx context.Context, ref string, o ImageInspectOptions) (ImageInspectResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageInspectResult{}, err
	}
	doc, err := is.InspectImage(ctx, ref)
	return ImageInspectResult{Image: doc}, err
}

// ImageExistsOptions tune ImageExists (none yet).
type ImageExistsOptions struct{}

// ImageExistsResult says whether the image exists.
type ImageExistsResult struct {
	Exists bool
}

// ImageExists reports whether ref resolves to a local image.
func (e *Engine) ImageExists(ctx context.Context, ref string, o ImageExistsOptions) (ImageExistsResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageExistsResult{}, err
	}
	_, err = is.Lookup(ref)
	if errdefs.IsNotFound(err) {
		return ImageExistsResult{}, nil
	}
	return ImageExistsResult{Exists: err == nil}, err
}

// HistoryEntry is one row of ImageHistory.
type HistoryEntry = imagestore.HistoryEntry

// ImageHistoryOptions tune ImageHistory (none yet).
type ImageHistoryOptions struct{}

// ImageHistoryResult lists the build steps, newest first.
type ImageHistoryResult struct {
	Entries []HistoryEntry
}

// ImageHistory lists the build steps of the image ref.
func (e *Engine) ImageHistory(ctx context.Context, ref string, o ImageHistoryOptions) (ImageHistoryResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageHistoryResult{}, err
	}
	entries, err := is.History(ctx, ref)
	return ImageHistoryResult{Entries: entries}, err
}

// ImageSaveOptions: the Images to save (names or IDs) and where to.
type ImageSaveOptions struct {
	Images []string
	Format string    // docker-archive (default) or oci-archive
	Path   string    // file path; empty writes to Output
	Output io.Writer // used when Path is empty
}

// ImageSaveResult is empty: the archive is in Path or Output.
type ImageSaveResult struct{}

// ImageSave writes images into one archive.
func (e *Engine) ImageSave(ctx context.Context, o ImageSaveOptions) (ImageSaveResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageSaveResult{}, err
	}
	if err := is.Save(ctx, o.Images, o.Path, o.Output, imagestore.SaveOptions{Format: o.Format}); err != nil {
		return ImageSaveResult{}, err
	}
	for _, ref := range o.Images {
		if img, err := is.Lookup(ref); err == nil {
			e.imageEvent(ctx, "save", imageEventID(img.ID), imageEventID(img.ID))
		}
	}
	return ImageSaveResult{}, nil
}

// ImageLoadOptions: Input is the archive (docker-archive or oci-archive,
// optionally compressed).
type ImageLoadOptions struct {
	Input io.Reader
}

// ImageLoadResult: the names and IDs of the images loaded.
type ImageLoadResult = imagestore.LoadResult

// ImageLoad stores every image of the archive read from o.Input.
func (e *Engine) ImageLoad(ctx context.Context, o ImageLoadOptions) (ImageLoadResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageLoadResult{}, err
	}
	res, err := is.Load(ctx, o.Input)
	ids := slices.Clone(res.IDs)
	for _, n := range res.Names {
		if img, err := is.Lookup(n); err == nil && !slices.Contains(ids, img.ID) {
			ids = append(ids, img.ID)
		}
	}
	for _, id := range ids {
		e.imageEvent(ctx, "load", imageEventID(id), imageEventID(id))
	}
	return res, err
}

// ImageImportOptions: Input is the root filesystem tarball (optionally
// compressed); the rest describes the image built.
type ImageImportOptions struct {
	Input     io.Reader
	Reference string   // name for the new image; empty leaves it untagged
	Changes   []string // Dockerfile instructions: CMD, ENTRYPOINT, ENV, ...
	Message   string   // history comment
}

// ImageImportResult carries the image made.
type ImageImportResult struct {
	Image Image
}

// ImageImport makes a one-layer image from a root filesystem tarball.
func (e *Engine) ImageImport(ctx context.Context, o ImageImportOptions) (ImageImportResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageImportResult{}, err
	}
	img, err := is.Import(ctx, o.Input, imagestore.ImportOptions{Reference: o.Reference, Changes: o.Changes, Message: o.Message})
	if err == nil {
		e.imageEvent(ctx, "import", imageEventID(img.ID), imageEventID(img.ID))
	}
	return ImageImportResult{Image: img}, err
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
		r, err := is.Remove(img.ID, true)
		if err != nil {
			if errdefs.IsConflict(err) {
				continue // in use by a container
			}
			return res, err
		}
		e.removeEvents(ctx, img.ID, r)
		res.Deleted = append(res.Deleted, "sha256:"+img.ID)
		res.Reclaimed += img.Size
	}
	e.pruneEvent(ctx, EventImage, res.Reclaimed)
	return res, nil
}

// LoginOptions: the credentials and how to reach the registry.
type LoginOptions struct {
	Username  string
	Password  string
	TLSVerify imagestore.TLSVerify
}

// LoginResult names the credentials file written.
type LoginResult struct {
	AuthFile string
}

// Login verifies the credentials against registry and stores them.
func (e *Engine) Login(ctx context.Context, registry string, o LoginOptions) (LoginResult, error) {
	file, err := e.authStore().Login(ctx, registry, o.Username, o.Password, imagestore.LoginOptions{TLSVerify: o.TLSVerify})
	return LoginResult{AuthFile: file}, err
}

// LogoutOptions tune Logout (none yet).
type LogoutOptions struct{}

// LogoutResult: Removed is false when there were no credentials.
type LogoutResult struct {
	Removed bool
}

// Logout forgets the credentials of registry.
func (e *Engine) Logout(ctx context.Context, registry string, o LogoutOptions) (LogoutResult, error) {
	removed, err := e.authStore().Logout(registry)
	return LogoutResult{Removed: removed}, err
}

// ImageDistributionOptions tune ImageDistribution.
type ImageDistributionOptions struct {
	TLSVerify imagestore.TLSVerify
	Auth      Credentials
}

// ImageDistributionResult is what the registry serves under the name.
type ImageDistributionResult = imagestore.Distribution

// ImageDistribution asks name's registry for its manifest descriptor and
// platforms, pulling nothing.
func (e *Engine) ImageDistribution(ctx context.Context, name string, o ImageDistributionOptions) (ImageDistributionResult, error) {
	is, err := e.imageStore()
	if err != nil {
		return ImageDistributionResult{}, err
	}
	return is.Distribution(ctx, name, imagestore.DistributionOptions{TLSVerify: o.TLSVerify, Auth: o.Auth})
}
