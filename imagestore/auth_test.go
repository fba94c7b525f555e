//go:build !skiff_local

package imagestore

import "testing"

func TestNormalizeRegistry(t *testing.T) {
	for in, want := range map[string]string{
		"": "docker.io", "https://index.docker.io/v1/": "docker.io", "registry-1.docker.io": "docker.io",
		"127.0.0.1:5000": "127.0.0.1:5000", "https://quay.io/": "quay.io",
	} {
		if got := normalizeRegistry(in); got != want {
			t.Errorf("normalizeRegistry(%q) = %q, want %q", in, got, want)
		}
	}
}
