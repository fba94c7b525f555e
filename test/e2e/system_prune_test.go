package e2e

import (
	"strings"
	"testing"
)

// system prune: stopped containers, unused networks, dangling images and,
// with --volumes, unused anonymous volumes go; running containers, their
// images and used things stay; -a takes unused named images; no -f asks.
func TestSystemPrune(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		done := s.Run("run", "--name", "done", "-v", "/data", bb, "true").MustSucceed(t)
		_ = done
		s.Run("run", "-d", "--name", "up", bb, "sleep", "100").MustSucceed(t)
		s.Run("commit", "done", "img:1").MustSucceed(t)
		old := s.Run("images", "-q", "--no-trunc", "img:1").MustSucceed(t).Out()
		s.Run("commit", "-m", "again", "done", "img:1").MustSucceed(t) // the first is dangling now
		s.Run("network", "create", "unused").MustSucceed(t)
		s.Run("volume", "create", "named").MustSucceed(t)
		// Without -f it asks; "n" keeps everything.
		r := s.RunStdin(strings.NewReader("n\n"), "system", "prune").MustSucceed(t)
		if !strings.Contains(r.Stdout, "Are you sure you want to continue? [y/N]") || strings.Contains(r.Stdout, "Deleted") {
			t.Errorf("system prune without -f:\n%s", r.Stdout)
		}
		s.Run("container", "exists", "done").MustSucceed(t)
		r = s.Run("system", "prune", "-f").MustSucceed(t)
		for _, want := range []string{"Deleted Containers:", "Deleted Networks:\nunused", "Deleted Images:", "deleted: " + old, "Total reclaimed space:"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("system prune -f output lacks %q:\n%s", want, r.Stdout)
			}
		}
		if got := s.Run("ps", "-a", "--format", "{{.Names}}").MustSucceed(t).Out(); got != "up" {
			t.Errorf("containers left: %q", got)
		}
		s.Run("image", "exists", "img:1").MustSucceed(t)
		s.Run("image", "exists", bb).MustSucceed(t)
		if n := len(s.Run("volume", "ls", "-q").MustSucceed(t).Lines()); n != 2 {
			t.Errorf("volumes without --volumes: %d, want the anonymous one and named", n)
		}
		r = s.Run("system", "prune", "-f", "--volumes", "-a").MustSucceed(t)
		if !strings.Contains(r.Stdout, "Deleted Volumes:") || strings.Contains(r.Stdout, "named") {
			t.Errorf("--volumes removes the unused anonymous volume, not the named one:\n%s", r.Stdout)
		}
		s.Run("image", "exists", "img:1").MustFail(t, 1, "")
		s.Run("image", "exists", bb).MustSucceed(t) // the running container's
		s.Run("volume", "exists", "named").MustSucceed(t)
		s.Run("system", "prune", "-f", "--filter", "bogus=1").MustFail(t, 125, `invalid filter "bogus"`)
		s.Run("system", "prune", "-f", "extra").MustFail(t, 125, "")
		s.Run("rm", "-f", "up").MustSucceed(t)
	})
}
