package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"text/template"
	"time"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/engine/api"
	"github.com/skiff-engine/skiff/userns"
)

// `skiff system service [--time N] [URI]`: Docker's Engine API on a unix
// socket until N seconds pass with nothing busy (engine/api).
func systemServiceCommand() *cli.Command {
	return &cli.Command{
		Name:      "service",
		Usage:     "serve Docker's Engine API on a socket, exiting when idle",
		ArgsUsage: "[unix://PATH | tcp://HOST:PORT]",
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "time", Aliases: []string{"t"}, Value: 5, Usage: "seconds idle before exiting (0: never)"},
			&cli.BoolFlag{Name: "print-units", Usage: "print the systemd socket and service units (system and user) and exit"},
		},
		Action: func(c *cli.Context) error {
			if err := requireArgs(c, 0, 1); err != nil {
				return err
			}
			if c.Bool("print-units") {
				self, err := os.Executable()
				if err != nil {
					return err
				}
				_, err = os.Stdout.Write(serviceUnits(self))
				return err
			}
			secs := c.Int64("time")
			if secs < 0 {
				return fmt.Errorf("invalid --time %d: must be 0 (never exit) or more: %w", secs, errdefs.ErrInvalidArgument)
			}
			ln, activated, err := activationListener()
			if err != nil {
				return err
			}
			var addr serviceAddr
			if ln == nil {
				if addr, err = parseServiceURI(c.Args().First()); err != nil {
					return err
				}
			}
			return withEngine(c, func(ctx context.Context, e *engine.Engine) error {
				if ln == nil {
					if ln, err = listenService(e, addr); err != nil {
						return err
					}
				}
				defer ln.Close()
				if !activated && addr.network == "tcp" {
					fmt.Fprintf(os.Stderr, "WARNING: serving the API on %s without TLS or authentication: anyone who can reach it controls this user's containers\n", addr.path)
				}
				ctx, stop := signal.NotifyContext(ctx, unix.SIGINT, unix.SIGTERM)
				defer stop()
				s := api.New(e, api.Options{Version: version, Idle: time.Duration(secs) * time.Second})
				return s.Serve(ctx, ln)
			})
		},
	}
}

// serviceAddr is where to listen: network "unix" (path "": the default
// socket) or "tcp".
type serviceAddr struct {
	network, path string
}

// parseServiceURI reads unix://PATH or tcp://HOST:PORT ("": the default
// unix socket).
func parseServiceURI(uri string) (serviceAddr, error) {
	if uri == "" {
		return serviceAddr{network: "unix"}, nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return serviceAddr{}, fmt.Errorf("invalid URI %q: %v: %w", uri, err, errdefs.ErrInvalidArgument)
	}
	switch u.Scheme {
	case "unix":
		p := u.Host + u.Path // unix:///abs and unix://rel/ative
		if !filepath.IsAbs(p) {
			return serviceAddr{}, fmt.Errorf("invalid URI %q: the socket path must be absolute (unix:///PATH): %w", uri, errdefs.ErrInvalidArgument)
		}
		return serviceAddr{network: "unix", path: filepath.Clean(p)}, nil
	case "tcp":
		if _, _, err := net.SplitHostPort(u.Host); err != nil || u.Path != "" {
			return serviceAddr{}, fmt.Errorf("invalid URI %q: want tcp://HOST:PORT: %w", uri, errdefs.ErrInvalidArgument)
		}
		return serviceAddr{network: "tcp", path: u.Host}, nil
	}
	return serviceAddr{}, fmt.Errorf("invalid URI %q: the scheme must be unix:// or tcp://: %w", uri, errdefs.ErrInvalidArgument)
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

// listenService listens on addr. A unix socket is made 0600 (0660 and the
// group with skiff.toml's [api] group), its parent created 0700 when
// missing; a stale socket is replaced, a live one refused.
func listenService(e *engine.Engine, addr serviceAddr) (net.Listener, error) {
	if addr.network == "tcp" {
		return net.Listen("tcp", addr.path)
	}
	path := addr.path
	if path == "" {
		path = defaultSocket(e)
	}
	gid := -1
	if g := e.APIConfig().Group; g != "" {
		grp, err := user.LookupGroup(g)
		if err != nil {
			return nil, fmt.Errorf("skiff.toml [api] group %q: %v: %w", g, err, errdefs.ErrInvalidArgument)
		}
		gid, _ = strconv.Atoi(grp.Gid)
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

// activationListener is the socket systemd passed (LISTEN_PID is this
// process, LISTEN_FDS counts from fd 3), or nil without one. The variables
// are unset so that nothing this process starts takes the socket for its
// own.
func activationListener() (net.Listener, bool, error) {
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

// serviceUnitsText holds the units for socket activation: skiff.socket and
// skiff.service, the system's (Skiff: the binary) and the user's.
const serviceUnitsText = `{{define "socket"}}# skiff.socket{{if .User}} (a user unit: ~/.config/systemd/user/skiff.socket){{end}}: Docker's Engine API for
# {{if .User}}this user's{{else}}the system's{{end}} skiff, started on demand: {{if .User}}systemctl --user{{else}}systemctl{{end}} enable --now skiff.socket
[Unit]
Description=skiff API socket
Documentation=https://github.com/skiff-engine/skiff/blob/main/docs/skiff-system-service.md

[Socket]
ListenStream=%t/skiff/skiff.sock
SocketMode=0600
DirectoryMode=0700

[Install]
WantedBy=sockets.target
{{end}}{{define "service"}}# skiff.service{{if .User}} (a user unit: ~/.config/systemd/user/skiff.service){{end}}: serves skiff.socket and
# exits after 5 s idle; the containers it starts keep running (KillMode=process).
[Unit]
Description=skiff API service
Documentation=https://github.com/skiff-engine/skiff/blob/main/docs/skiff-system-service.md
Requires=skiff.socket
After=skiff.socket
StartLimitIntervalSec=0

[Service]
Type=exec
ExecStart={{.Skiff}} system service --time 5
KillMode=process
{{end}}`

var serviceUnitsTemplate = template.Must(template.New("units").Parse(serviceUnitsText))

// serviceUnit is one unit: kind "socket" or "service".
func serviceUnit(kind, skiff string, user bool) []byte {
	var b bytes.Buffer
	if err := serviceUnitsTemplate.ExecuteTemplate(&b, kind, struct {
		Skiff string
		User  bool
	}{skiff, user}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// serviceUnits is the four units, each after a line naming its file.
func serviceUnits(skiff string) []byte {
	var b bytes.Buffer
	for _, u := range []struct {
		file, kind string
		user       bool
	}{
		{"/etc/systemd/system/skiff.socket", "socket", false},
		{"/etc/systemd/system/skiff.service", "service", false},
		{"~/.config/systemd/user/skiff.socket", "socket", true},
		{"~/.config/systemd/user/skiff.service", "service", true},
	} {
		fmt.Fprintf(&b, "### %s\n", u.file)
		b.Write(serviceUnit(u.kind, skiff, u.user))
		b.WriteString("\n")
	}
	return b.Bytes()
}
