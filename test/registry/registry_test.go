package registry

import (
	"maps"
	"testing"
)

func TestParseChallenge(t *testing.T) {
	for in, want := range map[string]map[string]string{
		`realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push"`: {
			"realm": "https://auth.example/token", "service": "registry", "scope": "repository:a/b:pull,push"},
		`realm="skiff-test"`:       {"realm": "skiff-test"},
		`realm=plain, service="s"`: {"realm": "plain", "service": "s"},
		``:                         {},
	} {
		if got := parseChallenge(in); !maps.Equal(got, want) {
			t.Errorf("parseChallenge(%q) = %v, want %v", in, got, want)
		}
	}
}
