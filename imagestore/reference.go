package imagestore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/types"
)

// ParseName parses user input as a Docker reference, normalized the way the
// docker CLI does (busybox → docker.io/library/busybox), with ":latest" added
// when there is neither tag nor digest.
func ParseName(input string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(input)
	if err != nil {
		return nil, fmt.Errorf("invalid reference format %q: must be [registry/]name[:tag][@digest], lowercase: %w", input, errdefs.ErrInvalidArgument)
	}
	return reference.TagNameOnly(named), nil
}

// isShortName reports whether the user left the registry out ("busybox",
// "library/busybox"), which is when aliases and search registries apply.
func isShortName(input string) bool {
	first, _, found := strings.Cut(input, "/")
	if !found {
		return true
	}
	return !strings.ContainsAny(first, ".:") && first != "localhost"
}

// pullCandidates lists the references a pull of input tries, in order:
// a fully qualified name is itself; a short name is its alias from
// registries.conf if one is defined, else each unqualified-search registry,
// else docker.io, as Docker users expect.
func (s *Store) pullCandidates(sys *types.SystemContext, input string) ([]reference.Named, error) {
	named, err := ParseName(input)
	if err != nil {
		return nil, err
	}
	if !isShortName(input) {
		return []reference.Named{named}, nil
	}
	path := reference.Path(named)
	bare := input
	if i := strings.IndexAny(input, ":@"); i >= 0 {
		bare = input[:i]
	}
	if alias, _, err := sysregistriesv2.ResolveShortNameAlias(sys, bare); err == nil && alias != nil {
		return []reference.Named{withTagOrDigest(alias, named)}, nil
	}
	regs, err := sysregistriesv2.UnqualifiedSearchRegistries(sys)
	if err != nil {
		return nil, fmt.Errorf("registries.conf: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if len(regs) == 0 {
		return []reference.Named{named}, nil
	}
	var out []reference.Named
	for _, reg := range regs {
		p := path
		if reg != "docker.io" {
			p = strings.TrimPrefix(input, "library/")
			p = strings.SplitN(strings.SplitN(p, "@", 2)[0], ":", 2)[0]
		}
		n, err := reference.ParseNormalizedNamed(reg + "/" + p)
		if err != nil {
			continue
		}
		out = append(out, withTagOrDigest(n, named))
	}
	return out, nil
}

// withTagOrDigest moves the tag or digest of from onto name.
func withTagOrDigest(name, from reference.Named) reference.Named {
	name = reference.TrimNamed(name)
	if d, ok := from.(reference.Digested); ok {
		if n, err := reference.WithDigest(name, d.Digest()); err == nil {
			return n
		}
	}
	if t, ok := from.(reference.Tagged); ok {
		if n, err := reference.WithTag(name, t.Tag()); err == nil {
			return n
		}
	}
	return reference.TagNameOnly(name)
}

// FamiliarName is what Docker prints for a stored name: "busybox:latest" for
// docker.io/library/busybox:latest, the full name for other registries.
func FamiliarName(name string) string {
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name
	}
	return reference.FamiliarString(n)
}

// SplitRepoTag splits a stored name into Docker's REPOSITORY and TAG columns.
func SplitRepoTag(name string) (repo, tag string) {
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name, "<none>"
	}
	repo = reference.FamiliarName(n)
	if t, ok := n.(reference.Tagged); ok {
		return repo, t.Tag()
	}
	return repo, "<none>"
}

var errNoCandidates = errors.New("no registry to pull from")

// ReferenceForms are the spellings of a stored name that Docker's reference
// filter matches its pattern against: busybox:latest, busybox,
// docker.io/library/busybox:latest and docker.io/library/busybox.
func ReferenceForms(name string) []string {
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return []string{name}
	}
	return []string{reference.FamiliarString(n), reference.FamiliarName(n), reference.TagNameOnly(n).String(), n.Name()}
}
