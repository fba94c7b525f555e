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
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// apiService is a running `skiff system service` on a socket of the
// runner's directory.
type apiService struct {
	sock string
	cmd  *exec.Cmd
	done chan error
	http *http.Client
}

// startService starts `skiff system service args... unix://SOCK` and waits
// until the socket answers.
func startService(t *testing.T, s *Skiff, args ...string) *apiService {
	t.Helper()
	sock := filepath.Join(s.Dir, "api", "s.sock")
	cmd := s.Cmd(append(append([]string{"system", "service"}, args...), "unix://"+sock)...)
	stderr, err := os.Create(filepath.Join(s.Dir, "out", "service.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &apiService{sock: sock, cmd: cmd, done: make(chan error, 1)}
	go func() { a.done <- cmd.Wait(); stderr.Close() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	a.http = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return a
		}
		select {
		case err := <-a.done:
			b, _ := os.ReadFile(stderr.Name())
			t.Fatalf("the service exited before serving: %v: %s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service does not answer on %s: %v", sock, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exited reports whether the service exits within d.
func (a *apiService) exited(d time.Duration) bool {
	select {
	case err := <-a.done:
		a.done <- err
		return true
	case <-time.After(d):
		return false
	}
}

// curl runs curl against the socket: the status line and headers, then
// the body.
func (a *apiService) curl(t *testing.T, args ...string) (status int, headers http.Header, body string) {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "-i", "--unix-socket", a.sock}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), nil)
	if err != nil {
		t.Fatalf("curl %q: %v: %q", args, err, out)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// docker runs the docker CLI on the machine against the service.
func (a *apiService) docker(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("/usr/local/bin/docker", args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir(), "DOCKER_HOST=unix://" + a.sock}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (a *apiService) mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := a.docker(t, args...)
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestAPIService: the shim's headers, versions and errors through curl, and
// the docker CLI's container life through it.
func TestAPIService(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		fi, err := os.Stat(a.sock)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
		}
		if di, _ := os.Stat(filepath.Dir(a.sock)); di.Mode().Perm() != 0o700 {
			t.Errorf("socket directory mode %v, want 0700", di.Mode().Perm())
		}

		// (a) curl: headers, versions, Docker's errors.
		status, h, body := a.curl(t, "http://d/_ping")
		if status != 200 || body != "OK" {
			t.Errorf("_ping: %d %q", status, body)
		}
		for k, v := range map[string]string{"Api-Version": "1.44", "Ostype": "linux", "Docker-Experimental": "false", "Swarm": "inactive", "Builder-Version": "1"} {
			if h.Get(k) != v {
				t.Errorf("_ping header %s: %q, want %q", k, h.Get(k), v)
			}
		}
		if !strings.HasPrefix(h.Get("Server"), "Docker/") || !strings.HasPrefix(h.Get("Cache-Control"), "no-cache") {
			t.Errorf("_ping headers Server %q, Cache-Control %q", h.Get("Server"), h.Get("Cache-Control"))
		}
		if status, _, body := a.curl(t, "-I", "http://d/v1.41/_ping"); status != 200 || body != "" {
			t.Errorf("HEAD /v1.41/_ping: %d %q", status, body)
		}
		for _, c := range []struct {
			args   []string
			status int
			msg    string
		}{
			{[]string{"http://d/v1.99/version"}, 400, "client version 1.99 is too new. Maximum supported API version is 1.44"},
			{[]string{"http://d/v1.12/version"}, 400, "client version 1.12 is too old. Minimum supported API version is 1.24"},
			{[]string{"http://d/nothing/here"}, 404, "page not found"},
			{[]string{"http://d/containers/nosuch/json"}, 404, "nosuch"},
			{[]string{"http://d/swarm"}, 503, "This node is not a swarm manager"},
			{[]string{"-X", "POST", "http://d/swarm/init"}, 501, "swarm"},
			{[]string{"http://d/plugins"}, 501, "plugins"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", "{not json", "http://d/containers/create"}, 400, "invalid JSON"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Image":3}`, "http://d/containers/create"}, 400, "invalid JSON"},
			{[]string{`http://d/events?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D&until=1`}, 400, "bogus"},
			{[]string{"-X", "POST", "http://d/containers/nosuch/wait?condition=sometime"}, 400, "invalid condition"},
		} {
			status, h, body := a.curl(t, c.args...)
			if status != c.status || !strings.Contains(body, `"message":`) || !strings.Contains(body, c.msg) {
				t.Errorf("curl %q: %d %q, want %d with a message containing %q", c.args, status, body, c.status, c.msg)
			}
			if h.Get("Api-Version") != "1.44" {
				t.Errorf("curl %q: no Api-Version header", c.args)
			}
		}
		if status, _, body := a.curl(t, "http://d/version"); status != 200 || !strings.Contains(body, `"ApiVersion":"1.44"`) || !strings.Contains(body, `"MinAPIVersion":"1.24"`) {
			t.Errorf("version: %d %s", status, body)
		}

		// (b) the docker CLI.
		since := fmt.Sprint(time.Now().Unix() - 1)
		if out := a.mustDocker(t, "version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}"); out != "1.44 linux" {
			t.Errorf("docker version: %q", out)
		}
		if out := a.mustDocker(t, "info", "--format", "{{.OSType}} {{.Swarm.LocalNodeState}}"); out != "linux inactive" {
			t.Errorf("docker info: %q", out)
		}
		id := a.mustDocker(t, "run", "-d", "--name", "apid", image, "sh", "-c", "echo out; echo err >&2; sleep 1; echo late")
		if len(id) != 64 {
			t.Fatalf("docker run -d: %q, want an ID", id)
		}
		if out := a.mustDocker(t, "ps", "-a", "--format", "{{.Names}} {{.Image}} {{.State}}"); !strings.Contains(out, "apid "+image+" running") {
			t.Errorf("docker ps -a: %q", out)
		}
		start := time.Now()
		if out := a.mustDocker(t, "logs", "-f", "apid"); out != "out\nerr\nlate" && out != "err\nout\nlate" {
			t.Errorf("docker logs -f: %q", out)
		} else if d := time.Since(start); d > 5*time.Second {
			t.Errorf("docker logs -f took %v to end after the container exited", d)
		}
		if out := a.mustDocker(t, "logs", "apid"); !strings.Contains(out, "late") {
			t.Errorf("docker logs: %q", out)
		}
		if out := a.mustDocker(t, "wait", "apid"); out != "0" {
			t.Errorf("docker wait: %q", out)
		}
		if out := a.mustDocker(t, "inspect", "--format", "{{.Name}} {{.State.Status}} {{.State.ExitCode}}", "apid"); out != "/apid exited 0" {
			t.Errorf("docker inspect: %q", out)
		}
		a.mustDocker(t, "run", "-d", "--name", "apis", image, "sleep", "60")
		a.mustDocker(t, "stop", "-t", "1", "apis")
		if out := a.mustDocker(t, "inspect", "--format", "{{.State.Status}}", "apis"); out != "exited" {
			t.Errorf("after docker stop: %q", out)
		}
		// Docker's 304 for a stop of a stopped container (and a start of a
		// running one), which its clients take as done.
		if status, _, body := a.curl(t, "-X", "POST", "http://d/containers/apis/stop"); status != 304 {
			t.Errorf("stop of a stopped container: %d %q, want 304", status, body)
		}
		a.mustDocker(t, "stop", "apis")
		a.mustDocker(t, "start", "apis")
		if status, _, body := a.curl(t, "-X", "POST", "http://d/containers/apis/start"); status != 304 {
			t.Errorf("start of a running container: %d %q, want 304", status, body)
		}
		if status, _, body := a.curl(t, "-X", "POST", "http://d/containers/apis/stop?t=1"); status != 204 {
			t.Errorf("stop of a running container: %d %q, want 204", status, body)
		}
		a.mustDocker(t, "rm", "-f", "apid", "apis")
		if out := a.mustDocker(t, "ps", "-a", "-q"); out != "" {
			t.Errorf("docker ps -a -q after rm -f: %q", out)
		}
		if out, err := a.docker(t, "inspect", "apid"); err == nil || !strings.Contains(out, "apid") {
			t.Errorf("docker inspect of a removed container: %v: %q", err, out)
		}
		until := fmt.Sprint(time.Now().Unix() + 1)
		ev := a.mustDocker(t, "events", "--since", since, "--until", until, "--filter", "container=apid", "--format", "{{.Action}}")
		if !inOrder(strings.Split(ev, "\n"), "create", "start", "die", "destroy") {
			t.Errorf("docker events: %q", ev)
		}
	})
}

// TestAPIIdle: --time 1 exits after a second idle, never while an events
// stream or a logs -f is open.
func TestAPIIdle(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "1")
		start := time.Now()
		if !a.exited(6 * time.Second) {
			t.Fatal("--time 1: still serving after 6 s idle")
		}
		t.Logf("idle exit after %v", time.Since(start))
		if _, err := os.Stat(a.sock); !os.IsNotExist(err) {
			t.Errorf("the socket is left after the exit: %v", err)
		}

		a = startService(t, s, "--time", "1")
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://d/events", nil)
		resp, err := a.http.Do(req) // returns once the 200 is flushed
		if err != nil {
			t.Fatal(err)
		}
		if a.exited(2500 * time.Millisecond) {
			t.Fatal("exited while an events stream was open")
		}
		cancel()
		resp.Body.Close()
		if !a.exited(6 * time.Second) {
			t.Fatal("still serving 6 s after the events stream closed")
		}

		a = startService(t, s, "--time", "1")
		a.mustDocker(t, "run", "-d", "--name", "idlelogs", image, "sh", "-c", "echo a; sleep 3; echo b")
		if out := a.mustDocker(t, "logs", "-f", "idlelogs"); out != "a\nb" {
			t.Errorf("logs -f across the idle time: %q", out)
		}
		a.mustDocker(t, "rm", "-f", "idlelogs")
	})
}

// TestAPIServiceBadInput: one line, exit 125, nothing served.
func TestAPIServiceBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		for _, c := range []struct {
			args []string
			msg  string
		}{
			{[]string{"ftp://host/x"}, "scheme must be unix:// or tcp://"},
			{[]string{"unix://relative.sock"}, "must be absolute"},
			{[]string{"--time", "-1", "unix://" + filepath.Join(s.Dir, "t.sock")}, "invalid --time -1"},
			{[]string{"unix:///proc/nope/s.sock"}, "socket's directory"},
		} {
			r := s.Run(append([]string{"system", "service"}, c.args...)...).MustFail(t, 125, c.msg)
			if n := len(strings.Split(strings.TrimSpace(r.Stderr), "\n")); n != 1 {
				t.Errorf("system service %q: %d lines of error, want 1: %q", c.args, n, r.Stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(s.Dir, "t.sock")); !os.IsNotExist(err) {
			t.Errorf("a refused service left its socket: %v", err)
		}
		a := startService(t, s, "--time", "0")
		s.Run("system", "service", "unix://"+a.sock).MustFail(t, 125, "already served by a running service")
		if status, _, _ := a.curl(t, "http://d/_ping"); status != 200 {
			t.Errorf("the first service no longer answers: %d", status)
		}
	})
}

