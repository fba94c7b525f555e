package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/test/fixture"
	"github.com/skiff-engine/skiff/test/registry"
)

// RegistryOptions choose a registry's flavour: TLS (a certificate signed by
// a generated CA, see Registry.CAFile and CertDir) and Auth (htpasswd basic
// auth, see Registry.User and Password).
type RegistryOptions = registry.Options

var shared struct {
	once sync.Once
	reg  *registry.Registry
	dir  string
	err  error
}

// SharedRegistry is a plain-HTTP registry without auth, one per go test
// process, started on first use and stopped by Shutdown. Give each test its
// own repository with Repo.
func SharedRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	shared.once.Do(func() {
		if shared.dir, shared.err = registryDir("shared"); shared.err == nil {
			shared.reg, shared.err = registry.Start(context.Background(), registry.Options{Dir: shared.dir})
		}
	})
	if shared.err != nil {
		t.Fatalf("shared registry: %v", shared.err)
	}
	return shared.reg
}

// StartRegistry runs a registry for this test only, stopped at its end;
// its log is shown when the test fails.
func StartRegistry(t testing.TB, o RegistryOptions) *registry.Registry {
	t.Helper()
	dir, err := registryDir(fileName(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	o.Dir = dir
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg, err := registry.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		reg.Close()
		if o.TLS && os.Geteuid() == 0 {
			os.RemoveAll(filepath.Join(SystemCertsDir, reg.Host)) // see TrustCA
		}
		if t.Failed() {
			if log, _ := os.ReadFile(reg.LogFile); len(log) > 0 {
				t.Logf("registry %s log:\n%s", reg.Host, tail(string(log), 4000))
			}
		}
		os.RemoveAll(dir)
	})
	return reg
}

// registryDir is a directory the rootless user can read (for the CA).
func registryDir(name string) (string, error) {
	run, err := makeRunDir()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(run, "registry-"+name+"-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	return dir, err
}

// Shutdown stops what the package shares between tests. Call it from TestMain.
func Shutdown() {
	if shared.reg != nil {
		shared.reg.Close()
		os.RemoveAll(shared.dir)
	}
	if unitrunBin.path != "" {
		os.Remove(unitrunBin.path) // built into the run directory (systemd_test.go)
	}
	if runDir.dir != "" {
		os.Remove(runDir.dir) // empty unless a test kept its directory
	}
}

var (
	repoSeq  atomic.Int64
	repoChar = regexp.MustCompile(`[^a-z0-9]+`)
)

// Repo is a repository name no other test uses, such as
// "e2e/testpull-rootless-3".
func Repo(t testing.TB) string {
	name := strings.Trim(repoChar.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 80 {
		name = name[:80]
	}
	return "e2e/" + name + "-" + strconv.FormatInt(repoSeq.Add(1), 10)
}

// PushImage puts img into reg as repo:tag (by digest when tag is ""),
// over the registry API with the registry's credentials, not with skiff.
// It returns the reference skiff would pull: host/repo:tag or host/repo@digest.
func PushImage(t testing.TB, reg *registry.Registry, repo, tag string, img *fixture.Image) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := reg.Client().Push(ctx, repo, tag, img); err != nil {
		t.Fatalf("pushing %s to %s: %v", repo, reg.Host, err)
	}
	if tag == "" {
		return reg.Host + "/" + repo + "@" + img.Manifest.Digest.String()
	}
	return reg.Host + "/" + repo + ":" + tag
}

// GetManifest fetches repo's manifest by tag or digest from reg.
func GetManifest(t testing.TB, reg *registry.Registry, repo, ref string) registry.Manifest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := reg.Client().Manifest(ctx, repo, ref)
	if err != nil {
		t.Fatalf("manifest %s:%s from %s: %v", repo, ref, reg.Host, err)
	}
	return m
}

// authJSON is a containers-auth.json(5) with one entry.
func authJSON(host, user, password string) string {
	b, _ := json.MarshalIndent(map[string]any{"auths": map[string]any{
		host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))},
	}}, "", "\t")
	return string(b) + "\n"
}

// SystemCertsDir is where TrustCA installs a registry's CA for every user
// (containers-certs.d(5)); each registry's entry is removed when it stops.
const SystemCertsDir = "/etc/containers/certs.d"

// TrustCA makes skiff trust reg's CA, as a user would with certs.d:
// $XDG_CONFIG_HOME/containers/certs.d/<host>/ca.crt for this runner and,
// when the tests run as root, SystemCertsDir/<host>/ca.crt, which every
// runner sees until the registry stops (its port is unique while it runs).
func (s *Skiff) TrustCA(reg *registry.Registry) {
	s.t.Helper()
	ca, err := os.ReadFile(reg.CAFile)
	if err != nil {
		s.t.Fatalf("registry %s has no CA (start it with TLS): %v", reg.Host, err)
	}
	dirs := []string{filepath.Join(s.ConfigHome, "containers", "certs.d", reg.Host)}
	if os.Geteuid() == 0 {
		dirs = append(dirs, filepath.Join(SystemCertsDir, reg.Host))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			s.t.Fatal(err)
		}
		s.WriteFile(filepath.Join(d, "ca.crt"), ca)
	}
	for p := filepath.Join(s.ConfigHome, "containers", "certs.d", reg.Host); p != s.ConfigHome; p = filepath.Dir(p) {
		s.Chown(p)
	}
}
