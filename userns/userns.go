// Package userns owns skiff's rootless user namespace.
//
// (Stub: the pause process and the C constructor are being written.)
package userns

import (
	"fmt"
	"io"
	"os"
)

// Rootless reports whether this process works for an unprivileged user:
// either its euid is not 0, or it is root inside skiff's user namespace.
func Rootless() bool { return os.Geteuid() != 0 }

// HostUID is the unprivileged user's uid on the host (os.Getuid() when rootful).
func HostUID() int { return os.Getuid() }

// HostGID is the unprivileged user's gid on the host.
func HostGID() int { return os.Getgid() }

// RuntimeDir is $XDG_RUNTIME_DIR, or /tmp/skiff-run-$UID when unset.
func RuntimeDir() string {
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		return x
	}
	return fmt.Sprintf("/tmp/skiff-run-%d", HostUID())
}

// StateDir is the rootless run root: $XDG_RUNTIME_DIR/skiff, or /tmp/skiff-run-$UID.
func StateDir() string {
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		return x + "/skiff"
	}
	return RuntimeDir()
}

// Join makes sure the calling rootless process runs inside the namespace.
func Join(warn io.Writer) error { return nil }

// SingleID reports a namespace that maps only the user's own id.
func SingleID() bool { return false }

// Migrate stops the pause process.
func Migrate() error { return nil }

// Unshare runs argv inside the namespace.
func Unshare(argv []string, env []string) error { return nil }
