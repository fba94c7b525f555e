package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The acceptance: after a container's root filesystem was deleted
// by hand and a monitor was killed with SIGKILL, `system check` reports
// the damage (exit 125), `--repair` fixes it, a second check is clean,
// and ps -a, rm and images work.
func TestSystemCheckRepair(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("system", "check").Assert(t, Expect{Stdout: "No problems found"})
		victim := s.Run("create", "--name", "victim", bb, "true").MustSucceed(t).Out()
		runner := s.Run("run", "-d", "--name", "runner", bb, "sleep", "100").MustSucceed(t).Out()
		// The victim's root filesystem (its layer's directory) and its
		// containers/storage directory, deleted by hand.
		b, err := os.ReadFile(filepath.Join(s.Root, "storage", "overlay-containers", "containers.json"))
		if err != nil {
			t.Fatal(err)
		}
		var recs []struct{ ID, Layer string }
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatal(err)
		}
		layer := ""
		for _, r := range recs {
			if r.ID == victim {
				layer = r.Layer
			}
		}
		if layer == "" {
			t.Fatalf("no storage record of %s", victim)
		}
		for _, p := range []string{filepath.Join(s.Root, "storage", "overlay", layer), filepath.Join(s.Root, "storage", "overlay-containers", victim)} {
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
		}
		mon := monitorOf(t, s, runner)
		syscall.Kill(mon.pid, syscall.SIGKILL)
		eventually(t, 5*time.Second, "the monitor did not die", func() bool {
			start, alive := startTime(mon.pid)
			return !alive || start != mon.start
		})
		r := s.Run("system", "check").MustFail(t, 125, "problems found: run skiff system check --repair")
		for _, want := range []string{"layer", layer[:12], "monitor", "runner"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("system check does not report %q:\n%s", want, r.Stdout)
			}
		}
		r = s.Run("system", "check", "--repair").MustSucceed(t)
		if !strings.Contains(r.Stdout, "victim") || !strings.Contains(r.Stdout, "its root filesystem is gone") {
			t.Errorf("the repair does not name the removed record:\n%s", r.Stdout)
		}
		s.Run("system", "check").Assert(t, Expect{Stdout: "No problems found"})
		ps := s.Run("ps", "-a", "--format", "{{.Names}} {{.Status}}").MustSucceed(t).Out()
		if ps != "runner Exited (255)" {
			t.Errorf("ps -a after the repair: %q", ps)
		}
		s.Run("rm", "runner").MustSucceed(t)
		s.Run("images").Assert(t, Expect{Stdout: "busybox"})
		s.Run("run", "--rm", bb, "true").MustSucceed(t)
		s.Run("system", "check", "--force").MustFail(t, 125, "--force goes with --repair")
		s.Run("system", "check", "extra").MustFail(t, 125, "")
	})
}
