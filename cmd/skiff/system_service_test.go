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
