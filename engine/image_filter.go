package engine

import (
	"path"
	"time"

	"github.com/skiff-engine/skiff/imagestore"
)

// imageFilter is the compiled form of images' filters. Docker matches each
// name of an image on its own (containerd keeps one record per name), so
// reference= also decides which names the listing shows: after
// `tag busybox fa:1`, reference=fa lists fa:1 and not busybox.
type imageFilter struct {
	match func(*imageItem) bool
	names func(string) bool // nil without a reference filter
}

// imageItem is an image under test, with its config labels read once and
// only when a label filter asks.
type imageItem struct {
	imagestore.Image
	labels func() map[string]string
}

// apply returns the image as the listing shows it and whether it is shown.
func (f imageFilter) apply(img imagestore.Image, labels func() map[string]string) (imagestore.Image, bool) {
	if f.names != nil {
		var names []string
		for _, n := range img.Names {
			if f.names(n) {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return img, false // a dangling image has no reference to match
		}
		img.Names = names
	}
	return img, f.match(&imageItem{Image: img, labels: labels})
}

// compileImageFilter checks the filters against images' keys (image
// prune's with prune) and compiles them.
func compileImageFilter(is *imagestore.Store, f Filters, prune bool) (imageFilter, error) {
	var out imageFilter
	var err error
	if out.match, err = imageFilterSpec(is, time.Now(), prune).compile(f); err != nil {
		return imageFilter{}, err
	}
	if refs := f["reference"]; len(refs) > 0 {
		for _, p := range refs {
			if _, err := path.Match(p, ""); err != nil {
				return imageFilter{}, badFilterValue("reference", p, "a name or a glob pattern (busy*, */busybox:*)")
			}
		}
		out.names = func(name string) bool { return referenceMatches(refs, name) }
	}
	return out, nil
}

// referenceMatches is Docker's reference filter for one stored name: any
// pattern (OR) globbing any of its spellings.
func referenceMatches(patterns []string, name string) bool {
	forms := imagestore.ReferenceForms(name)
	for _, p := range patterns {
		for _, form := range forms {
			if ok, _ := path.Match(p, form); ok {
				return true
			}
		}
	}
	return false
}

// imageFilterSpec is Docker's image list keys (moby
// daemon/containerd/image_list.go) or, for prune, image prune's.
func imageFilterSpec(is *imagestore.Store, now time.Time, prune bool) filterSpec[*imageItem] {
	keys := labelKeys(func(i *imageItem) map[string]string { return i.labels() })
	keys["dangling"] = boolKey(func(i *imageItem) bool { return i.Dangling() })
	keys["until"] = untilKey(now, func(i *imageItem) time.Time { return i.Created })
	if prune {
		// Docker's prune reads dangling as a mode: false is every image.
		keys["dangling"] = filterKey[*imageItem]{check: boolValues, match: func(v string) (func(*imageItem) bool, error) {
			all := v == "false" || v == "0"
			return func(i *imageItem) bool { return all || i.Dangling() }, nil
		}}
		return filterSpec[*imageItem]{what: "image prune", keys: keys}
	}
	created := func(before bool) filterKey[*imageItem] {
		return filterKey[*imageItem]{all: true, match: func(v string) (func(*imageItem) bool, error) {
			ref, err := is.Lookup(v)
			if err != nil {
				return nil, err
			}
			t := ref.Created
			if before {
				return func(i *imageItem) bool { return i.Created.Before(t) }, nil
			}
			return func(i *imageItem) bool { return i.Created.After(t) }, nil
		}}
	}
	keys["before"], keys["since"] = created(true), created(false)
	// reference selects names, in imageFilter.apply.
	keys["reference"] = filterKey[*imageItem]{match: func(string) (func(*imageItem) bool, error) {
		return func(*imageItem) bool { return true }, nil
	}}
	return filterSpec[*imageItem]{what: "images", keys: keys}
}
