package imagestore

import (
	"math/rand"
	"strings"
	"testing"

	"go.podman.io/image/v5/docker/reference"
)

// TestReferenceAsContainersImage holds skiff's parser to containers/image's
// docker/reference: the same strings accepted, and the same name, string,
// familiar forms and default tag for each. The inputs are hand-picked
// edges plus strings assembled at random from the grammar's pieces.
func TestReferenceAsContainersImage(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	inputs := []string{
		"busybox", "busybox:1.36", "library/busybox", "docker.io/busybox", "index.docker.io/busybox",
		"docker.io/library/busybox:latest", "quay.io/a/b", "quay.io/library/b", "127.0.0.1:5000/x:y",
		"localhost/x", "localhost:5000/x", "localhost:5000", "localhost", "Localhost/x", "LOCALHOST:5000/x",
		"busybox@sha256:" + hex64, "busybox:tag@sha256:" + hex64, "busybox@sha256:" + hex64[:63],
		"busybox@sha256:" + strings.ToUpper(hex64), "busybox@sha512:" + hex64 + hex64, "busybox@md5:" + hex64,
		"busybox@sha256+b64:" + hex64, "BusyBox", "bad!!", "", "a:b:c", "a/b:c:d", ":tag", "@sha256:" + hex64,
		hex64, hex64 + ":tag", "a/" + hex64, "a__b", "a___b", "a_b", "a-b", "a--b", "a.b", "a..b", "a._b",
		"-a", "a-", "_a", "a/", "/a", "a//b", "my_registry.com/foo", "My.Registry/foo", "ex-ample.com/x",
		"-ex.com/x", "ex-.com/x", "ex.com:/x", "ex.com:0x1/x", "ex.com:5000:1/x", "a:5000/b:c",
		"a/b/c/d/e:" + strings.Repeat("t", 128), "a:" + strings.Repeat("t", 129), "a:-t", "a:.t", "a:_t",
		"a:t.-_", strings.Repeat("a", 246), strings.Repeat("a", 247), "docker.io/" + strings.Repeat("a", 246),
		"a/" + strings.Repeat("b", 253), "Foo/bar", "foo/Bar", "foo/bar:TAG", "ex.com/foo:Tag@sha256:" + hex64,
		"a@b@sha256:" + hex64, "a@", "a:", "a:@sha256:" + hex64,
	}
	pieces := []string{"a", "b", "z9", "0", "A", "docker.io", "index.docker.io", "localhost", "localhost:5000",
		"ex.com", "ex-ample.com", "-", "--", "_", "__", "___", ".", "..", ":", "/", "/", "/", "@", "latest",
		"v1.0", "library", "sha256:" + hex64, "sha256:" + hex64[:40], "sha512:" + hex64, hex64, "Foo", "1.2.3.4"}
	rng := rand.New(rand.NewSource(7))
	for range 30000 {
		var b strings.Builder
		for range 1 + rng.Intn(6) {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	accepted := 0
	for _, in := range inputs {
		got, err := ParseNormalized(in)
		want, werr := reference.ParseNormalizedNamed(in)
		if (err == nil) != (werr == nil) {
			t.Errorf("%q: skiff says %v (%v), containers/image says %v", in, got, err, werr)
			continue
		}
		if err != nil {
			continue
		}
		accepted++
		checks := []struct{ what, got, want string }{
			{"name", got.Name(), want.Name()},
			{"string", got.String(), want.String()},
			{"domain", got.Domain, reference.Domain(want)},
			{"path", got.Path, reference.Path(want)},
			{"familiar", got.Familiar(), reference.FamiliarString(want)},
			{"familiar name", got.FamiliarName(), reference.FamiliarName(want)},
			{"default tag", got.WithDefaultTag().String(), reference.TagNameOnly(want).String()},
			{"trimmed", got.Trimmed().String(), reference.TrimNamed(want).String()},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%q: %s %q, containers/image %q", in, c.what, c.got, c.want)
			}
		}
	}
	t.Logf("%d of %d inputs accepted", accepted, len(inputs))
	// the random inputs must exercise both answers
	if accepted < 1000 || accepted > len(inputs)-1000 {
		t.Fatalf("%d of %d inputs accepted: the generator no longer covers both sides", accepted, len(inputs))
	}
}
