package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// run -it through a real pseudo-terminal: the shell has a tty, reads what
// is typed, and its exit code is run's; ctrl-p ctrl-q detaches, attach
// comes back.
func TestContainerInteractiveTTY(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		con, run := startOnConsole(t, s, s.Cmd("run", "-it", "--rm", bb, "sh"))
		con.out.waitFor(t, "# ", 15*time.Second) // the prompt
		con.typeText(t, "tty; echo $((6*7)); exit 5\r")
		if code := run.wait(t, 15*time.Second); code != 5 {
			t.Fatalf("run -it sh typed 'exit 5': exit %d\n%s", code, con.out.String())
		}
		<-con.eof
		out := con.out.String()
		if !strings.Contains(out, "/dev/pts/0\r\n42\r\n") {
			t.Fatalf("run -it: want /dev/pts/0 and 42 on the terminal, got %q", out)
		}
		requireNoContainers(t, s, "run -it --rm")

		// Detach with ctrl-p ctrl-q: run returns, the container keeps running.
		con, run = startOnConsole(t, s, s.Cmd("run", "-it", "--name", "shell", bb, "sh"))
		con.out.waitFor(t, "# ", 15*time.Second)
		con.typeText(t, "echo before-detach\r")
		con.out.waitFor(t, "before-detach\r\n", 10*time.Second)
		con.typeText(t, "\x10\x11")
		if code := run.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("run -it after ctrl-p ctrl-q: exit %d\n%q", code, con.out.String())
		}
		if st := status(t, s, "shell"); !strings.HasPrefix(st, "Up") {
			t.Fatalf("after detaching, the container should run: %q", st)
		}
		s.Run("exec", "shell", "true").MustSucceed(t)

		// exec -it: a terminal of its own in the same container.
		con, ex := startOnConsole(t, s, s.Cmd("exec", "-it", "shell", "sh"))
		con.out.waitFor(t, "# ", 15*time.Second)
		con.typeText(t, "tty; test -t 0 && echo stdin-is-a-tty; exit 3\r")
		if code := ex.wait(t, 15*time.Second); code != 3 {
			t.Fatalf("exec -it sh, exit 3: exit %d\n%q", code, con.out.String())
		}
		<-con.eof // the last output may still be on its way from the console
		if out := con.out.String(); !strings.Contains(out, "/dev/pts/1") || !strings.Contains(out, "stdin-is-a-tty\r\n") {
			t.Fatalf("exec -it: want /dev/pts/1 and a terminal on stdin, got %q", out)
		}

		// attach: the same shell, its exit code.
		con, att := startOnConsole(t, s, s.Cmd("attach", "shell"))
		time.Sleep(300 * time.Millisecond) // attach gives no prompt of its own: let it connect
		con.typeText(t, "echo attached-$((40+2)); exit 4\r")
		if code := att.wait(t, 15*time.Second); code != 4 {
			t.Fatalf("attach, then exit 4: exit %d\n%q", code, con.out.String())
		}
		<-con.eof
		if out := con.out.String(); !strings.Contains(out, "attached-42") {
			t.Fatalf("attach: the shell's answer is missing: %q", out)
		}
		waitStatus(t, s, "shell", "Exited (4)", 10*time.Second)
		s.Run("attach", "shell").MustFail(t, 125, "stopped container")
		s.Run("rm", "shell").MustSucceed(t)

		// -it needs a terminal on stdin.
		s.Run("run", "-it", "--rm", bb, "true").MustFail(t, 125, "not a TTY")
		requireClean(t, s, "rm")
	})
}

// Ctrl-C (SIGINT to skiff) of a foreground run without -t reaches the
// container's process.
func TestContainerSignalProxy(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		run := startBackground(t, s.Cmd("run", "--rm", bb, "sh", "-c",
			`trap "echo got INT; exit 7" INT; echo ready; while :; do sleep 0.1; done`))
		run.out.waitFor(t, "ready", 15*time.Second)
		if err := run.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := run.wait(t, 10*time.Second); code != 7 || !strings.Contains(run.out.String(), "got INT") {
			t.Fatalf("SIGINT to a foreground run: want 'got INT' and exit 7\n%s", run)
		}
		// SIGTERM too, to a process that does not trap it: the default action ends it.
		run = startBackground(t, s.Cmd("run", "--rm", "--init", bb, "sh", "-c", `echo ready; sleep 1000`))
		run.out.waitFor(t, "ready", 15*time.Second)
		run.cmd.Process.Signal(syscall.SIGTERM)
		if code := run.wait(t, 10*time.Second); code != 143 {
			t.Fatalf("SIGTERM to a foreground run of sh under --init: want exit 143\n%s", run)
		}
		requireClean(t, s, "foreground runs ended by signals")
	})
}

// run -it: the container's terminal starts at the caller's size and
// follows it when the caller's terminal is resized (SIGWINCH to skiff).
func TestContainerTTYResize(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		con, run := startOnConsole(t, s, s.Cmd("run", "-it", "--rm", bb, "sh"))
		con.out.waitFor(t, "# ", 15*time.Second)
		con.typeText(t, "stty size\r")
		con.out.waitFor(t, "24 80\r\n", 10*time.Second)
		// Resizing the console's master changes the size skiff's terminal
		// has and sends SIGWINCH to skiff, which passes the size on.
		if err := unix.IoctlSetWinsize(int(con.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 132}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the container's terminal never became 50x132", func() bool {
			con.typeText(t, "stty size\r")
			time.Sleep(200 * time.Millisecond)
			return strings.Contains(con.out.String(), "50 132\r\n")
		})
		con.typeText(t, "exit 0\r")
		if code := run.wait(t, 15*time.Second); code != 0 {
			t.Fatalf("run -it, exit 0: exit %d\n%q", code, con.out.String())
		}
		requireNoContainers(t, s, "run -it --rm")
	})
}
