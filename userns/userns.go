// Package userns owns skiff's rootless user namespace: the subordinate id
// ranges, the pause process that keeps the namespace alive, and the C
// constructor that puts every later skiff process inside it.
//
// The first rootless invocation creates a user namespace (0 → the user's
// uid, 1..N → the user's /etc/subuid range, written by newuidmap; gids
// likewise) and a mount namespace owned by it, and leaves a pause process
// holding both. Later invocations join them from a C constructor, before the
// Go runtime starts threads, and run as uid 0 there. All rootless storage
// mounts live in that one mount namespace, so any later skiff sees them and
// the host does not (the kernel turns inherited shared mounts into slaves).
//
// Invariants:
//   - Inside means euid 0 under a non-identity /proc/self/uid_map. Children
//     (storage re-exec, monitor, container init) inherit it and the
//     constructor leaves processes with euid 0 alone.
//   - The host ids are re-derived from /proc/self/uid_map and gid_map, never
//     passed in the environment: C setenv is invisible to Go, and children
//     that never ran the join need them too.
//   - A pid file is trusted only for a live process owned by the user whose
//     comm is "skiff-pause"; anything else is stale and replaced under the
//     lock.
//   - No init() function has side effects: the constructor (constructor.c)
//     is the only code that runs on its own, and for euid 0 it does nothing
//     unless it was started as the pause process.
//
// When the pause process is gone (killed, OOM) while containers still run,
// their monitors still hold the namespaces: the slow path then starts a new
// pause process that joins the user and mount namespaces of a running
// monitor of this run root (found through its monitor.pid), so the
// containers stay reachable. Only when no monitor runs are fresh namespaces
// created.
//
// On disk, in StateDir() (the recorded run root, see statedir.go, else
// $XDG_RUNTIME_DIR/skiff or /tmp/skiff-run-$UID; 0700, owned by the user):
//
//	pause.pid   pid of the pause process, "%d\n", replaced atomically
//	pause.lock  flock taken while the pause is checked, created or stopped
//	c/<id>/monitor.pid  written by each container's monitor (runtime/monitor.go),
//	            whose argv is "skiff-monitor run c/<id>/monitor.json": read
//	            only to re-join after the pause died
//
// and <data home>/skiff/runroot records the run root in use (statedir.go).
//
// Environment used between skiff processes:
//
//	_SKIFF_PAUSE_FD=N  the child is the pause process; N is its handshake socket
//	_SKIFF_PAUSE_JOIN=1  with _SKIFF_PAUSE_FD: setns into the user and mount
//	                   namespaces open on fds 4 and 5 instead of new ones
//	_SKIFF_REEXEC=1    set for the re-exec after the slow path; stops a loop
//	_SKIFF_NOJOIN=1    disables the constructor's fast join, forcing the slow
//	                   path once (debugging); Join drops it for the re-exec
package userns

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

const (
	pauseEnv  = "_SKIFF_PAUSE_FD"
	joinEnv   = "_SKIFF_PAUSE_JOIN"
	reexecEnv = "_SKIFF_REEXEC"
	noJoinEnv = "_SKIFF_NOJOIN"
	pauseComm = "skiff-pause"
)

// Rootless reports whether this process works for an unprivileged user:
// either its euid is not 0, or it is root inside a user namespace whose
// uid_map is not the identity (skiff's, or any other).
func Rootless() bool {
	return os.Geteuid() != 0 || !selfMaps().uid.identity()
}

// inside reports whether this process is root inside a rootless namespace.
func inside() bool {
	return os.Geteuid() == 0 && !selfMaps().uid.identity()
}

// HostUID is the unprivileged user's uid on the host (os.Getuid() when
// rootful): inside the namespace, the host id mapped to 0.
func HostUID() int {
	if inside() {
		if id, ok := selfMaps().uid.hostOf(0); ok {
			return id
		}
	}
	return os.Getuid()
}

// HostGID is the unprivileged user's gid on the host (os.Getgid() when
// rootful): inside the namespace, the host id mapped to 0.
func HostGID() int {
	if inside() {
		if id, ok := selfMaps().gid.hostOf(0); ok {
			return id
		}
	}
	return os.Getgid()
}

// NamespaceGID is host group gid as this process's user namespace sees
// it (gid itself when rootful); false when the namespace does not map it.
// A rootless namespace maps the user's own group (as 0) and subordinate
// ids, not the other groups the user is in.
func NamespaceGID(gid int) (int, bool) {
	m := selfMaps().gid
	if m.identity() {
		return gid, true
	}
	return m.insideOf(int64(gid))
}

// SingleID reports that this process is inside a namespace that maps only
// the user's own uid, so files cannot be chowned to any other owner.
func SingleID() bool {
	m := selfMaps().uid
	return inside() && len(m) == 1 && m[0].count == 1
}

// RuntimeDir is the directory StateDir is in (where containers/image keeps
// auth.json): $XDG_RUNTIME_DIR, or /tmp/skiff-run-$HOSTUID when unset; when
// StateDir comes from the record, the runtime directory it was recorded in,
// so that credentials follow the run root. When rootless the /tmp fallback
// is created 0700 if missing; Join refuses to go on when it is a symlink or
// not owned by the user, so callers can rely on it afterwards.
func RuntimeDir() string {
	if c := stateDirOnce(); c.fromRecord {
		if filepath.Base(c.dir) == "skiff" {
			return filepath.Dir(c.dir)
		}
		return c.dir
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		return x
	}
	dir := fmt.Sprintf("/tmp/skiff-run-%d", HostUID())
	if Rootless() {
		_ = os.Mkdir(dir, 0o700) // best effort: checked by ensureStateDir in Join
	}
	return dir
}

// ensureStateDir creates StateDir 0700 and checks it is a real directory
// owned by us: the /tmp fallback is in a world-writable place, where another
// user could have planted a symlink or a directory of their own.
func ensureStateDir() (string, error) {
	dir := StateDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && dir == computedStateDir() {
			// Typical after su: the variable still names the previous user's directory.
			return "", fmt.Errorf("creating the skiff state directory: %w (XDG_RUNTIME_DIR=%s: point it at a directory of your own, or unset it to use /tmp/skiff-run-%d)", err, x, HostUID())
		}
		return "", fmt.Errorf("creating the skiff state directory: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		return "", fmt.Errorf("checking the skiff state directory: %w", err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR || int(st.Uid) != os.Geteuid() {
		return "", fmt.Errorf("%s is a symlink or not owned by uid %d: remove it, or set XDG_RUNTIME_DIR to a directory of your own", dir, HostUID())
	}
	if st.Mode&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", fmt.Errorf("making %s private: %w", dir, err)
		}
	}
	return dir, nil
}
