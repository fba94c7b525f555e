package main

import (
	"os"
	"testing"
)

// The units in docs/systemd are what --print-unit prints for a skiff
// installed at /usr/local/bin/skiff.
func TestBootUnit(t *testing.T) {
	for file, user := range map[string]bool{"skiff-restart.service": false, "skiff-restart-user.service": true} {
		t.Run(file, func(t *testing.T) {
			checkUnitFile(t, bootUnit("/usr/local/bin/skiff", user), file)
		})
	}
}

// checkUnitFile compares a generated unit with its copy in docs/systemd
// (UPDATE_GOLDEN=1 rewrites the copy).
func checkUnitFile(t *testing.T, got []byte, file string) {
	t.Helper()
	path := "../../docs/systemd/" + file
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s:\n%s\nwant:\n%s", file, got, want)
	}
}
