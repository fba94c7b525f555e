package api

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/userns"
)

// Where the service listens: the socket it makes, or the one systemd
// passed.

// Addr is where the service listens: Network "unix" (Path "": the
// default socket) or "tcp".
type Addr struct {
	Network, Path string
}

// ParseAddr reads unix://PATH or tcp://HOST:PORT ("": the default
// unix socket).
func ParseAddr(uri string) (Addr, error) {
	if uri == "" {
		return Addr{Network: "unix"}, nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return Addr{}, fmt.Errorf("invalid URI %q: %v: %w", uri, err, errdefs.ErrInvalidArgument)
	}
	switch u.Scheme {
	case "unix":
		p := u.Host + u.Path // unix:///abs and unix://rel/ative
		if !filepath.IsAbs(p) {
			return Addr{}, fmt.Errorf("invalid URI %q: the socket path must be absolute (unix:///PATH): %w", uri, errdefs.ErrInvalidArgument)
		}
		return Addr{Network: "unix", Path: filepath.Clean(p)}, nil
	case "tcp":
		if _, _, err := net.SplitHostPort(u.Host); err != nil || u.Path != "" {
			return Addr{}, fmt.Errorf("invalid URI %q: want tcp://HOST:PORT: %w", uri, errdefs.ErrInvalidArgument)
		}
		return Addr{Network: "tcp", Path: u.Host}, nil
	}
	return Addr{}, fmt.Errorf("invalid URI %q: the scheme must be unix:// or tcp://: %w", uri, errdefs.ErrInvalidArgument)
}

// defaultSocket is /run/skiff/skiff.sock rootful; rootless
// $XDG_RUNTIME_DIR/skiff/skiff.sock, or in the engine's run root when
// XDG_RUNTIME_DIR is unset.
func defaultSocket(e *engine.Engine) string {
	if !userns.Rootless() {
		return "/run/skiff/skiff.sock"
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(x) {
		return filepath.Join(x, "skiff", "skiff.sock")
	}
	return filepath.Join(e.Paths().RunRoot, "skiff.sock")
}

// Listen listens on addr. A unix socket is made 0600 (0660 and the
// group with skiff.toml's [api] group), its parent created 0700 when
// missing; a stale socket is replaced, a live one refused.
func Listen(e *engine.Engine, addr Addr) (net.Listener, error) {
	if addr.Network == "tcp" {
		return net.Listen("tcp", addr.Path)
	}
	path := addr.Path
	if path == "" {
		path = defaultSocket(e)
	}
	gid := -1
	if g := e.APIConfig().Group; g != "" {
		grp, err := user.LookupGroup(g)
		if err != nil {
			return nil, fmt.Errorf("skiff.toml [api] group %q: %v: %w", g, err, errdefs.ErrInvalidArgument)
		}
		hostGID, _ := strconv.Atoi(grp.Gid)
		var ok bool
		if gid, ok = userns.NamespaceGID(hostGID); !ok {
			return nil, fmt.Errorf("skiff.toml [api] group %q (gid %d) is not mapped into the rootless user namespace, so it cannot own the socket: use your own group, or a socket path in a directory the group can reach: %w", g, hostGID, errdefs.ErrInvalidArgument)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("the socket's directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket: %w", path, errdefs.ErrAlreadyExists)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s is already served by a running service: %w", path, errdefs.ErrAlreadyExists)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	old := unix.Umask(0o177) // the socket is never world-writable, not even for an instant
	ln, err := net.Listen("unix", path)
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	mode := os.FileMode(0o600)
	if gid >= 0 {
		mode = 0o660
		if err := os.Chown(path, -1, gid); err != nil {
			ln.Close()
			return nil, fmt.Errorf("the socket's group: %w", err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// ActivationListener is the socket systemd passed (LISTEN_PID is this
// process, LISTEN_FDS counts from fd 3), or nil without one. The variables
// are unset so that nothing this process starts takes the socket for its
// own.
func ActivationListener() (net.Listener, bool, error) {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if pid == "" || fds == "" || pid != strconv.Itoa(os.Getpid()) {
		return nil, false, nil
	}
	n, err := strconv.Atoi(fds)
	if err != nil || n < 1 {
		return nil, false, fmt.Errorf("LISTEN_FDS=%q: want a count of sockets: %w", fds, errdefs.ErrInvalidArgument)
	}
	if n > 1 {
		return nil, false, fmt.Errorf("LISTEN_FDS=%d: skiff serves one socket: %w", n, errdefs.ErrInvalidArgument)
	}
	const first = 3 // SD_LISTEN_FDS_START
	unix.CloseOnExec(first)
	f := os.NewFile(first, "systemd socket")
	ln, err := net.FileListener(f)
	f.Close() // FileListener dup'ed it
	if err != nil {
		return nil, false, fmt.Errorf("the socket systemd passed: %w", err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // systemd's socket stays for the next activation
	}
	return ln, true, nil
}
