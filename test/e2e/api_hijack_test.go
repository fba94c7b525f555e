package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// dockerCmd is the docker CLI's command line against the service.
func (a *apiService) dockerCmd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command("/usr/local/bin/docker", args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir(), "DOCKER_HOST=unix://" + a.sock, "TERM=xterm"}
	return cmd
}

// dockerIn runs the docker CLI with stdin and returns its output and
// exit code.
func (a *apiService) dockerIn(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := a.dockerCmd(t, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return strings.TrimSpace(string(out)), ee.ExitCode()
	case err != nil:
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), 0
}

// TestAPIHijack: the docker CLI's foreground run (create, hijacked attach,
// wait, start) never loses the first output, its exit codes are Docker's,
// stdin's half-close reaches the container and exec processes, and a
// client that drops a hijacked stream leaves the service serving.
func TestAPIHijack(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := setup(t, s)
		a := startService(t, s, "--time", "0")

		for i := range 20 {
			if out, code := a.dockerIn(t, "", "run", "--rm", image, "echo", "hi"); out != "hi" || code != 0 {
				t.Fatalf("docker run --rm echo hi, run %d: %q, exit %d", i+1, out, code)
			}
		}
		if out, code := a.dockerIn(t, "", "run", "--rm", image, "sh", "-c", "echo out; echo err >&2"); code != 0 || (out != "out\nerr" && out != "err\nout") {
			t.Errorf("docker run, stdout and stderr: %q, exit %d", out, code)
		}
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"true"}, 0, ""},
			{[]string{"false"}, 1, ""},
			{[]string{"sh", "-c", "exit 7"}, 7, ""},
			{[]string{"--network", "nosuchnet", image, "true"}, 125, "network nosuchnet not found"},
			{[]string{"/etc/passwd"}, 126, "permission denied"},
			{[]string{"/nonexistent"}, 127, "no such file or directory"},
			{[]string{"nosuchcommand"}, 127, "executable file not found"},
		} {
			args := append([]string{"run", "--rm"}, c.args...)
			if !strings.HasPrefix(c.args[0], "--") {
				args = append([]string{"run", "--rm", image}, c.args...)
			}
			out, code := a.dockerIn(t, "", args...)
			if code != c.code || !strings.Contains(out, c.msg) {
				t.Errorf("docker %s: exit %d %q, want %d with %q", strings.Join(args, " "), code, out, c.code, c.msg)
			}
		}
		requireNoContainers(t, s, "docker run --rm")
		// Without --rm (wait next-exit), then start -a (attach, then start).
		if out, code := a.dockerIn(t, "", "run", "--name", "keep", image, "sh", "-c", "echo kept; exit 2"); out != "kept" || code != 2 {
			t.Errorf("docker run, exit 2: %q, exit %d", out, code)
		}
		if out, code := a.dockerIn(t, "", "start", "-a", "keep"); out != "kept" || code != 2 {
			t.Errorf("docker start -a: %q, exit %d", out, code)
		}
		a.mustDocker(t, "rm", "keep")

		// stdin: the client's half-close ends the container's (StdinOnce).
		if out, code := a.dockerIn(t, "data\n", "run", "--rm", "-i", image, "cat"); out != "data" || code != 0 {
			t.Errorf("echo data | docker run -i cat: %q, exit %d", out, code)
		}
		a.mustDocker(t, "run", "-d", "--name", "hj", image, "sleep", "120")
		since := fmt.Sprint(time.Now().Unix() - 1)
		if out, code := a.dockerIn(t, "", "exec", "hj", "sh", "-c", "echo out; echo err >&2; exit 3"); code != 3 || (out != "out\nerr" && out != "err\nout") {
			t.Errorf("docker exec, exit 3: %q, exit %d", out, code)
		}
		// Docker's exec events, the command in the action, exec_die's code.
		events := a.mustDocker(t, "events", "--since", since, "--until", fmt.Sprint(time.Now().Unix()+1), "--filter", "container=hj",
			"--format", "{{.Action}} {{.Actor.Attributes.exitCode}}")
		var execEvents []string
		for _, l := range strings.Split(events, "\n") {
			if strings.HasPrefix(l, "exec_") {
				execEvents = append(execEvents, l)
			}
		}
		if got, want := strings.Join(execEvents, "\n"), "exec_create: sh -c echo out; echo err >&2; exit 3 <no value>\nexec_start: sh -c echo out; echo err >&2; exit 3 <no value>\nexec_die 3"; got != want {
			t.Errorf("exec events:\n%s\nwant\n%s", got, want)
		}
		if out, code := a.dockerIn(t, "data\n", "exec", "-i", "hj", "cat"); out != "data" || code != 0 {
			t.Errorf("echo data | docker exec -i cat: %q, exit %d", out, code)
		}
		if out, code := a.dockerIn(t, "", "exec", "hj", "nosuchcommand"); code != 127 {
			t.Errorf("docker exec of a missing command: exit %d %q, want 127", code, out)
		}
		a.mustDocker(t, "exec", "-d", "hj", "touch", "/detached")
		waitFor(t, 10*time.Second, "the detached exec's file", func() bool {
			_, code := a.dockerIn(t, "", "exec", "hj", "test", "-e", "/detached")
			return code == 0
		})

		// An attach waiting for a start made by another process (the skiff
		// CLI): the log so far, then the stream, then the end.
		s.Run("create", "--name", "elsewhere", image, "sh", "-c", "echo one; sleep 1; echo two").MustSucceed(t)
		conn, br := hijackRaw(t, a, "POST /containers/elsewhere/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		s.Run("start", "elsewhere").MustSucceed(t)
		if out := readStdcopy(t, br); out != "one\ntwo\n" {
			t.Errorf("attach, then a start by the skiff CLI: %q, want one and two", out)
		}
		conn.Close()
		s.Run("rm", "elsewhere").MustSucceed(t)

		// Without StdinOnce (run -d -i) the client's half-close leaves the
		// container's stdin open: cat reads on.
		a.mustDocker(t, "run", "-d", "-i", "--name", "keepin", image, "cat")
		conn, br = hijackRaw(t, a, "POST /containers/keepin/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		io.WriteString(conn, "typed\n")
		conn.(*net.UnixConn).CloseWrite()
		frame := make([]byte, 14)
		if _, err := io.ReadFull(br, frame); err != nil || string(frame[8:]) != "typed\n" {
			t.Errorf("attach with stdin: %q, %v", frame, err)
		}
		time.Sleep(500 * time.Millisecond)
		if out := a.mustDocker(t, "inspect", "--format", "{{.State.Status}}", "keepin"); out != "running" {
			t.Errorf("after the half-close of an attach to a container without StdinOnce: %s, want running", out)
		}
		conn.Close()
		a.mustDocker(t, "rm", "-f", "keepin")

		// A client that drops its attach and its exec mid-stream.
		a.mustDocker(t, "run", "-d", "--name", "ticker", image, "sh", "-c", "while true; do echo tick; sleep 0.1; done")
		for _, req := range []string{
			"POST /containers/ticker/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
		} {
			dropMidStream(t, a, req)
		}
		status, _, body := a.curl(t, "-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Cmd":["sh","-c","while true; do echo x; sleep 0.1; done"],"AttachStdout":true}`, "http://d/containers/hj/exec")
		if status != 201 || !strings.Contains(body, `"Id":"`) {
			t.Fatalf("exec create: %d %q", status, body)
		}
		id := strings.Split(strings.Split(body, `"Id":"`)[1], `"`)[0]
		dropMidStream(t, a, "POST /exec/"+id+"/start HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n{}")
		if out := a.mustDocker(t, "ps", "--format", "{{.Names}}"); !strings.Contains(out, "ticker") {
			t.Errorf("docker ps after dropped streams: %q", out)
		}

		// Bad input.
		for _, c := range []struct {
			args   []string
			status int
			msg    string
		}{
			{[]string{"http://d/containers/ticker/attach/ws"}, 501, "websocket"},
			{[]string{"-X", "POST", "http://d/containers/ticker/attach?stream=1&detachKeys=ctrl-%3F%3F"}, 400, "detachKeys"},
			{[]string{"-X", "POST", "http://d/containers/nosuch/attach?stream=1"}, 404, "nosuch"},
			{[]string{"-X", "POST", "http://d/exec/" + id + "/resize?h=x&w=80"}, 400, "invalid h"},
			{[]string{"-X", "POST", "http://d/exec/" + id + "/resize?h=24&w=80"}, 409, "no terminal"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Cmd":[]}`, "http://d/containers/hj/exec"}, 400, "command"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Cmd":"x"}`, "http://d/containers/hj/exec"}, 400, "invalid JSON"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Cmd":["true"]}`, "http://d/containers/nosuch/exec"}, 404, "nosuch"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{}`, "http://d/exec/" + strings.Repeat("0", 64) + "/start"}, 404, "no such exec"},
			{[]string{"http://d/exec/zz/json"}, 404, "no such exec"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{}`, "http://d/exec/" + id + "/start"}, 409, "already"},
		} {
			status, _, body := a.curl(t, c.args...)
			if status != c.status || !strings.Contains(body, c.msg) {
				t.Errorf("curl %q: %d %q, want %d with %q", c.args, status, body, c.status, c.msg)
			}
		}
		a.mustDocker(t, "stop", "-t", "0", "hj")
		if out, code := a.dockerIn(t, "", "exec", "hj", "true"); code == 0 || !strings.Contains(out, "not running") {
			t.Errorf("docker exec in a stopped container: exit %d %q", code, out)
		}
		a.mustDocker(t, "rm", "-f", "hj", "ticker")
		requireNoContainers(t, s, "docker rm -f")
	})
}

// dropMidStream sends a hijacking request, reads its 101 and some output,
// and hangs up.
func dropMidStream(t *testing.T, a *apiService, req string) {
	t.Helper()
	c, br := hijackRaw(t, a, req)
	defer c.Close()
	frame := make([]byte, 8)
	if _, err := io.ReadFull(br, frame); err != nil || frame[0] != 1 {
		t.Fatalf("first frame header %v: %v", frame, err)
	}
}

// readStdcopy reads multiplexed frames to the end and returns stdout's.
func readStdcopy(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var out strings.Builder
	for {
		h := make([]byte, 8)
		if _, err := io.ReadFull(br, h); err == io.EOF {
			return out.String()
		} else if err != nil {
			t.Fatalf("frame header: %v (so far %q)", err, out.String())
		}
		p := make([]byte, int(h[4])<<24|int(h[5])<<16|int(h[6])<<8|int(h[7]))
		if _, err := io.ReadFull(br, p); err != nil {
			t.Fatalf("frame: %v", err)
		}
		if h[0] == 1 {
			out.Write(p)
		}
	}
}

// hijackRaw sends a hijacking request and checks its 101 and headers.
func hijackRaw(t *testing.T, a *apiService, req string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("unix", a.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 101 UPGRADED") {
		t.Fatalf("%q: status %q, %v", strings.SplitN(req, "\r\n", 2)[0], line, err)
	}
	head := ""
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
		head += l
	}
	if !strings.Contains(head, "Upgrade: tcp") || !strings.Contains(head, "application/vnd.docker.multiplexed-stream") {
		t.Errorf("101 headers: %q", head)
	}
	return c, br
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// TestAPIHijackTTY: the docker CLI's interactive commands through a real
// pseudo-terminal: run -it (typing, its echo, ctrl-p ctrl-q detaches and
// the container runs on), attach to a detached container (its output,
// ctrl-p ctrl-q), exec -it.
func TestAPIHijackTTY(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := setup(t, s)
		a := startService(t, s, "--time", "0")

		con, run := startOnConsole(t, s, a.dockerCmd(t, "run", "-it", "--name", "shell", image, "sh"))
		con.out.waitFor(t, "# ", 20*time.Second)
		con.typeText(t, "echo $((6*7))\r")
		con.out.waitFor(t, "echo $((6*7))\r\n42\r\n", 10*time.Second) // the typed line echoed, then the answer
		con.typeText(t, "\x10\x11")
		if code := run.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("docker run -it after ctrl-p ctrl-q: exit %d\n%q", code, con.out.String())
		}
		if out := a.mustDocker(t, "inspect", "--format", "{{.State.Status}}", "shell"); out != "running" {
			t.Fatalf("after detaching, the container should run: %q", out)
		}

		con, ex := startOnConsole(t, s, a.dockerCmd(t, "exec", "-it", "shell", "sh"))
		con.out.waitFor(t, "# ", 20*time.Second)
		con.typeText(t, "tty; test -t 0 && echo stdin-is-a-tty; exit 3\r")
		if code := ex.wait(t, 15*time.Second); code != 3 {
			t.Fatalf("docker exec -it sh, exit 3: exit %d\n%q", code, con.out.String())
		}
		<-con.eof
		if out := con.out.String(); !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "stdin-is-a-tty\r\n") {
			t.Fatalf("docker exec -it: want a terminal, got %q", out)
		}

		// attach to a detached container: its output arrives, ctrl-p
		// ctrl-q detaches, it runs on.
		a.mustDocker(t, "run", "-d", "-it", "--name", "ticker", image, "sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done")
		con, att := startOnConsole(t, s, a.dockerCmd(t, "attach", "ticker"))
		con.out.waitFor(t, "tick-", 15*time.Second)
		con.typeText(t, "\x10\x11")
		// The docker CLI's attach reports the detach as its error, exit
		// 1, against dockerd too (its run -it takes it as done: exit 0).
		code := att.wait(t, 10*time.Second)
		<-con.eof // the message may still be in the terminal
		if code != 1 || !strings.Contains(con.out.String(), "read escape sequence") {
			t.Fatalf("docker attach after ctrl-p ctrl-q: exit %d\n%q", code, con.out.String())
		}
		if out := a.mustDocker(t, "inspect", "--format", "{{.State.Status}}", "ticker"); out != "running" {
			t.Fatalf("after detaching from attach, the container should run: %q", out)
		}

		// attach to the shell, type exit: attach ends with its code.
		con, att = startOnConsole(t, s, a.dockerCmd(t, "attach", "shell"))
		time.Sleep(500 * time.Millisecond) // attach prints nothing of its own: let it connect
		con.typeText(t, "echo attached-$((40+2)); exit 4\r")
		if code := att.wait(t, 15*time.Second); code != 4 {
			t.Fatalf("docker attach, then exit 4: exit %d\n%q", code, con.out.String())
		}
		<-con.eof // the last output may still be in the terminal
		if out := con.out.String(); !strings.Contains(out, "attached-42") {
			t.Fatalf("docker attach: the shell's answer is missing: %q", out)
		}
		a.mustDocker(t, "rm", "-f", "shell", "ticker")
		requireNoContainers(t, s, "docker rm -f")
	})
}

// TestAPIIdleHijacked: an open attach, one waiting for its container's
// start and an exec keep the service from exiting idle; once they close
// it exits.
func TestAPIIdleHijacked(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := setup(t, s)
		s.Run("run", "-d", "--name", "idleatt", image, "sleep", "60").MustSucceed(t)
		s.Run("create", "--name", "idlewait", image, "true").MustSucceed(t)
		for _, c := range []struct{ what, req string }{
			{"an attach", "POST /containers/idleatt/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"},
			{"an attach waiting for the start", "POST /containers/idlewait/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"},
			{"an exec", "exec"},
		} {
			a := startService(t, s, "--time", "1")
			req := c.req
			if req == "exec" {
				status, _, body := a.curl(t, "-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Cmd":["sleep","60"],"AttachStdout":true}`, "http://d/containers/idleatt/exec")
				if status != 201 {
					t.Fatalf("exec create: %d %q", status, body)
				}
				id := strings.Split(strings.Split(body, `"Id":"`)[1], `"`)[0]
				req = "POST /exec/" + id + "/start HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n{}"
			}
			conn, err := net.Dial("unix", a.sock)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, req)
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 101") {
				t.Fatalf("%s: %q %v", c.what, line, err)
			}
			if a.exited(2500 * time.Millisecond) {
				t.Fatalf("exited idle while %s was open", c.what)
			}
			conn.Close()
			if !a.exited(6 * time.Second) {
				t.Fatalf("still serving 6 s after %s closed", c.what)
			}
		}
		s.Run("rm", "-f", "idleatt", "idlewait").MustSucceed(t)
	})
}
