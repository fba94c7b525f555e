package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/skiff-engine/skiff/test/fixture"
	"github.com/skiff-engine/skiff/test/registry"
)

// The image pushed by the harness comes back by digest over plain net/http.
func TestHarnessPlainRegistry(t *testing.T) {
	t.Parallel()
	reg, img, repo := SharedRegistry(t), Busybox(t), Repo(t)
	ref := PushImage(t, reg, repo, "v1", img)
	if want := reg.Host + "/" + repo + ":v1"; ref != want {
		t.Fatalf("PushImage = %q, want %q", ref, want)
	}
	req, _ := http.NewRequest(http.MethodGet, reg.URL+"/v2/"+repo+"/manifests/"+img.Manifest.Digest.String(), nil)
	req.Header.Set("Accept", ocispec.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || digest.FromBytes(body) != img.Manifest.Digest {
		t.Fatalf("GET manifest by digest: HTTP %d, body digest %s, want %s", resp.StatusCode, digest.FromBytes(body), img.Manifest.Digest)
	}
	if m := GetManifest(t, reg, repo, "v1"); m.Digest != img.Manifest.Digest || m.MediaType != ocispec.MediaTypeImageManifest {
		t.Fatalf("GetManifest by tag: %s %s", m.Digest, m.MediaType)
	}
	cfg, err := reg.Client().Blob(context.Background(), repo, img.ID())
	if err != nil || !bytes.Equal(cfg, img.ConfigBlob.Data) {
		t.Fatalf("config blob: %v", err)
	}
}

func TestHarnessTLSAuthRegistry(t *testing.T) {
	t.Parallel()
	reg := StartRegistry(t, RegistryOptions{TLS: true, Auth: true})
	ctx := context.Background()
	if err := reg.ClientAs(reg.User, "wrong-"+reg.Password).Ping(ctx); !registry.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("wrong password: %v, want HTTP 401", err)
	}
	if err := reg.ClientAs("", "").Ping(ctx); !registry.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("anonymous: %v, want HTTP 401", err)
	}
	if err := reg.Client().Ping(ctx); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if _, err := http.Get(reg.URL + "/v2/"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client without the CA must reject the certificate, got %v", err)
	}
	img := Layered(t, fixture.LayersOptions{Busybox: true})
	repo := Repo(t)
	PushImage(t, reg, repo, "", img)
	if m := GetManifest(t, reg, repo, img.Manifest.Digest.String()); !bytes.Equal(m.Data, img.Manifest.Data) {
		t.Fatal("manifest differs")
	}
	if _, err := os.Stat(filepath.Join(reg.CertDir, "ca.crt")); err != nil {
		t.Fatal(err)
	}
}

func TestHarnessRunner(t *testing.T) {
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		id := s.RunCommand("/usr/bin/id", "-u").MustSucceed(t).Out()
		if id != strconv.Itoa(s.UID()) {
			t.Fatalf("id -u = %s, want %d", id, s.UID())
		}
		if s.Rootless() && os.Geteuid() == 0 {
			if s.UID() == 0 {
				t.Fatal("rootless runs as root")
			}
			if groups := s.RunCommand("/usr/bin/id", "-G").MustSucceed(t).Out(); groups != strconv.Itoa(s.GID()) {
				t.Fatalf("id -G = %q, want only %d", groups, s.GID())
			}
		}
		env := s.RunCommand("/bin/sh", "-c", `echo "$HOME $XDG_RUNTIME_DIR $CONTAINERS_REGISTRIES_CONF $REGISTRY_AUTH_FILE"; pwd; touch x`).MustSucceed(t).Lines()
		if want := strings.Join([]string{s.Home, s.RuntimeDir, s.RegistriesConf, s.AuthFile}, " "); env[0] != want || env[1] != s.Dir {
			t.Fatalf("environment %q, want %q in %s", env, want, s.Dir)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(s.RuntimeDir, &st); err != nil || st.Mode&0o777 != 0o700 || int(st.Uid) != s.UID() {
			t.Fatalf("XDG_RUNTIME_DIR mode %o owner %d, want 0700 %d (%v)", st.Mode&0o777, st.Uid, s.UID(), err)
		}
		s.RunCommand("/bin/sh", "-c", "exit 3").MustFail(t, 3, "")
		if r := s.RunCommand("/nonexistent"); r.Err == nil {
			t.Fatalf("starting a missing program: %s", r)
		}
		s.Run("version").MustSucceed(t)
	})
}

// A process a test leaves running is killed when the test ends.
func TestHarnessCleanup(t *testing.T) {
	var cmd *exec.Cmd
	var dir string
	t.Run("leak", func(t *testing.T) {
		s := NewSkiff(t, Rootless)
		cmd, dir = s.Command("/bin/sleep", "600"), s.Dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	})
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the process a test left behind is still running")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s not removed: %v", dir, err)
	}
}

func TestHarnessArchiveDeterministic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bb := Busybox(t)
	for _, f := range []fixture.ArchiveFormat{fixture.DockerArchive, fixture.OCIArchive} {
		var files [][]byte
		for i := range 2 {
			p := filepath.Join(dir, string(f)+strconv.Itoa(i))
			if err := fixture.WriteFile(p, f, fixture.Tagged{Image: bb, Tags: []string{BusyboxTag}}); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, b)
		}
		if !bytes.Equal(files[0], files[1]) {
			t.Errorf("%s written twice differs", f)
		}
		if a, b := BusyboxArchive(t, f), BusyboxArchive(t, f); a != b {
			t.Errorf("cached %s: %s then %s", f, a, b)
		}
	}
}

// The busybox fixture loads and runs; also the example in test/README.md.
func TestHarnessLoadAndRun(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		name := s.LoadBusybox()
		s.Run("images", "--no-trunc").Assert(t, Expect{Stdout: Busybox(t).ID().String()})
		s.Run("run", "--rm", name, "cat", "/etc/passwd").Assert(t, Expect{Stdout: "nobody:x:65534"})
		s.Run("run", "--rm", name, "sh", "-c", "exit 7").MustFail(t, 7, "")
	})
}

// An image pushed by the harness pulls with skiff, whiteouts applied.
func TestHarnessPull(t *testing.T) {
	t.Parallel()
	img := Layered(t, fixture.LayersOptions{Busybox: true})
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := SharedRegistry(t)
		ref := PushImage(t, reg, Repo(t), "v1", img)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		s.Run("pull", ref).MustSucceed(t)
		s.Run("images", "--no-trunc").Assert(t, Expect{Stdout: img.ID().String()})
		s.Run("run", "--rm", ref, "ls", "/data/layer1").Assert(t, Expect{Stdout: "file-000000", NotStdout: "removed"})
		if out := s.Run("run", "--rm", ref, "ls", fixture.OpaqueDir).MustSucceed(t).Out(); out != "new" {
			t.Fatalf("ls %s = %q, want only new", fixture.OpaqueDir, out)
		}
	})
}
