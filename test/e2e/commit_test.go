package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/test/fixture"
)

var imageIDLine = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// A container that created /new and deleted /bin/vi: diff lists exactly
// that (with its changed parent), commit makes an image that runs with
// the change, shows it in history and takes --change; export | import
// gives a runnable image; --squash gives one layer; the committed image
// saves, loads, pushes and pulls like any other.
func TestCommit(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := s.LoadBusybox()
		s.Run("run", "--name", "c1", bb, "sh", "-c", "touch /new && rm /bin/vi").MustSucceed(t)
		want := []string{"C /bin", "D /bin/vi", "A /new"}
		for _, cmd := range [][]string{{"diff", "c1"}, {"container", "diff", "c1"}} {
			if got := s.Run(cmd...).MustSucceed(t).Lines(); !slices.Equal(got, want) {
				t.Fatalf("%s = %q, want exactly %q", cmd, got, want)
			}
		}
		s.Run("diff", "--format", "json", "c1").Assert(t, Expect{Stdout: `"deleted": [`})

		id := s.Run("commit", "-m", "made /new", "-a", "Jane Doe <jane@example.com>", "-c", `CMD ["ls", "/new"]`, "-c", "ENV FOO=bar", "c1", "committed:1").MustSucceed(t).Out()
		if !imageIDLine.MatchString(id) {
			t.Fatalf("commit printed %q, want sha256:<64 hex>", id)
		}
		s.Run("run", "--rm", "committed:1").Assert(t, Expect{Stdout: "/new"})
		s.Run("run", "--rm", "committed:1", "sh", "-c", "test -e /bin/vi || echo vi-gone; test -e /bin/ls && echo ls-kept").Assert(t, Expect{Stdout: "vi-gone\nls-kept"})
		s.Run("image", "inspect", "-f", "{{.Id}}|{{.Config.Cmd}}|{{.Config.Env}}|{{.Author}}|{{.Comment}}|{{len .RootFS.Layers}}", "committed:1").
			Assert(t, Expect{Stdout: id + "|[ls /new]|[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin FOO=bar]|Jane Doe <jane@example.com>|made /new|2"})
		hist := s.Run("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", "committed:1").MustSucceed(t).Lines()
		if len(hist) != 2 || hist[0] != "sh -c touch /new && rm /bin/vi|made /new" {
			t.Fatalf("history = %q, want the commit on top", hist)
		}

		// The committed image is a first-class image: save, rmi, load, run.
		s.Run("save", "-o", "committed.tar", "committed:1").MustSucceed(t)
		s.Run("rmi", "committed:1").MustSucceed(t)
		s.Run("load", "-i", "committed.tar").MustSucceed(t)
		s.Run("run", "--rm", "committed:1").Assert(t, Expect{Stdout: "/new"})
		// ... push, rmi, pull, run: the same image comes back.
		dest := SharedRegistry(t).Host + "/" + Repo(t) + ":committed"
		s.Run("tag", "committed:1", dest).MustSucceed(t)
		s.Run("push", "--tls-verify=false", dest).Assert(t, Expect{Stdout: "digest: sha256:"})
		s.Run("rmi", "committed:1", dest).MustSucceed(t)
		s.Run("pull", "-q", "--tls-verify=false", dest).MustSucceed(t)
		s.Run("images", "-q", "--no-trunc").Assert(t, Expect{Stdout: id})
		s.Run("run", "--rm", dest).Assert(t, Expect{Stdout: "/new"})

		s.Run("commit", "--squash", "c1", "squashed").MustSucceed(t)
		s.Run("image", "inspect", "-f", "{{len .RootFS.Layers}}", "squashed").Assert(t, Expect{Stdout: "1"})
		s.Run("run", "--rm", "squashed", "sh", "-c", "ls /new; test -e /bin/vi || echo vi-gone").Assert(t, Expect{Stdout: "/new\nvi-gone"})

		s.Run("export", "-o", "c1.tar", "c1").MustSucceed(t)
		s.Run("import", "c1.tar", "exported:1").MustSucceed(t)
		s.Run("run", "--rm", "exported:1", "sh", "-c", "ls /new; test -e /bin/vi || echo vi-gone").Assert(t, Expect{Stdout: "/new\nvi-gone"})
		tarball := s.Run("container", "export", "c1").MustSucceed(t).Stdout
		s.RunStdin(strings.NewReader(tarball), "import", "-", "exported:2").MustSucceed(t)
		s.Run("run", "--rm", "exported:2", "ls", "/new").Assert(t, Expect{Stdout: "/new"})
	})
}

// A running container is committed (paused where there is a freezer) and
// keeps running.
func TestCommitRunning(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := s.LoadBusybox()
		s.Run("run", "-d", "--name", "busy", bb, "sh", "-c", "echo hello > /running; exec sleep 600").MustSucceed(t)
		eventually(t, 10*time.Second, "the container writes /running", func() bool { return strings.Contains(s.Run("diff", "busy").MustSucceed(t).Stdout, "A /running") })
		s.Run("container", "commit", "busy", "running:1").MustSucceed(t)
		s.Run("inspect", "-f", "{{.State.Status}}", "busy").Assert(t, Expect{Stdout: "running"})
		s.Run("run", "--rm", "running:1", "cat", "/running").Assert(t, Expect{Stdout: "hello"})
		s.Run("rm", "-f", "busy").MustSucceed(t)
	})
}

