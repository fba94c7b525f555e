package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveUntil starts `skiff system service args...`, waits until path (a
// socket, or a tcp address host:port) answers _ping and returns the
// command and what it wrote to stderr so far; the service is killed at the
// end of the test.
func serveUntil(t *testing.T, s *Skiff, network, addr string, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := s.Cmd(append([]string{"system", "service"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}, Timeout: 5 * time.Second}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := hc.Get("http://d/_ping")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "OK" {
				t.Fatalf("_ping on %s: %s %q", addr, resp.Status, b)
			}
			return cmd, &stderr
		}
		if time.Now().After(deadline) {
			t.Fatalf("no service answers on %s %s: %v; stderr: %s", network, addr, err, stderr.String())
		}
	}
}

// socketMode checks a socket's permission bits and group.
func socketMode(t *testing.T, path string, mode os.FileMode, gid int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != mode {
		t.Errorf("%s: mode %v, want a socket %v", path, fi.Mode(), mode)
	}
	if st := fi.Sys().(*syscall.Stat_t); gid >= 0 && int(st.Gid) != gid {
		t.Errorf("%s: group %d, want %d", path, st.Gid, gid)
	}
}

// TestAPIServiceSockets: where the service listens and who may connect.
// Rootless without a URI it serves $XDG_RUNTIME_DIR/skiff/skiff.sock, or
// without XDG_RUNTIME_DIR its run root's skiff.sock; the socket is 0600 in
// a 0700 directory, 0660 with skiff.toml's [api] group; tcp:// is served
// only when asked, with a warning. (The rootful default, /run/skiff, is
// the host's: a test does not take it.)
func TestAPIServiceSockets(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		if s.Rootless() {
			sock := filepath.Join(s.RuntimeDir, "skiff", "skiff.sock")
			cmd, _ := serveUntil(t, s, "unix", sock, "--time", "0")
			socketMode(t, sock, 0o600, s.GID())
			if fi, err := os.Stat(filepath.Dir(sock)); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("the socket's directory: %v %v, want 0700", fi.Mode(), err)
			}
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
			if _, err := os.Stat(sock); !os.IsNotExist(err) {
				t.Errorf("the socket is left after an interrupt: %v", err)
			}

			s.Setenv("XDG_RUNTIME_DIR", "")
			fallback := filepath.Join(s.RunRoot, "skiff.sock")
			serveUntil(t, s, "unix", fallback, "--time", "1")
			socketMode(t, fallback, 0o600, s.GID())
			s.Setenv("XDG_RUNTIME_DIR", s.RuntimeDir)
		}

		// [api] group: a group the user is in (rootful: any group).
		group := "daemon"
		gid := 1
		if s.Rootless() {
			g, err := user.LookupGroupId(strconv.Itoa(s.GID()))
			if err != nil {
				t.Fatal(err)
			}
			group, gid = g.Name, s.GID()
		} else if g, err := user.LookupGroup(group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		} else {
			t.Fatalf("group %s: %v", group, err)
		}
		s.SetConfig(t, "api", fmt.Sprintf("group = %q", group))
		sock := filepath.Join(s.Dir, "grp", "s.sock")
		serveUntil(t, s, "unix", sock, "--time", "0", "unix://"+sock)
		socketMode(t, sock, 0o660, gid)
		s.SetConfig(t, "api", `group = "no-such-group-e2e"`)
		s.Run("system", "service", "unix://"+filepath.Join(s.Dir, "grp2", "s.sock")).MustFail(t, 125, `[api] group "no-such-group-e2e"`)
		if _, err := os.Stat(filepath.Join(s.Dir, "grp2", "s.sock")); !os.IsNotExist(err) {
			t.Errorf("a refused group left a socket: %v", err)
		}
		s.SetConfig(t, "api", "")

		port := hostPort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		_, stderr := serveUntil(t, s, "tcp", addr, "--time", "0", "tcp://"+addr)
		if !strings.Contains(stderr.String(), "WARNING") || !strings.Contains(stderr.String(), addr) {
			t.Errorf("tcp:// without a warning naming %s: %q", addr, stderr.String())
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /version HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /version over tcp: %v %v", resp, err)
		}
		c.Close()
	})
}
