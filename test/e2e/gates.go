package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// Every gate skips through skip, so SKIFF_E2E_NO_SKIP=1 (for CI on the
// project machine, where everything must run) turns skips into failures.
func skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("SKIFF_E2E_NO_SKIP") != "" {
		t.Fatalf("would skip (SKIFF_E2E_NO_SKIP is set): %s", reason)
	}
	t.Skip(reason)
}

// RequiresRoot skips unless the tests run as root (rootful mode, creating
// the rootless test user).
func RequiresRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "requires root: run the end-to-end tests as root (make test)")
	}
}

// RequiresRootful skips the rootless run of a ForEachMode case.
func RequiresRootful(t testing.TB, s *Skiff, why string) {
	t.Helper()
	if s.Mode != Rootful {
		skip(t, "rootful only: "+why)
	}
}

// RequiresCommand skips unless name is on PATH.
func RequiresCommand(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		skip(t, "requires "+name+" on PATH")
	}
}
