package e2e

import (
	"os"
	"testing"

	"go.podman.io/storage/pkg/reexec"
)

func TestMain(m *testing.M) {
	// The engine runs in this process for the Go-level cases, and
	// containers/storage may re-execute it for some of its work.
	if reexec.Init() {
		return
	}
	code := m.Run()
	Shutdown()
	os.Exit(code)
}
