package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// system reset -f, with a corrupted state database and running containers:
// the roots are left empty (but the rootless namespace's lock), no monitor
// and no mount remain, and skiff works again from scratch. Without -f it
// asks, and "n" removes nothing.
func TestSystemReset(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "up", "-v", "vol:/data", bb, "sleep", "100").MustSucceed(t)
		s.Run("create", "--name", "idle", bb, "true").MustSucceed(t)
		r := s.RunStdin(strings.NewReader("n\n"), "system", "reset").MustSucceed(t)
		if !strings.Contains(r.Stdout, "Are you sure you want to continue? [y/N]") {
			t.Errorf("system reset without -f does not ask:\n%s", r.Stdout)
		}
		s.Run("container", "exists", "up").MustSucceed(t)
		// A damaged database: the first pages overwritten, in the database
		// file and in its WAL (where the newest copy of a page may be).
		for _, name := range []string{"skiff.db", "skiff.db-wal"} {
			f, err := os.OpenFile(filepath.Join(s.Root, name), os.O_WRONLY, 0)
			if err != nil {
				if name == "skiff.db" || !os.IsNotExist(err) {
					t.Fatal(err)
				}
				continue
			}
			f.WriteAt([]byte(strings.Repeat("garbage!", 1024)), 0)
			f.Close()
		}
		s.Run("ps", "-a").MustFail(t, 125, "")
		s.Run("system", "reset", "-f").MustSucceed(t)
		for _, root := range []string{s.Root, s.RunRoot} {
			entries, _ := os.ReadDir(root)
			for _, e := range entries {
				if root == s.RunRoot && strings.HasPrefix(e.Name(), "pause.") {
					continue
				}
				t.Errorf("left in %s: %s", root, e.Name())
			}
		}
		if left := monitors(s); len(left) > 0 {
			t.Errorf("monitors left: %v", left)
		}
		b, _ := os.ReadFile("/proc/self/mountinfo")
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, " "+s.Root+"/") || strings.Contains(line, " "+s.RunRoot+"/") {
				t.Errorf("a mount left: %s", line)
			}
		}
		// Usable again.
		bb = s.LoadBusybox()
		s.Run("run", "--rm", bb, "echo", "again").Assert(t, Expect{Stdout: "again"})
		if got := s.Run("ps", "-aq").MustSucceed(t).Out(); got != "" {
			t.Errorf("containers after the reset: %q", got)
		}
		s.Run("volume", "exists", "vol").MustFail(t, 1, "")
		s.Run("system", "reset", "extra").MustFail(t, 125, "")
	})
}
