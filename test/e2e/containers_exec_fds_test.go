package e2e

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// exec never hands the container the caller's file descriptors: a process
// could reopen them through /proc/self/fd with the caller's access,
// outside the container's mount namespace. It gets pipes or a pty that
// skiff relays, as with Docker.
func TestContainerExecHostFds(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "box", bb, "sleep", "1000").MustSucceed(t)
		checkExecFds(t, s)

		// exec -t: the pty slave on 0, 1 and 2, and nothing of ours.
		out := s.Run("exec", "-t", "box", "sh", "-c", "ls -l /proc/$$/fd").MustSucceed(t).Stdout
		for _, fd := range []string{"0", "1", "2"} {
			if !regexp.MustCompile(`(?m) ` + fd + ` -> /dev/pts/\d+\r?$`).MatchString(out) {
				t.Errorf("exec -t: fd %s is not the pty:\n%s", fd, out)
			}
		}
		if strings.Contains(out, s.Dir) {
			t.Errorf("exec -t: the process holds a host file:\n%s", out)
		}
		// run and run -i go through the monitor's pipes as well.
		out = s.Run("run", "--rm", bb, "sh", "-c", "ls -l /proc/$$/fd").MustSucceed(t).Stdout
		requirePipes(t, "run", out, "1", "2")
		out = s.RunStdin(strings.NewReader(""), "run", "--rm", "-i", bb, "sh", "-c", "ls -l /proc/$$/fd").MustSucceed(t).Stdout
		requirePipes(t, "run -i", out, "0", "1", "2")
		if strings.Contains(out, s.Dir) {
			t.Errorf("run -i: the process holds a host file:\n%s", out)
		}
	})
}

// checkExecFds runs the attacks of a process on the descriptors of the
// exec command that started it.
func checkExecFds(t *testing.T, s *Skiff) {
	t.Helper()
	// The caller's stdout is a secret file (the user's own, 0600) opened
	// for appending: reopened through /proc for reading it would print it.
	secret := s.WriteFile("secret.txt", []byte("the-host-secret\n"))
	os.Chmod(secret, 0o600)
	f, err := os.OpenFile(secret, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := s.Cmd("exec", "box", "sh", "-c",
		`exec 3</proc/$$/fd/1 && timeout 1 cat <&3 >&2; exec 3<&-; ls -l /proc/$$/fd; exit 0`)
	cmd.Stdout = f
	ex := startBackground(t, cmd)
	code := ex.wait(t, 30*time.Second)
	f.Close()
	written, _ := os.ReadFile(secret)
	if strings.Contains(ex.errOut.String(), "the-host-secret") || code != 0 {
		t.Fatalf("exec read the file its caller gave it as stdout, or failed (exit %d):\n%s\n--- the file\n%s", code, ex, written)
	}
	listing := strings.TrimPrefix(string(written), "the-host-secret\n")
	requirePipes(t, "exec", listing, "1", "2")
	if strings.Contains(listing, s.Dir) {
		t.Errorf("exec: the process holds a host file:\n%s", listing)
	}

	// exec -i: stdin is a file opened read-only; writing to it through
	// /proc must not change it.
	in := s.WriteFile("in.txt", []byte("original\n"))
	inF, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd = s.Cmd("exec", "-i", "box", "sh", "-c", "echo overwritten > /proc/self/fd/0; cat")
	cmd.Stdin = inF
	ex = startBackground(t, cmd)
	code = ex.wait(t, 30*time.Second)
	inF.Close()
	if b, _ := os.ReadFile(in); string(b) != "original\n" || code != 0 || !strings.Contains(ex.out.String(), "original\n") {
		t.Errorf("exec -i: the read-only stdin file now holds %q (want it unchanged), or exec failed:\n%s", b, ex)
	}

	// A process left in the background keeps a descriptor of stdin (a
	// pipe of ours): once exec has returned, what we write is not its.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.WriteString("line1\n")
	cmd = s.Cmd("exec", "-i", "box", "sh", "-c",
		`rm -f /tmp/stolen; exec 3<&0; (sleep 1; cat <&3 > /tmp/stolen) >/dev/null 2>&1 & read first; echo "first=$first"`)
	cmd.Stdin = r
	ex = startBackground(t, cmd)
	if code := ex.wait(t, 10*time.Second); code != 0 || ex.out.String() != "first=line1\n" {
		t.Fatalf("exec -i with a background reader:\n%s", ex)
	}
	w.WriteString("line2\n")
	time.Sleep(2 * time.Second)
	if got := s.Run("exec", "box", "sh", "-c", "cat /tmp/stolen 2>/dev/null; true").MustSucceed(t).Stdout; strings.Contains(got, "line2") {
		t.Errorf("a background process of exec -i read what we wrote after exec returned: %q", got)
	}
	if got := readReady(r); got != "line2\n" {
		t.Errorf("after exec returned, our pipe held %q, want the line nobody should have read", got)
	}

	// Without -i, from a shell on a terminal: a background process can
	// neither write to the terminal later nor read what is typed there.
	script := `exec 3</proc/$$/fd/2; (sleep 1; cat <&3 > /tmp/typed) >/dev/null 2>&1 & (sleep 3; echo late-output >&2) & echo started`
	con, sh := startOnConsole(t, s, s.Command("/bin/sh", "-c",
		skiffShell(s, "exec", "box", "sh", "-c", script)+"; echo exec-done; sleep 5"))
	con.out.waitFor(t, "exec-done", 15*time.Second)
	con.typeText(t, "typed-at-the-host\r")
	if code := sh.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("the shell: exit %d\n%q", code, con.out.String())
	}
	if out := con.out.String(); strings.Contains(out, "late-output") || !strings.Contains(out, "started") {
		t.Errorf("a background process of exec wrote to the caller's terminal after exec returned: %q", out)
	}
	if got := s.Run("exec", "box", "sh", "-c", "cat /tmp/typed 2>/dev/null; true").MustSucceed(t).Stdout; strings.Contains(got, "typed-at-the-host") {
		t.Errorf("a background process of exec read what was typed at the host's terminal: %q", got)
	}
}

