package imagestore

import (
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
)

// ParseName parses user input as a Docker reference, normalized the way the
// docker CLI does (busybox → docker.io/library/busybox), with ":latest" added
// when there is neither tag nor digest.
func ParseName(input string) (Reference, error) {
	r, err := ParseNormalized(input)
	if err != nil {
		return Reference{}, invalidReference(input)
	}
	return r.WithDefaultTag(), nil
}

func invalidReference(input string) error {
	return fmt.Errorf("invalid reference format %q: must be [registry/]name[:tag][@digest], lowercase: %w", input, errdefs.ErrInvalidArgument)
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

// FamiliarName is what Docker prints for a stored name: "busybox:latest" for
// docker.io/library/busybox:latest, the full name for other registries.
func FamiliarName(name string) string {
	n, err := ParseNormalized(name)
	if err != nil {
		return name
	}
	return n.Familiar()
}

// SplitRepoTag splits a stored name into Docker's REPOSITORY and TAG columns.
func SplitRepoTag(name string) (repo, tag string) {
	n, err := ParseNormalized(name)
	if err != nil {
		return name, "<none>"
	}
	if n.Tag != "" {
		return n.FamiliarName(), n.Tag
	}
	return n.FamiliarName(), "<none>"
}

// ReferenceForms are the spellings of a stored name that Docker's reference
// filter matches its pattern against: busybox:latest, busybox,
// docker.io/library/busybox:latest and docker.io/library/busybox.
func ReferenceForms(name string) []string {
	n, err := ParseNormalized(name)
	if err != nil {
		return []string{name}
	}
	return []string{n.Familiar(), n.FamiliarName(), n.WithDefaultTag().String(), n.Name()}
}
