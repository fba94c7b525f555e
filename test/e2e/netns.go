package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// The whole suite runs in a network namespace of its own (make test-e2e:
// unshare --net): every bridge, nftables table, published port and packet
// of the tests stays in it, the registries on its loopback included.

var runners atomic.Int32

// writeNetworkConfig writes a rootful runner's skiff.toml: its own bridge
// and /24 for the default network, and its own pool for user networks.
func writeNetworkConfig(t testing.TB, dir string) string {
	t.Helper()
	n := runners.Add(1)
	path := filepath.Join(dir, "skiff.toml")
	cfg := fmt.Sprintf("[network]\nbridge = \"skt%d\"\nsubnet = \"10.%d.%d.0/24\"\nsubnet_pool = \"10.%d.0.0/16\"\n", n, 200+n/256, n%256, 100+n%100)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// SetNetworkConfig adds lines ("key = value") to the runner's [network]
// section of skiff.toml: rootful its own file, rootless the user's.
func (s *Skiff) SetNetworkConfig(t testing.TB, lines string) {
	t.Helper()
	path, body := s.ConfigFile, ""
	if s.Rootless() {
		path = filepath.Join(s.ConfigHome, "skiff", "skiff.toml")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		body = "[network]\n"
	}
	old, _ := os.ReadFile(path)
	if len(old) > 0 {
		body = string(old)
	}
	if err := os.WriteFile(path, []byte(body+lines+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Chown(filepath.Dir(path))
	s.Chown(path)
}

// SetConfig replaces the runner's [section] of skiff.toml with lines
// (none: the section goes), leaving the other sections as they are:
// rootful its own file, rootless the user's.
func (s *Skiff) SetConfig(t testing.TB, section, lines string) {
	t.Helper()
	path := s.ConfigFile
	if s.Rootless() {
		path = filepath.Join(s.ConfigHome, "skiff", "skiff.toml")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old, _ := os.ReadFile(path)
	var kept []string
	in := false
	for _, l := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
		if h := strings.TrimSpace(l); strings.HasPrefix(h, "[") {
			in = h == "["+section+"]"
		}
		if !in && l != "" {
			kept = append(kept, l)
		}
	}
	if lines != "" {
		kept = append(kept, "["+section+"]", lines)
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Chown(filepath.Dir(path))
	s.Chown(path)
}
