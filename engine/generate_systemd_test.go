package engine

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// The -update flag rewrites golden files; another test file may define it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite testdata golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func TestSystemdUnit(t *testing.T) {
	plain := systemdUnit{
		Service: "container-web.service", Binary: "/usr/bin/skiff", Ref: "web", StopTimeout: 10,
		Restart: "on-failure", Mounts: []string{"/var/lib/skiff", "/run/skiff"},
	}
	rootless := plain
	rootless.Rootless = true
	rootless.Mounts = []string{"/home/alice/.local/share/skiff", "/run/user/1000/skiff"}
	newUnit := plain
	newUnit.New = &CreateCommandParts{Flags: []string{"--name", "web", "-it", "-p", "8080:80"},
		Args: []string{"busybox", "httpd", "-f", "-p", "80"}, Named: true}
	newRootless := rootless
	newRootless.New = &CreateCommandParts{Global: []string{"--log-level", "info"}, Flags: []string{"-e", "A=1"},
		Args: []string{"busybox", "sleep", "infinity"}, SdNotify: "container"}
	options := plain
	options.Service, options.Ref = "app_0123456789ab.service", "0123456789ab"
	options.Global = []string{"--root", "/srv/skiff data", "--runroot", "/run/s"}
	options.Restart, options.RestartSec, options.StopTimeout = "always", 5, 3
	options.Wants, options.After, options.Requires = []string{"a.service"}, []string{"b.service"}, []string{"c.service"}
	options.Env = []string{"GREETING=hello world", "RATE=100%"}
	options.NoHeader = true
	quoting := newUnit
	quoting.New = &CreateCommandParts{Args: []string{"busybox", "sh", "-c", `echo "$HOME" 50% \ ;`, ";", ""}}
	for name, u := range map[string]systemdUnit{
		"plain": plain, "rootless": rootless, "new": newUnit, "new-rootless": newRootless,
		"options": options, "quoting": quoting,
	} {
		t.Run(name, func(t *testing.T) {
			got := u.text()
			path := filepath.Join("testdata", "TestSystemdUnit", name+".service")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("unit differs from %s:\n%s", path, got)
			}
		})
	}
}

func TestCheckSdNotify(t *testing.T) {
	for in, want := range map[string]string{"": "", "monitor": "monitor", "conmon": "monitor", "container": "container", "ignore": "ignore"} {
		if got, err := checkSdNotify(in); err != nil || got != want {
			t.Errorf("checkSdNotify(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"healthy", "Monitor", "x"} {
		if _, err := checkSdNotify(in); err == nil {
			t.Errorf("checkSdNotify(%q) accepted", in)
		}
	}
}

func TestCheckEnv(t *testing.T) {
	for _, ok := range []string{"A=1", "A=", "A=b c"} {
		if err := checkEnv([]string{ok}); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"A", "=1", "A B=1"} {
		if err := checkEnv([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
