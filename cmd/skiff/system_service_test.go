package main

import (
	"strings"
	"testing"
)

// The units in docs/systemd are what --print-units prints for a skiff
// installed at /usr/local/bin/skiff.
func TestServiceUnits(t *testing.T) {
	for file, u := range map[string]struct {
		kind string
		user bool
	}{"skiff.socket": {"socket", false}, "skiff.service": {"service", false}, "skiff-user.socket": {"socket", true}, "skiff-user.service": {"service", true}} {
		t.Run(file, func(t *testing.T) {
			checkUnitFile(t, serviceUnit(u.kind, "/usr/local/bin/skiff", u.user), file)
		})
	}
	if all := string(serviceUnits("/usr/local/bin/skiff")); strings.Count(all, "### ") != 4 {
		t.Errorf("--print-units prints %d units, want 4", strings.Count(all, "### "))
	}
}

func TestParseServiceURI(t *testing.T) {
	for uri, want := range map[string]serviceAddr{
		"":                        {network: "unix"},
		"unix:///run/x/s.sock":    {network: "unix", path: "/run/x/s.sock"},
		"unix:///run/x/../s.sock": {network: "unix", path: "/run/s.sock"},
		"tcp://127.0.0.1:2375":    {network: "tcp", path: "127.0.0.1:2375"},
	} {
		if got, err := parseServiceURI(uri); err != nil || got != want {
			t.Errorf("parseServiceURI(%q) = %v, %v; want %v", uri, got, err, want)
		}
	}
	for _, bad := range []string{"/run/s.sock", "ftp://x", "unix://rel.sock", "tcp://nohostport", "tcp://h:1/path", "%zz"} {
		if _, err := parseServiceURI(bad); err == nil {
			t.Errorf("parseServiceURI(%q): no error", bad)
		}
	}
}