// Bad input: one line, exit 125, nothing created.
func TestCommitBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := s.LoadBusybox()
		s.Run("create", "--name", "c1", bb, "true").MustSucceed(t)
		images := s.Run("images", "-a", "-q", "--no-trunc").MustSucceed(t).Out()
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"commit", "nosuch", "x:1"}, "No such container: nosuch"},
			{[]string{"commit", "c1", "Bad:Ref"}, `invalid reference format "Bad:Ref"`},
			{[]string{"commit", "-c", "FROBNICATE yes", "c1", "x:1"}, `unsupported instruction "FROBNICATE"`},
			{[]string{"commit", "-f", "qcow", "c1", "x:1"}, `unknown image format "qcow"`},
			{[]string{"diff", "nosuch"}, "No such container: nosuch"},
			{[]string{"export", "-o", "out.tar", "nosuch"}, "No such container: nosuch"},
			{[]string{"export", "-o", "missing/out.tar", "c1"}, "missing"},
		} {
			r := s.Run(tc.args...).MustFail(t, 125, tc.msg)
			if n := strings.Count(strings.TrimSpace(r.Stderr), "\n"); n != 0 {
				t.Errorf("%s: want one line, got\n%s", tc.args, r.Stderr)
			}
		}
		mountMsg := "No such container: nosuch"
		if s.Rootless() {
			mountMsg = "skiff unshare"
		}
		s.Run("container", "mount", "nosuch").MustFail(t, 125, mountMsg)
		if after := s.Run("images", "-a", "-q", "--no-trunc").MustSucceed(t).Out(); after != images {
			t.Fatalf("images after the refused commits:\n%s\nbefore:\n%s", after, images)
		}
		for _, p := range []string{"out.tar", "missing"} {
			if _, err := os.Stat(filepath.Join(s.Dir, p)); !os.IsNotExist(err) {
				t.Errorf("%s exists after a refused export (%v)", p, err)
			}
		}
		if entries, _ := filepath.Glob(filepath.Join(s.Root, "tmp", "*")); len(entries) != 0 {
			t.Errorf("left in the graph root's tmp: %q", entries)
		}
	})
}

// container mount prints a mountpoint holding the container's files;
// unmount releases it. Rootless it works inside skiff unshare and is
// refused outside, where the caller could not see it.
func TestContainerMount(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := s.LoadBusybox()
		s.Run("run", "--name", "c1", bb, "touch", "/new").MustSucceed(t)
		if s.Rootless() {
			s.Run("container", "mount", "c1").MustFail(t, 125, "skiff unshare")
			s.Run("unshare", "sh", "-c", `p=$(skiff container mount c1) && test -e "$p/new" && test -e "$p/bin/busybox" && echo seen && skiff container mount && skiff container unmount c1 && test ! -e "$p/new" && echo released`).
				Assert(t, Expect{Stdout: "seen\n"}).Assert(t, Expect{Stdout: "\nc1\nreleased"})
			return
		}
		p := s.Run("container", "mount", "c1").MustSucceed(t).Out()
		for _, f := range []string{"new", "bin/busybox"} {
			if _, err := os.Stat(filepath.Join(p, f)); err != nil {
				t.Fatalf("mountpoint %q: %v", p, err)
			}
		}
		id := s.Run("inspect", "-f", "{{.Id}}", "c1").MustSucceed(t).Out()
		s.Run("container", "mount").Assert(t, Expect{Stdout: id[:12] + " " + p})
		s.Run("container", "umount", "c1").Assert(t, Expect{Stdout: "c1"})
		if _, err := os.Stat(filepath.Join(p, "new")); !os.IsNotExist(err) {
			t.Fatalf("%s still mounted after unmount (%v)", p, err)
		}
		if out := s.Run("container", "mount").MustSucceed(t).Out(); out != "" {
			t.Fatalf("container mount lists %q after unmount", out)
		}
	})
}

// With the vfs driver (which applies a layer under the store's lock) the
// commit layer goes through a temporary file; flags after the arguments
// work as docker's.
func TestCommitVFS(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		vfs := func(args ...string) *Result {
			t.Helper()
			return s.Run(append([]string{"--storage-driver", "vfs"}, args...)...)
		}
		vfs("load", "-i", BusyboxArchive(t, fixture.DockerArchive)).MustSucceed(t)
		vfs("run", "--name", "c1", BusyboxTag, "sh", "-c", "touch /new && rm /bin/vi").MustSucceed(t)
		if got, want := vfs("diff", "c1").MustSucceed(t).Lines(), []string{"C /bin", "D /bin/vi", "A /new"}; !slices.Equal(got, want) {
			t.Fatalf("diff = %q, want exactly %q", got, want)
		}
		vfs("commit", "c1", "vfs:1", "-m", "late flag").MustSucceed(t)
		vfs("image", "inspect", "-f", "{{.Comment}} {{len .RootFS.Layers}}", "vfs:1").Assert(t, Expect{Stdout: "late flag 2"})
		vfs("run", "--rm", "vfs:1", "sh", "-c", "ls /new; test -e /bin/vi || echo vi-gone").Assert(t, Expect{Stdout: "/new\nvi-gone"})
		if entries, _ := filepath.Glob(filepath.Join(s.Root, "tmp", "*")); len(entries) != 0 {
			t.Errorf("left in the graph root's tmp: %q", entries)
		}
	})
}
