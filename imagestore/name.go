package imagestore

import (
	"errors"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Reference is an image reference, [domain/]path[:tag][@digest], in the
// grammar of Docker's distribution/reference and containers/image's
// docker/reference, which accept and normalize the same strings
// (TestReferenceAsContainersImage compares them). skiff parses it itself:
// that package compiles seven regular expressions at every process's
// start, 0.3 ms of each CLI run, and the CLI of the hot commands
// (bin/skiff) links no containers/image at all.
type Reference struct {
	Domain string // docker.io after normalizing; "" when the first part is no host name
	Path   string // library/busybox
	Tag    string // "" for none
	Digest digest.Digest
}

const (
	defaultDomain   = "docker.io"
	legacyDomain    = "index.docker.io"
	officialRepo    = "library"
	defaultTag      = "latest"
	nameTotalLength = 255
)

var errReferenceFormat = errors.New("invalid reference format")

// Name is the repository: domain/path.
func (r Reference) Name() string {
	if r.Domain == "" {
		return r.Path
	}
	return r.Domain + "/" + r.Path
}

// String is the whole reference: name[:tag][@digest].
func (r Reference) String() string { return r.Name() + r.suffix() }

func (r Reference) suffix() string {
	s := ""
	if r.Tag != "" {
		s = ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// FamiliarName is the repository as Docker prints it: busybox for
// docker.io/library/busybox, the full name for other registries.
func (r Reference) FamiliarName() string {
	if r.Domain != defaultDomain {
		return r.Name()
	}
	if rest, ok := strings.CutPrefix(r.Path, officialRepo+"/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return r.Path
}

// Familiar is the reference as Docker prints it: busybox:latest.
func (r Reference) Familiar() string { return r.FamiliarName() + r.suffix() }

// WithDefaultTag adds ":latest" to a reference with neither tag nor digest.
func (r Reference) WithDefaultTag() Reference {
	if r.Tag == "" && r.Digest == "" {
		r.Tag = defaultTag
	}
	return r
}

// Trimmed is the repository alone, without tag and digest.
func (r Reference) Trimmed() Reference { return Reference{Domain: r.Domain, Path: r.Path} }

// ParseNormalized parses s the way the docker CLI reads a name: a first
// part that is not a host (no "." or ":", not localhost) means Docker Hub,
// and a one-part name there is an official image (busybox →
// docker.io/library/busybox). No tag is added.
func ParseNormalized(s string) (Reference, error) {
	if len(s) == 64 && isHex(s) {
		return Reference{}, errors.New("invalid repository name: cannot specify 64-byte hexadecimal strings")
	}
	domain, rest := defaultDomain, s
	if first, after, ok := strings.Cut(s, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		domain, rest = first, after
	}
	if domain == legacyDomain {
		domain = defaultDomain
	}
	if domain == defaultDomain && !strings.Contains(rest, "/") {
		rest = officialRepo + "/" + rest
	}
	remote, _, _ := strings.Cut(rest, ":")
	if strings.ToLower(remote) != remote {
		return Reference{}, errors.New("invalid reference format: repository name must be lowercase")
	}
	return parseReference(domain + "/" + rest)
}

// parseReference parses name[:tag][@digest] as the grammar's regular
// expression matches it: a domain before the first "/" when that part is a
// valid host and the rest a valid path, else a path alone.
func parseReference(s string) (Reference, error) {
	var r Reference
	if name, dig, ok := strings.Cut(s, "@"); ok {
		// what the grammar allows of a digest, go-digest checks and more:
		// a known algorithm and its length of lowercase hex
		d, err := digest.Parse(dig)
		if err != nil {
			return r, err
		}
		s, r.Digest = name, d
	}
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		if !validTag(s[i+1:]) {
			return r, errReferenceFormat
		}
		s, r.Tag = s[:i], s[i+1:]
	}
	if first, rest, ok := strings.Cut(s, "/"); ok && validDomain(first) && validPath(rest) {
		r.Domain, r.Path = first, rest
	} else if validPath(s) {
		r.Path = s
	} else {
		return Reference{}, errReferenceFormat
	}
	if len(s) > nameTotalLength {
		return Reference{}, errors.New("repository name must not be more than 255 characters")
	}
	return r, nil
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

func isWord(c byte) bool { return isAlnum(c) || c == '_' }

// validPath: components of [a-z0-9]+ joined by ".", "_", "__" or any run
// of "-", the components joined by "/".
func validPath(s string) bool {
	for _, c := range strings.Split(s, "/") {
		if !validComponent(c) {
			return false
		}
	}
	return true
}

func validComponent(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); {
		if isLowerAlnum(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !isLowerAlnum(s[j]) {
			j++
		}
		if sep := s[i:j]; !(sep == "." || sep == "_" || sep == "__" || strings.Trim(sep, "-") == "") {
			return false
		}
		i = j
	}
	return true
}

// validDomain: host components of letters, digits and inner "-", joined
// by ".", with an optional numeric port.
func validDomain(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort && (port == "" || strings.Trim(port, "0123456789") != "") {
		return false
	}
	for _, c := range strings.Split(host, ".") {
		if c == "" || !isAlnum(c[0]) || !isAlnum(c[len(c)-1]) {
			return false
		}
		for i := 0; i < len(c); i++ {
			if !isAlnum(c[i]) && c[i] != '-' {
				return false
			}
		}
	}
	return true
}

// validTag: a word character, then up to 127 of word characters, "." and "-".
func validTag(s string) bool {
	if s == "" || len(s) > 128 || !isWord(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWord(s[i]) && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}