// readReady is what can be read from f at once (f was given to a command,
// so it is in blocking mode).
func readReady(f *os.File) string {
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
	if n, _ := unix.Poll(fds, 200); n != 1 {
		return ""
	}
	buf := make([]byte, 64)
	n, _ := syscall.Read(int(f.Fd()), buf)
	return string(buf[:max(n, 0)])
}

// requirePipes fails unless the `ls -l /proc/PID/fd` listing shows pipes
// for fds.
func requirePipes(t *testing.T, what, listing string, fds ...string) {
	t.Helper()
	for _, fd := range fds {
		if !regexp.MustCompile(`(?m) ` + fd + ` -> pipe:\[\d+\]$`).MatchString(listing) {
			t.Errorf("%s: fd %s is not a pipe:\n%s", what, fd, listing)
		}
	}
}

// The stream form of exec (the engine's ContainerExec), as the CLI runs it
// with SKIFF_EXEC_STREAM=1: the same output, exit codes and descriptors
// as the fast path.
func TestContainerExecStreamForm(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "box", bb, "sleep", "1000").MustSucceed(t)
		s.Setenv("SKIFF_EXEC_STREAM", "1")
		s.Run("exec", "box", "sh", "-c", "echo out; echo err >&2; exit 42").Assert(t, Expect{Code: 42, Stdout: "out\n", Stderr: "err"})
		s.Run("exec", "box", "true").MustSucceed(t)
		s.Run("exec", "box", "nosuchcmd").MustFail(t, 127, "executable file not found")
		s.Run("exec", "box", "/etc/passwd").MustFail(t, 126, "")
		s.Run("exec", "nope", "true").MustFail(t, 125, "No such container")
		if got := s.RunStdin(strings.NewReader("hi\n"), "exec", "-i", "box", "cat").MustSucceed(t).Stdout; got != "hi\n" {
			t.Errorf("echo hi | exec -i box cat: %q", got)
		}
		if got := s.RunStdin(strings.NewReader("typed\n"), "exec", "box", "cat").MustSucceed(t).Stdout; got != "" {
			t.Errorf("exec without -i read stdin: %q", got)
		}
		if got := s.Run("exec", "-t", "box", "tty").MustSucceed(t).Stdout; !strings.HasPrefix(got, "/dev/pts/") {
			t.Errorf("exec -t tty: %q", got)
		}
		s.Run("exec", "-d", "box", "sh", "-c", "sleep 0.3; echo detached > /tmp/d").MustSucceed(t)
		eventually(t, 10*time.Second, "exec -d never ran", func() bool {
			return s.Run("exec", "box", "cat", "/tmp/d").Stdout == "detached\n"
		})
		checkExecFds(t, s)
		// SIGTERM to skiff is passed on to the process, which handles it.
		lines, term := startStreaming(t, s.Cmd("exec", "box", "sh", "-c", `trap "echo term; exit 7" TERM; echo ready; while :; do sleep 0.1; done`))
		select {
		case <-lines:
		case <-time.After(10 * time.Second):
			t.Fatalf("the exec never started\n%s", term)
		}
		term.cmd.Process.Signal(syscall.SIGTERM)
		code := term.wait(t, 10*time.Second)
		var rest []string
		for l := range lines {
			rest = append(rest, l.Text)
		}
		if code != 7 || !slices.Equal(rest, []string{"term"}) {
			t.Errorf("SIGTERM to exec: exit %d, then %q; want the process's trap and exit 7\n%s", code, rest, term)
		}
		// -it from a terminal: raw mode, the terminal's size and its changes.
		con, ex := startOnConsole(t, s, s.Cmd("exec", "-it", "box", "sh"))
		con.out.waitFor(t, "# ", 15*time.Second)
		con.typeText(t, "stty size\r")
		con.out.waitFor(t, "24 80\r\n", 10*time.Second)
		resizeConsole(t, con, 50, 132)
		eventually(t, 10*time.Second, "the exec's terminal never became 50x132", func() bool {
			con.typeText(t, "stty size\r")
			time.Sleep(200 * time.Millisecond)
			return strings.Contains(con.out.String(), "50 132\r\n")
		})
		con.typeText(t, "exit 3\r")
		if code := ex.wait(t, 15*time.Second); code != 3 {
			t.Fatalf("exec -it sh, exit 3: exit %d\n%q", code, con.out.String())
		}
		s.Run("stop", "-t", "0", "box").MustSucceed(t)
		s.Run("exec", "box", "true").MustFail(t, 125, "not running")
	})
}

// resizeConsole changes the console's size, which sends SIGWINCH to the
// command on it.
func resizeConsole(t *testing.T, con *console, rows, cols uint16) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(con.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
}
