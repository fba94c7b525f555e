package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dockerPy is Debian's python3 (python3-docker lives in its dist-packages,
// not in whichever python3 comes first in PATH).
const dockerPy = "/usr/bin/python3"

// TestAPIDockerPy runs the docker-py suites of testdata/dockerpy (unittest
// modules) against the service, rootful and rootless.
func TestAPIDockerPy(t *testing.T) {
	t.Parallel()
	if err := exec.Command(dockerPy, "-c", "import docker").Run(); err != nil {
		t.Fatalf("Debian's python3-docker is missing (make deps installs it): %v", err)
	}
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		dir, err := filepath.Abs("testdata/dockerpy")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(dockerPy, "-m", "unittest", "-v", "test_containers")
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "DOCKER_HOST=unix://" + a.sock,
			"SKIFF_IMAGE=" + image, "PYTHONDONTWRITEBYTECODE=1"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker-py: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "OK") {
			t.Fatalf("docker-py: no OK:\n%s", out)
		}
		t.Logf("docker-py:\n%s", out)
	})
}
