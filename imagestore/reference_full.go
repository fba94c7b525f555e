//go:build !skiff_local

package imagestore

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/types"
)

// parseNamed is ParseName as containers/image's reference, for the
// transports of pulls, pushes and archives.
func parseNamed(input string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(input)
	if err != nil {
		return nil, invalidReference(input)
	}
	return reference.TagNameOnly(named), nil
}

// pullCandidates lists the references a pull of input tries, in order:
// a fully qualified name is itself; a short name is its alias from
// registries.conf if one is defined, else each unqualified-search registry,
// else docker.io, as Docker users expect.
func (s *Store) pullCandidates(sys *types.SystemContext, input string) ([]reference.Named, error) {
	named, err := parseNamed(input)
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
