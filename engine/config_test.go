package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", "[storage]\ndriver = \"vfs\"\ngraphroot = \"/srv/skiff\"\n[log]\nmax_size = \"5m\"\n")
	cfg, err := LoadConfig(good, Paths{})
	if err != nil || cfg.Storage.Driver != "vfs" || cfg.Storage.GraphRoot != "/srv/skiff" || cfg.Log.MaxSize != "5m" {
		t.Fatalf("good config: %+v, %v", cfg, err)
	}
	for name, body := range map[string]string{
		"typo.toml":   "[storage]\ndriverr = \"vfs\"\n",
		"broken.toml": "[storage\n",
	} {
		if _, err := LoadConfig(write(name, body), Paths{}); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: want invalid argument, got %v", name, err)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.toml"), Paths{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("missing explicit file: got %v", err)
	}
}

func TestUserConfigOverridesSystem(t *testing.T) {
	home := t.TempDir()
	p := Paths{Rootless: true, ConfigHome: home}
	os.MkdirAll(filepath.Join(home, "skiff"), 0o755)
	os.WriteFile(filepath.Join(home, "skiff", "skiff.toml"), []byte("[network]\ndefault = \"none\"\n"), 0o644)
	cfg, err := LoadConfig("", p)
	if err != nil || cfg.Network.Default != "none" {
		t.Fatalf("user config not read: %+v %v", cfg, err)
	}
}
