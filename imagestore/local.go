package imagestore

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	cstorage "go.podman.io/storage"

	"github.com/skiff-engine/skiff/storage"
)

// Image is a locally stored image as listings show it.
type Image struct {
	ID       string          // config digest hex: Docker's image ID
	Names    []string        // full names, docker.io/library/busybox:latest
	Digest   digest.Digest   // manifest digest of the pulled/loaded manifest
	Digests  []digest.Digest // every manifest digest known for it
	Created  time.Time
	Size     int64
	TopLayer string
}

// Dangling reports an image with no name left, Docker's "<none>:<none>".
func (i Image) Dangling() bool { return len(i.Names) == 0 }

// RepoDigests are name@digest for every repository the image is named in,
// with Docker's familiar names (busybox@sha256:...).
func (i Image) RepoDigests() []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range i.Names {
		named, err := ParseNormalized(n)
		if err != nil {
			continue
		}
		repo := named.FamiliarName()
		for _, d := range i.Digests {
			s := repo + "@" + d.String()
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func (s *Store) fromStorage(img *cstorage.Image, withSize bool) Image {
	out := Image{ID: img.ID, Digest: img.Digest, Digests: img.Digests, Created: img.Created, TopLayer: img.TopLayer}
	for _, n := range img.Names {
		if !strings.Contains(n, "@") {
			out.Names = append(out.Names, n)
		}
	}
	if withSize {
		if size, err := s.cs.ImageSize(img.ID); err == nil {
			out.Size = size
		}
	}
	return out
}

// List returns every local image, newest first.
func (s *Store) List() ([]Image, error) {
	imgs, err := s.cs.Images()
	if err != nil {
		return nil, storage.Err(err)
	}
	out := make([]Image, 0, len(imgs))
	for i := range imgs {
		out = append(out, s.fromStorage(&imgs[i], true))
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out, nil
}

// Lookup finds a local image by ID, unique ID prefix, name or name@digest.
// The error is errdefs.ErrNotFound when nothing matches.
func (s *Store) Lookup(input string) (Image, error) {
	img, _, err := s.lookup(input)
	if err != nil {
		return Image{}, err
	}
	return s.fromStorage(img, true), nil
}

// lookup also tells which stored name input resolved to ("" for an ID).
func (s *Store) lookup(input string) (*cstorage.Image, string, error) {
	if input == "" {
		return nil, "", fmt.Errorf("image name must not be empty: %w", errdefs.ErrInvalidArgument)
	}
	id := strings.TrimPrefix(input, "sha256:")
	if isHex(id) && len(id) >= 3 {
		if img, err := s.cs.Image(id); err == nil && strings.HasPrefix(img.ID, id) {
			return img, "", nil
		}
	}
	named, err := ParseNormalized(input)
	if err != nil {
		return nil, "", fmt.Errorf("invalid reference format %q: %w", input, errdefs.ErrInvalidArgument)
	}
	if named.Digest != "" {
		return s.lookupDigest(input, named.Name(), named.Digest)
	}
	full := named.WithDefaultTag().String()
	if img, err := s.cs.Image(full); err == nil {
		return img, full, nil
	}
	return nil, "", noSuchImage(input)
}

func (s *Store) lookupDigest(input string, repo string, d digest.Digest) (*cstorage.Image, string, error) {
	imgs, err := s.cs.Images()
	if err != nil {
		return nil, "", storage.Err(err)
	}
	for i := range imgs {
		for _, n := range imgs[i].Names {
			nn, err := ParseNormalized(n)
			if err != nil || nn.Name() != repo {
				continue
			}
			for _, have := range imgs[i].Digests {
				if have == d {
					return &imgs[i], "", nil
				}
			}
		}
	}
	return nil, "", noSuchImage(input)
}

func noSuchImage(input string) error {
	return fmt.Errorf("No such image: %s: %w", input, errdefs.ErrNotFound)
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// RemoveResult lists what rmi did, in Docker's terms.
type RemoveResult struct {
	Untagged []string
	Deleted  []string
}

// Remove untags input, and deletes the image once no name is left or when it
// was named by ID. Deleting an image with several names by ID needs force;
// an image that a container uses is errdefs.ErrConflict.
func (s *Store) Remove(input string, force bool) (RemoveResult, error) {
	var res RemoveResult
	img, name, err := s.lookup(input)
	if err != nil {
		return res, err
	}
	names := s.fromStorage(img, false).Names
	if name != "" && len(names) > 1 {
		if err := s.cs.RemoveNames(img.ID, []string{name}); err != nil {
			return res, storage.Err(err)
		}
		res.Untagged = append(res.Untagged, FamiliarName(name))
		return res, nil
	}
	if name == "" && len(names) > 1 && !force {
		return res, fmt.Errorf("unable to delete %s (must be forced) - image is referenced in multiple repositories: %w", shortID(img.ID), errdefs.ErrConflict)
	}
	if _, err := s.cs.DeleteImage(img.ID, true); err != nil {
		if errdefs.IsConflict(storage.Err(err)) {
			return res, fmt.Errorf("unable to remove image %s: image is in use by a container (remove the container first): %w", input, errdefs.ErrConflict)
		}
		return res, storage.Err(err)
	}
	for _, n := range names {
		res.Untagged = append(res.Untagged, FamiliarName(n))
	}
	for _, d := range img.Digests {
		for _, n := range names {
			if nn, err := ParseNormalized(n); err == nil {
				res.Untagged = append(res.Untagged, nn.FamiliarName()+"@"+d.String())
				break
			}
		}
	}
	res.Deleted = append(res.Deleted, "sha256:"+img.ID)
	return res, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Tag adds target as a name of the image source resolves to. A name belongs
// to one image: containers/storage moves it from any other image.
func (s *Store) Tag(source, target string) error {
	img, _, err := s.lookup(source)
	if err != nil {
		return err
	}
	named, err := ParseName(target)
	if err != nil {
		return err
	}
	if named.Digest != "" {
		return fmt.Errorf("tag %q: a target name cannot contain a digest: %w", target, errdefs.ErrInvalidArgument)
	}
	return storage.Err(s.cs.AddNames(img.ID, []string{named.String()}))
}

// Untag removes names from the image (all of them when names is empty),
// keeping the image itself, as podman untag does.
func (s *Store) Untag(input string, names []string) ([]string, error) {
	img, _, err := s.lookup(input)
	if err != nil {
		return nil, err
	}
	var remove []string
	if len(names) == 0 {
		remove = img.Names
	}
	for _, n := range names {
		named, err := ParseName(n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(img.Names, named.String()) {
			return nil, fmt.Errorf("image %s is not tagged %s: %w", input, n, errdefs.ErrNotFound)
		}
		remove = append(remove, named.String())
	}
	if len(remove) == 0 {
		return nil, nil
	}
	if err := s.cs.RemoveNames(img.ID, remove); err != nil {
		return nil, storage.Err(err)
	}
	out := make([]string, len(remove))
	for i, n := range remove {
		out[i] = FamiliarName(n)
	}
	return out, nil
}
