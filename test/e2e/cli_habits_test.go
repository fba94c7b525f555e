package e2e

// The command-line habits of docker and podman users that scripts rely on:
// flags after positional arguments, and the common flags of existing
// commands.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Flags after the positional arguments, except where those are the
// container's own command line (run, create, exec).
func TestCLIFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "--name", "done", bb, "echo", "hello").MustSucceed(t)
		s.Run("logs", "done", "-f").Assert(t, Expect{Stdout: "hello\n"})
		s.Run("logs", "done", "--tail", "1", "-t").Assert(t, Expect{Stdout: "Z hello\n"})

		s.Run("run", "-d", "--name", "web", bb, "sleep", "1000").MustSucceed(t)
		s.Run("stop", "web", "-t", "0").Assert(t, Expect{Stdout: "web"})
		s.Run("start", "web").MustSucceed(t)
		s.Run("rm", "web").MustFail(t, 125, "")
		s.Run("rm", "web", "-f").Assert(t, Expect{Stdout: "web"})
		if psRow(t, s, "web") != "" {
			t.Fatal("rm web -f left the container")
		}

		out := filepath.Join(s.Dir, "x.tar")
		s.Run("save", bb, "-o", out).MustSucceed(t)
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Fatalf("save IMAGE -o FILE wrote nothing: %v", err)
		}
		id := s.Run("images", "-q", bb).MustSucceed(t).Out()
		if got := s.Run("images", bb, "--format", "{{.ID}}").MustSucceed(t).Out(); got != id {
			t.Errorf("images NAME --format: %q, want %q", got, id)
		}
		s.Run("tag", bb, "other:1").MustSucceed(t)
		s.Run("image", "ls", "other", "-q").Assert(t, Expect{Stdout: id})
		s.Run("container", "ls", "--all", "-q").MustSucceed(t)

		// `--` ends the flags: what follows is an argument.
		s.Run("rm", "done", "--", "-f").MustFail(t, 125, "-f")

		// run, create and exec pass everything after the image or container on.
		s.Run("run", "--rm", bb, "echo", "-n", "-f", "x").Assert(t, Expect{Stdout: "-f x"})
		s.Run("run", "-d", "--name", "ex", bb, "sleep", "1000").MustSucceed(t)
		s.Run("exec", "ex", "ls", "-d", "/etc").Assert(t, Expect{Stdout: "/etc\n"})
		s.Run("rm", "-f", "ex").MustSucceed(t)
	})
}

// Unknown flags and bad values: one line with docker's spelling, exit 125.
func TestCLIFlagErrors(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"run", "--memory-swap", "1g", "busybox", "true"}, "unknown flag: --memory-swap"},
			{[]string{"ps", "--bogus"}, "unknown flag: --bogus"},
			{[]string{"logs", "web", "--bogus"}, "unknown flag: --bogus"},
			{[]string{"stop", "web", "-t", "soon"}, `invalid value "soon" for -t`},
			{[]string{"stop", "web", "--time"}, "flag needs an argument: --time"},
		} {
			r := s.Run(tc.args...).MustFail(t, 125, tc.want)
			if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || r.Stdout != "" {
				t.Errorf("%v: want one line on stderr and nothing on stdout\n%s", tc.args, r)
			}
		}
	})
}

var _ = time.Second
