package e2e

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// skiff is the CLI of the hot commands; what moves images or serves the
// API it hands to skiff-full (cmd/skiff/handoff.go). Through the installed
// pair every command works as one program would, and without skiff-full
// skiff still runs what it has and names the missing binary for the rest,
// having made nothing.
func TestHandOff(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		reg := SharedRegistry(t)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		img := Busybox(t)
		repo := Repo(t)
		first, second := PushImage(t, reg, repo, "v1", img), PushImage(t, reg, repo, "v2", img)

		// A run whose image is not local is handed over whole: one
		// "Unable to find image", the pull, the container, and the cidfile
		// that the first binary claimed and gave back, written once.
		cid := filepath.Join(s.Dir, "cid")
		r := s.Run("run", "--rm", "--cidfile", cid, first, "echo", "pulled")
		if r.ExitCode != 0 || r.Out() != "pulled" || strings.Count(r.Stderr, "Unable to find image") != 1 {
			t.Errorf("run of an image to pull, through skiff-full:\n%s", r)
		}
		if b, err := os.ReadFile(cid); err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).Match(b) {
			t.Errorf("--cidfile after the hand-off: %q, %v", b, err)
		}

		// skiff alone, without skiff-full beside it or on PATH.
		alone := filepath.Join(s.Dir, "alone")
		if err := os.Mkdir(alone, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"skiff", "skiff-monitor", "skiff-monitor-lean", "skiff-monitor-idle"} {
			copyExecutable(t, filepath.Join(filepath.Dir(s.bin), name), filepath.Join(alone, name))
		}
		runAlone := func(args ...string) *Result {
			t.Helper()
			cmd := s.Cmd(args...)
			cmd.Path = filepath.Join(alone, "skiff")
			cmd.Args[0] = cmd.Path
			for i, kv := range cmd.Env {
				if strings.HasPrefix(kv, "PATH=") {
					cmd.Env[i] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
				}
			}
			return s.run(cmd, nil)
		}
		if got := runAlone("run", "--rm", bb, "echo", "local").MustSucceed(t).Out(); got != "local" {
			t.Errorf("run of a local image by skiff alone: %q", got)
		}
		if got := runAlone("images", "--format", "{{.Repository}}:{{.Tag}}").MustSucceed(t).Out(); !strings.Contains(got, repo+":v1") {
			t.Errorf("images by skiff alone: %q", got)
		}
		before := psIDs(t, s)
		for _, args := range [][]string{
			{"pull", second},
			{"run", "--rm", second, "true"},
			{"create", "--name", "never", second},
			{"save", "-o", filepath.Join(s.Dir, "never.tar"), bb},
			{"system", "service", "unix://" + filepath.Join(s.Dir, "never.sock")},
		} {
			r := runAlone(args...).MustFail(t, 125, "skiff-full not found")
			if strings.Contains(r.Stderr, "Unable to find image") || len(r.Lines()) > 0 {
				t.Errorf("skiff alone said more than the missing binary:\n%s", r)
			}
		}
		if got := psIDs(t, s); len(got) != len(before) {
			t.Errorf("a command skiff could not hand over left a container: %q", got)
		}
		for _, p := range []string{"never.tar", "never.sock"} {
			if _, err := os.Lstat(filepath.Join(s.Dir, p)); err == nil {
				t.Errorf("a command skiff could not hand over made %s", p)
			}
		}
		if r := s.Run("image", "exists", second); r.ExitCode != 1 {
			t.Errorf("skiff alone pulled %s after all:\n%s", second, r)
		}
	})
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