// TestAPISocketActivation: under Debian's systemd-socket-activate the
// first request to the idle socket starts the service and is answered; the
// service exits after the idle time, and a later request on the same
// socket (held open as systemd holds it) starts it again.
func TestAPISocketActivation(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		sock := filepath.Join(s.Dir, "act.sock")
		service := s.Cmd("system", "service", "--time", "1").Args
		// systemd-socket-activate hands its child no environment but the
		// LISTEN_ variables: pass the runner's on, as a unit's Environment
		// would (without XDG_RUNTIME_DIR and HOME a rootless service would
		// keep its state, and a pause process, in /tmp/skiff-run-UID).
		args := []string{"-l", sock}
		for _, kv := range s.Env() {
			if name, _, ok := strings.Cut(kv, "="); ok {
				args = append(args, "-E", name)
			}
		}
		act := s.Command("systemd-socket-activate", append(args, service...)...)
		if err := act.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- act.Wait() }()
		var conn net.Conn
		for deadline := time.Now().Add(10 * time.Second); ; {
			var err error
			if conn, err = net.Dial("unix", sock); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("systemd-socket-activate does not listen on %s: %v", sock, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		start := time.Now()
		io.WriteString(conn, "GET /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("the first request after activation: %v", err)
		}
		first := time.Since(start)
		resp.Body.Close()
		conn.Close()
		t.Logf("first answer after activation: %v", first)
		if resp.StatusCode != 200 || resp.Header.Get("Api-Version") != "1.44" {
			t.Errorf("first answer: %s, Api-Version %q", resp.Status, resp.Header.Get("Api-Version"))
		}
		if first > time.Second {
			t.Errorf("first answer after activation took %v", first)
		}
		select {
		case <-done:
		case <-time.After(6 * time.Second):
			t.Fatal("the activated service did not exit after 1 s idle")
		}

		// The socket held across activations: each LISTEN_FDS service gets
		// the same listener, leaves it open and in place, and the request
		// queued while none runs is answered by the next.
		ln, err := net.Listen("unix", filepath.Join(s.Dir, "held.sock"))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		s.Chown(filepath.Join(s.Dir, "held.sock"))
		f, err := ln.(*net.UnixListener).File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for round := 1; round <= 2; round++ {
			cmd := s.Command("sh", append([]string{"-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"`, "sh"}, service...)...)
			cmd.ExtraFiles = []*os.File{f}
			errc := make(chan error, 1)
			go func() {
				c, err := net.Dial("unix", filepath.Join(s.Dir, "held.sock")) // queued before the service runs
				if err != nil {
					errc <- err
					return
				}
				defer c.Close()
				io.WriteString(c, "GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %s", resp.Status)
				}
				errc <- err
			}()
			time.Sleep(50 * time.Millisecond)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Errorf("round %d: the queued request: %v", round, err)
			}
			wait := make(chan error, 1)
			go func() { wait <- cmd.Wait() }()
			select {
			case err := <-wait:
				if err != nil {
					t.Errorf("round %d: the service: %v", round, err)
				}
			case <-time.After(6 * time.Second):
				t.Fatalf("round %d: the service did not exit after 1 s idle", round)
			}
			if _, err := os.Stat(filepath.Join(s.Dir, "held.sock")); err != nil {
				t.Fatalf("round %d: the service removed the socket systemd passed: %v", round, err)
			}
		}
	})
}

// TestAPIDockerPortsDf: through the service the docker CLI publishes a
// port (the page answers on it, docker port names it) and shows system df
// with Docker's rows.
func TestAPIDockerPortsDf(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		port := hostPort(t)
		a.mustDocker(t, "run", "-d", "--name", "pweb", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), image, "sh", "-c", webScript)
		if body := fetch(t, s, fmt.Sprintf("http://127.0.0.1:%d/index.html", port)); strings.TrimSpace(body) != "hello-from-web" {
			t.Errorf("the published port answered %q", body)
		}
		if out := a.mustDocker(t, "port", "pweb"); out != fmt.Sprintf("80/tcp -> 127.0.0.1:%d", port) {
			t.Errorf("docker port: %q", out)
		}
		if out := a.mustDocker(t, "ps", "--format", "{{.Ports}}"); out != fmt.Sprintf("127.0.0.1:%d->80/tcp", port) {
			t.Errorf("docker ps ports: %q", out)
		}
		df := a.mustDocker(t, "system", "df")
		for _, row := range []string{"TYPE", "Images", "Containers", "Local Volumes", "Build Cache"} {
			if !strings.Contains(df, row) {
				t.Errorf("docker system df lacks %q:\n%s", row, df)
			}
		}
		a.mustDocker(t, "rm", "-f", "pweb")
	})
}
