package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAPICompose: Debian's docker-compose 1.29 brings up an app of two
// services through the service (testdata/compose): the web answers on its
// published port and turns healthy, the client that waited for it fetched
// its page by service name; logs, ps and exec work; down -v removes the
// containers, the network and the volume.
func TestAPICompose(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Fatalf("Debian's docker-compose is missing (make deps installs it): %v", err)
	}
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		dir, err := filepath.Abs("testdata/compose")
		if err != nil {
			t.Fatal(err)
		}
		port := hostPort(t)
		compose := func(args ...string) (string, error) {
			cmd := exec.Command("docker-compose", append([]string{"--ansi", "never", "-p", "e2eapp", "-f", filepath.Join(dir, "docker-compose.yml")}, args...)...)
			cmd.Dir = t.TempDir()
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "DOCKER_HOST=unix://" + a.sock,
				"SKIFF_IMAGE=" + image, fmt.Sprintf("WEB_PORT=%d", port), "COMPOSE_HTTP_TIMEOUT=60"}
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		must := func(args ...string) string {
			t.Helper()
			out, err := compose(args...)
			if err != nil {
				t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return out
		}
		t.Cleanup(func() { compose("down", "-v", "-t", "1") })

		must("up", "-d")
		if body := fetch(t, s, fmt.Sprintf("http://127.0.0.1:%d/index.html", port)); strings.TrimSpace(body) != "hello-compose" {
			t.Errorf("the published port answered %q", body)
		}
		// up -d returned once the client started, which was after web
		// turned healthy; the client's fetch by name is in its logs.
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(must("logs", "--no-color", "client"), "hello-compose") {
			if time.Now().After(deadline) {
				t.Fatalf("the client did not fetch web's page:\n%s", must("logs", "--no-color"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		ps := must("ps")
		if !strings.Contains(ps, "e2eapp_web_1") || !strings.Contains(ps, "(healthy)") || !strings.Contains(ps, fmt.Sprintf("127.0.0.1:%d->80/tcp", port)) {
			t.Errorf("docker-compose ps:\n%s", ps)
		}
		if !strings.Contains(ps, "e2eapp_client_1") || !strings.Contains(ps, "Exit 0") {
			t.Errorf("docker-compose ps, the client:\n%s", ps)
		}
		if out := must("exec", "-T", "web", "cat", "/www/index.html"); strings.TrimSpace(out) != "hello-compose" {
			t.Errorf("docker-compose exec: %q", out)
		}
		must("down", "-v", "-t", "1")
		if out := s.Run("ps", "-aq").MustSucceed(t).Stdout; out != "" {
			t.Errorf("containers left after down -v: %q", out)
		}
		if out := s.Run("volume", "ls", "-q").MustSucceed(t).Stdout; strings.Contains(out, "e2eapp") {
			t.Errorf("volumes left after down -v: %q", out)
		}
		if out := s.Run("network", "ls", "--format", "{{.Name}}").MustSucceed(t).Stdout; strings.Contains(out, "e2eapp") {
			t.Errorf("networks left after down -v: %q", out)
		}
	})
}
