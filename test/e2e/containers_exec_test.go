package e2e

import (
	"strings"
	"testing"
)

// exec runs in the container: its files, its exit code, -e -u -w.
func TestContainerExec(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "box", "-e", "FROM_RUN=1", "-w", "/tmp", bb, "sleep", "1000").MustSucceed(t)

		s.Run("exec", "box", "sh", "-c", "exit 42").MustFail(t, 42, "")
		s.Run("exec", "box", "true").MustSucceed(t)
		s.Run("exec", "box", "sh", "-c", "echo written by exec > /root/note").MustSucceed(t)
		if got := s.Run("exec", "box", "cat", "/root/note").MustSucceed(t).Stdout; got != "written by exec\n" {
			t.Fatalf("a file written by one exec, read by the next: %q", got)
		}
		s.Run("exec", "box", "sh", "-c", "echo to-stderr >&2").Assert(t, Expect{Stderr: "to-stderr"})
		// It is the container's process tree: PID 1 is the container's sleep.
		if got := s.Run("exec", "box", "cat", "/proc/1/cmdline").MustSucceed(t).Stdout; got != "sleep\x001000\x00" {
			t.Errorf("exec sees /proc/1/cmdline %q, want the container's sleep", got)
		}
		// The container's environment and working directory, unless told otherwise.
		if got := s.Run("exec", "box", "sh", "-c", `echo "$FROM_RUN $(pwd)"`).MustSucceed(t).Out(); got != "1 /tmp" {
			t.Errorf("exec inherits run's -e and -w: %q", got)
		}
		if got := s.Run("exec", "-e", "X=from exec", "-e", "FROM_RUN=2", "box", "sh", "-c", `echo "$X $FROM_RUN"`).MustSucceed(t).Out(); got != "from exec 2" {
			t.Errorf("exec -e: %q", got)
		}
		if got := s.Run("exec", "-u", "nobody", "box", "id", "-u").MustSucceed(t).Out(); got != "65534" {
			t.Errorf("exec -u nobody: %q", got)
		}
		s.Run("exec", "-u", "nobody", "box", "touch", "/root/denied").MustFail(t, 0, "Permission denied")
		if got := s.Run("exec", "-w", "/etc", "box", "pwd").MustSucceed(t).Out(); got != "/etc" {
			t.Errorf("exec -w /etc: %q", got)
		}
		s.Run("exec", "box", "nosuchcmd").MustFail(t, 127, "")
		s.Run("exec", "box", "/etc/passwd").MustFail(t, 126, "")
		// Without -i the process gets no input.
		if got := s.RunStdin(strings.NewReader("typed\n"), "exec", "box", "cat").MustSucceed(t).Stdout; got != "" {
			t.Errorf("exec without -i read stdin: %q", got)
		}
		if got := s.RunStdin(strings.NewReader("typed\n"), "exec", "-i", "box", "cat").MustSucceed(t).Stdout; got != "typed\n" {
			t.Errorf("exec -i: cat echoed %q", got)
		}
		s.Run("exec", "nope", "true").MustFail(t, 125, "No such container")

		s.Run("stop", "-t", "0", "box").MustSucceed(t)
		s.Run("exec", "box", "true").MustFail(t, 125, "not running")
		s.Run("rm", "box").MustSucceed(t)
		requireClean(t, s, "rm")
	})
}
