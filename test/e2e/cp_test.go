package e2e

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpMtime is the mtime of every file of the test tree: nanoseconds, so a
// copy that rounds them shows.
var cpMtime = time.Date(2020, 1, 2, 3, 4, 5, 123456789, time.UTC)

// cpEntry is what a user checks of one file after a copy.
type cpEntry struct {
	Mode     os.FileMode
	Content  string // regular files; the target of a symlink
	Mtime    time.Time
	UID, GID int
}

// writeCpTree makes the tree the cp cases copy: nested directories with
// their own modes, an executable, a setgid directory, a symlink, and one
// file owned by 1000:1000 (rootless: 1000:1000 of skiff's user namespace,
// an id of the user's subuid range).
func writeCpTree(t *testing.T, s *Skiff, dir string) {
	t.Helper()
	files := []struct {
		path, content string
		mode          os.FileMode
	}{
		{"top.txt", "top level\n", 0o644},
		{"run.sh", "#!/bin/sh\necho run\n", 0o755},
		{"sub/private", "only for the owner\n", 0o600},
		{"sub/deeper/owned", "owned by 1000\n", 0o640},
		{"shared/note", "in a setgid directory\n", 0o664},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.content), f.mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, f.mode) // past the umask
	}
	if err := os.Symlink("top.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "sub"), 0o750)
	os.Chmod(filepath.Join(dir, "shared"), os.ModeSetgid|0o775)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			s.Chown(p)
		}
		return err
	})
	owned := filepath.Join(dir, "sub/deeper/owned")
	if s.Rootless() {
		s.Run("unshare", "chown", "1000:1000", owned).MustSucceed(t)
	} else if err := os.Lchown(owned, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	// Deepest first: setting a file's time changes its directory's.
	var paths []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		paths = append(paths, p)
		return err
	})
	for i := len(paths) - 1; i >= 0; i-- {
		ts := unix.NsecToTimespec(cpMtime.UnixNano())
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, paths[i], []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
}

// readCpTree lists a host tree by relative path.
func readCpTree(t *testing.T, dir string) map[string]cpEntry {
	t.Helper()
	out := map[string]cpEntry{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fi.Sys().(*syscall.Stat_t)
		e := cpEntry{Mode: fi.Mode(), Mtime: fi.ModTime().UTC(), UID: int(st.Uid), GID: int(st.Gid)}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			e.Content, _ = os.Readlink(p)
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			e.Content = string(b)
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readCpTar lists a tar stream by name (without the trailing "/" of
// directories), as the container holds the files: owners included.
func readCpTar(t *testing.T, data string) map[string]cpEntry {
	t.Helper()
	out := map[string]cpEntry{}
	tr := tar.NewReader(strings.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("cp to stdout wrote a bad tar: %v", err)
		}
		fi := hdr.FileInfo()
		e := cpEntry{Mode: fi.Mode(), Mtime: hdr.ModTime.UTC(), UID: hdr.Uid, GID: hdr.Gid, Content: hdr.Linkname}
		if hdr.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			e.Content = string(b)
		}
		out[strings.TrimSuffix(hdr.Name, "/")] = e
	}
}

// sameTree compares trees by relative path; owner compares the uid/gid of
// every entry to want's (nil: to the entry of want).
func sameTree(t *testing.T, what string, got, want map[string]cpEntry, owner *[2]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d:\n got %v\nwant %v", what, len(got), len(want), got, want)
	}
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: %s is missing", what, p)
			continue
		}
		if owner != nil {
			w.UID, w.GID = owner[0], owner[1]
		}
		if g.Mode != w.Mode || g.Content != w.Content || !g.Mtime.Equal(w.Mtime) || g.UID != w.UID || g.GID != w.GID {
			t.Errorf("%s: %s is %+v, want %+v", what, p, g, w)
		}
	}
}

// rebase renames the tree's entries as they appear under name.
func rebase(tree map[string]cpEntry, name string) map[string]cpEntry {
	out := map[string]cpEntry{}
	for p, e := range tree {
		if p == "." {
			out[name] = e
		} else {
			out[name+"/"+p] = e
		}
	}
	return out
}

// A tree copied in and out round-trips contents, modes, mtimes and owners
// (rootless too, with ids of the user's range), to a running and to a
// stopped container, as docker's engine keeps the archive's ids; with -a
// what goes in belongs to the container's user (here 123:456), and what
// comes out always to the calling user.
func TestCpTreeRoundTrip(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		src := filepath.Join(s.Dir, "tree")
		writeCpTree(t, s, src)
		want := readCpTree(t, src)
		hostUser := [2]int{0, 0}
		if s.Rootless() {
			hostUser = [2]int{s.UID(), s.GID()}
		}
		inNS := map[string]cpEntry{} // the tree as skiff's namespace (and so the container) sees its owners
		for p, e := range want {
			e.UID, e.GID = 0, 0
			if p == "sub/deeper/owned" {
				e.UID, e.GID = 1000, 1000
			}
			inNS[p] = e
		}
		for _, state := range []string{"running", "stopped"} {
			name := "rt-" + state
			if state == "running" {
				s.Run("run", "-d", "--user", "123:456", "--name", name, bb, "sleep", "1000").MustSucceed(t)
			} else {
				s.Run("create", "--user", "123:456", "--name", name, bb, "sleep", "1000").MustSucceed(t)
			}
			s.Run("cp", src, name+":/data").MustSucceed(t)
			s.Run("cp", "-a", src, name+":/plain").MustSucceed(t)

			// What the container holds, read through cp's own tar stream.
			got := readCpTar(t, s.Run("cp", name+":/data", "-").MustSucceed(t).Stdout)
			sameTree(t, state+": cp in, then tar out", got, rebase(inNS, "data"), nil)
			got = readCpTar(t, s.Run("cp", name+":/plain", "-").MustSucceed(t).Stdout)
			sameTree(t, state+": cp -a in (the container's user)", got, rebase(inNS, "plain"), &[2]int{123, 456})
			if state == "running" {
				// And as its processes see it.
				if out := s.Run("exec", "--user", "0", name, "stat", "-c", "%u:%g %A", "/data/sub/deeper/owned", "/plain/sub/deeper/owned", "/data/shared").MustSucceed(t).Out(); out != "1000:1000 -rw-r-----\n123:456 -rw-r-----\n0:0 drwxrwsr-x" {
					t.Errorf("%s: inside the container: %q", state, out)
				}
			}

			out := filepath.Join(s.Dir, "out-"+state)
			s.Run("cp", name+":/data", out).MustSucceed(t)
			sameTree(t, state+": cp out", readCpTree(t, out), want, &hostUser)
			if state == "stopped" {
				// A reader of "-" that goes away ends the copy as SIGPIPE
				// would, silently, and the root filesystem is unmounted.
				// 4 MiB: more than a pipe holds, so cp is still writing.
				s.Run("cp", s.WriteFile("big", bytes.Repeat([]byte("x"), 4<<20)), name+":/big").MustSucceed(t)
				cmd := s.Cmd("cp", name+":/big", "-")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				pipe, _ := cmd.StdoutPipe()
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				io.ReadFull(pipe, make([]byte, 512))
				pipe.Close()
				err := cmd.Wait()
				if code := cmd.ProcessState.ExitCode(); code != 141 || stderr.Len() > 0 {
					t.Errorf("cp to a closed pipe: exit %d (%v), stderr %q; want 141 and nothing", code, err, stderr.String())
				}
				if m := containerMounts(t, s); len(m) > 0 {
					t.Errorf("cp of a stopped container left mounts: %q", m)
				}
			}
			s.Run("rm", "-f", name).MustSucceed(t)
		}
		requireClean(t, s, "rm -f")
	})
}

// Symlinks in the container resolve inside it: a link to /etc/shadow
// copies the container's own file, and a copy in through a link to "/"
// or to another directory lands inside the container, never on the host.
func TestCpSymlinksStayInside(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		probe := "skiff-cp-probe-" + filepath.Base(s.Dir)
		file := s.WriteFile("payload", []byte("payload\n"))
		for _, state := range []string{"running", "stopped"} {
			name := "ln-" + state
			s.Run("run", "-d", "--name", name, bb, "sh", "-c",
				"echo container-shadow-marker > /etc/shadow && ln -s /etc/shadow /link && ln -s / /evil && "+
					"ln -s ../../../../../../etc /up && mkdir /tmp/x && ln -s /tmp/x /dir && touch /ready && sleep 1000").MustSucceed(t)
			eventually(t, 10*time.Second, "the container's links", func() bool { return s.Run("exec", name, "test", "-e", "/ready").ExitCode == 0 })
			if state == "stopped" {
				s.Run("stop", "-t", "0", name).MustSucceed(t)
			}
			out := filepath.Join(s.Dir, "out-"+state)
			os.Mkdir(out, 0o755)
			s.Chown(out)

			// Out: the link itself, then its target (-L), then through links.
			s.Run("cp", name+":/link", filepath.Join(out, "asis")).MustSucceed(t)
			if l, err := os.Readlink(filepath.Join(out, "asis")); err != nil || l != "/etc/shadow" {
				t.Errorf("%s: cp without -L copies the link itself: %q %v", state, l, err)
			}
			for _, args := range [][]string{
				{"-L", name + ":/link", filepath.Join(out, "followed")},
				{name + ":/evil/etc/shadow", filepath.Join(out, "via-root")},
				{name + ":/up/shadow", filepath.Join(out, "via-dotdot")},
			} {
				s.Run(append([]string{"cp"}, args...)...).MustSucceed(t)
				if b, err := os.ReadFile(args[len(args)-1]); err != nil || string(b) != "container-shadow-marker\n" {
					t.Errorf("%s: cp %v gave %q (%v), want the container's /etc/shadow", state, args, b, err)
				}
			}

			// In: through a link to "/", through ".." past the root, and
			// through a link to another of its directories.
			s.Run("cp", file, name+":/evil/etc/"+probe).MustSucceed(t)
			s.Run("cp", file, name+":/up/"+probe+"-up").MustSucceed(t)
			s.Run("cp", file, name+":/dir/").MustSucceed(t)
			for _, p := range []string{"/etc/" + probe, "/etc/" + probe + "-up", "/tmp/x/payload"} {
				if _, err := os.Lstat(p); err == nil {
					os.Remove(p)
					t.Errorf("%s: cp wrote %s on the host", state, p)
				}
				got := s.Run("cp", name+":"+p, "-").MustSucceed(t).Stdout
				if tr := readCpTar(t, got); tr[filepath.Base(p)].Content != "payload\n" {
					t.Errorf("%s: %s in the container: %v", state, p, tr)
				}
			}
			s.Run("rm", "-f", name).MustSucceed(t)
		}
		requireClean(t, s, "rm -f")
	})
}

// Docker's rules: "-" streams a tar both ways, a trailing "/." copies a
// directory's contents, a file goes into an existing directory, a missing
// destination takes the source's place, a directory never replaces a file.
func TestCpRules(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		// The files are made by an exec, not by the container's command: run -d
		// returns once the command has started, not once it has got this far.
		s.Run("run", "-d", "--name", "rules", bb, "sleep", "1000").MustSucceed(t)
		s.Run("exec", "rules", "sh", "-c", "mkdir -p /srv/empty && echo old > /srv/file").MustSucceed(t)
		src := filepath.Join(s.Dir, "tree")
		writeCpTree(t, s, src)

		// "-" in: a tar from stdin lands in the directory named.
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "streamed/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: cpMtime})
		tw.WriteHeader(&tar.Header{Name: "streamed/in.txt", Typeflag: tar.TypeReg, Mode: 0o600, Size: 3, ModTime: cpMtime})
		tw.Write([]byte("in\n"))
		tw.Close()
		s.RunStdin(bytes.NewReader(buf.Bytes()), "cp", "-", "rules:/srv").MustSucceed(t)
		if got := s.Run("exec", "rules", "stat", "-c", "%a %u:%g %Y", "/srv/streamed/in.txt").MustSucceed(t).Out(); got != "600 0:0 1577934245" {
			t.Errorf("cp - in: %q", got)
		}
		// "-" into something that is not a directory is refused.
		cpFailsOneLine(t, s, bytes.NewReader(buf.Bytes()), "must be a directory", "-", "rules:/srv/file")

		// "-" out: the tar of the path, its base name first.
		tr := readCpTar(t, s.Run("cp", "rules:/srv/streamed", "-").MustSucceed(t).Stdout)
		if tr["streamed/in.txt"].Content != "in\n" || len(tr) != 2 {
			t.Errorf("cp out to -: %v", tr)
		}

		// Trailing "/.": the contents, into an existing directory or as a new one.
		s.Run("cp", src+"/.", "rules:/srv/empty").MustSucceed(t)
		s.Run("exec", "rules", "test", "-f", "/srv/empty/top.txt").MustSucceed(t)
		s.Run("exec", "rules", "test", "!", "-e", "/srv/empty/tree").MustSucceed(t)
		dotOut := filepath.Join(s.Dir, "dot-out")
		s.Run("cp", "rules:/srv/empty/.", dotOut).MustSucceed(t)
		want := readCpTree(t, src)
		hostUser := [2]int{0, 0}
		if s.Rootless() {
			hostUser = [2]int{s.UID(), s.GID()}
		}
		got := readCpTree(t, dotOut)
		delete(got, ".") // the container directory's own mode and time, not the tree's
		delete(want, ".")
		sameTree(t, "cp CTR:DIR/. to a new directory", got, want, &hostUser)
		existing := filepath.Join(s.Dir, "existing")
		os.Mkdir(existing, 0o755)
		s.Chown(existing)
		s.Run("cp", "rules:/srv/streamed", existing).MustSucceed(t)
		if b, _ := os.ReadFile(filepath.Join(existing, "streamed", "in.txt")); string(b) != "in\n" {
			t.Errorf("cp of a directory onto an existing one goes inside it: %q", b)
		}

		// A file onto an existing directory goes into it; onto a file replaces it.
		s.Run("cp", filepath.Join(src, "top.txt"), "rules:/srv/empty/sub").MustSucceed(t)
		s.Run("exec", "rules", "test", "-f", "/srv/empty/sub/top.txt").MustSucceed(t)
		s.Run("cp", filepath.Join(src, "top.txt"), "rules:/srv/file").MustSucceed(t)
		if got := s.Run("exec", "rules", "cat", "/srv/file").MustSucceed(t).Stdout; got != "top level\n" {
			t.Errorf("cp of a file onto a file: %q", got)
		}
		// A directory onto a file, a file to DIR/ that does not exist: refused.
		cpFailsOneLine(t, s, nil, "cannot copy a directory", src, "rules:/srv/file")
		cpFailsOneLine(t, s, nil, "destination directory does not exist", filepath.Join(src, "top.txt"), "rules:/srv/newdir/")
		s.Run("exec", "rules", "test", "!", "-e", "/srv/newdir").MustSucceed(t)

		// Summary on stderr only with a terminal, or with -q=false: the
		// content's size, and the tar's when it differs (docker's bytes for
		// a file of whole-second mtime: one header, one block, the trailer).
		small := s.WriteFile("small", []byte("top level\n"))
		os.Chtimes(small, time.Unix(1577934245, 0), time.Unix(1577934245, 0))
		if r := s.Run("cp", small, "rules:/tmp/"); r.Stderr != "" {
			t.Errorf("cp without a terminal printed %q", r.Stderr)
		}
		r := s.Run("cp", "-q=false", small, "rules:/tmp/").MustSucceed(t)
		if r.Stderr != "Successfully copied 10B (transferred 2.05kB) to rules:/tmp/\n" {
			t.Errorf("cp -q=false: %q", r.Stderr)
		}
		r = s.Run("cp", "-q=false", "rules:/tmp/small", filepath.Join(s.Dir, "small-out")).MustSucceed(t)
		if want := "Successfully copied 10B (transferred 2.05kB) to " + filepath.Join(s.Dir, "small-out") + "\n"; r.Stderr != want {
			t.Errorf("cp -q=false out: %q, want %q", r.Stderr, want)
		}
		s.Run("rm", "-f", "rules").MustSucceed(t)
		requireClean(t, s, "rm -f")
	})
}

// cpFailsOneLine runs a cp that must fail with exit 125 and one line.
func cpFailsOneLine(t *testing.T, s *Skiff, stdin io.Reader, substr string, args ...string) {
	t.Helper()
	r := s.RunStdin(stdin, append([]string{"cp"}, args...)...)
	r.MustFail(t, 125, substr)
	if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "Error: ") {
		t.Errorf("cp %v: want one error line, got %q", args, r.Stderr)
	}
}

// Bad input: one line, exit 125, nothing created on either side.
func TestCpBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "bad", bb, "sleep", "1000").MustSucceed(t)
		s.Run("create", "--name", "other", bb, "true").MustSucceed(t)
		file := s.WriteFile("file", []byte("x\n"))
		out := filepath.Join(s.Dir, "dest")
		cases := []struct {
			args    []string
			message string
			created string // the host path that must not appear ("" when none)
			inCtr   string // the container path that must not appear
		}{
			{[]string{"bad:/nope", out}, "Could not find the file /nope in container bad", out, ""},
			{[]string{"other:/nope", out}, "Could not find the file /nope in container other", out, ""},
			{[]string{filepath.Join(s.Dir, "missing"), "bad:/tmp/"}, "no such file or directory", "", "/tmp/missing"},
			{[]string{file, "bad:/no/such/dir"}, "Could not find the file /no/such in container bad", "", "/no"},
			{[]string{file, "/tmp/elsewhere"}, "must specify at least one container source", "/tmp/elsewhere", ""},
			{[]string{"bad:/etc/passwd", "other:/tmp"}, "copying between containers is not supported", "", ""},
			{[]string{"nosuch:/etc/passwd", out}, "No such container: nosuch", out, ""},
			{[]string{file, "nosuch:/tmp"}, "No such container: nosuch", "", ""},
			{[]string{"bad:/etc/passwd", filepath.Join(s.Dir, "no", "dir")}, "invalid output path", filepath.Join(s.Dir, "no"), ""},
			{[]string{"", out}, "source can not be empty", out, ""},
			{[]string{"bad:/etc/passwd"}, "requires exactly 2 argument", "", ""},
		}
		for _, c := range cases {
			cpFailsOneLine(t, s, nil, c.message, c.args...)
			if c.created != "" {
				if _, err := os.Lstat(c.created); err == nil {
					t.Errorf("cp %v created %s", c.args, c.created)
				}
			}
			if c.inCtr != "" {
				s.Run("exec", "bad", "test", "!", "-e", c.inCtr).MustSucceed(t)
			}
		}
		s.Run("rm", "-f", "bad", "other").MustSucceed(t)
		requireClean(t, s, "rm -f")
	})
}

// Binds are seen as the container sees them, running or stopped: a copy
// into a bind lands in its host directory, a read-only bind and a
// read-only root filesystem refuse writes (one line, exit 125), and a
// writable bind of a --read-only container takes them.
func TestCpMounts(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		file := s.WriteFile("payload", []byte("payload\n"))
		for _, state := range []string{"running", "stopped"} {
			vol := filepath.Join(s.Dir, "vol-"+state)
			ro := filepath.Join(s.Dir, "ro-"+state)
			for _, d := range []string{vol, ro} {
				os.Mkdir(d, 0o755)
				s.Chown(d)
			}
			s.WriteFile(filepath.Join(ro, "from-host"), []byte("host side\n"))
			name := "mnt-" + state
			args := []string{"--name", name, "--read-only", "-v", vol + ":/vol", "-v", ro + ":/srv/ro:ro", bb, "sleep", "1000"}
			if state == "running" {
				s.Run(append([]string{"run", "-d"}, args...)...).MustSucceed(t)
			} else {
				s.Run(append([]string{"create"}, args...)...).MustSucceed(t)
			}
			s.Run("cp", file, name+":/vol/in-vol").MustSucceed(t)
			if b, err := os.ReadFile(filepath.Join(vol, "in-vol")); err != nil || string(b) != "payload\n" {
				t.Errorf("%s: cp into a bind: %q %v", state, b, err)
			}
			out := filepath.Join(s.Dir, "from-ro-"+state)
			s.Run("cp", name+":/srv/ro/from-host", out).MustSucceed(t)
			if b, err := os.ReadFile(out); err != nil || string(b) != "host side\n" {
				t.Errorf("%s: cp out of a bind: %q %v", state, b, err)
			}
			cpFailsOneLine(t, s, nil, "mounted volume is marked read-only", file, name+":/srv/ro/")
			cpFailsOneLine(t, s, nil, "container rootfs is marked read-only", file, name+":/etc/")
			if _, err := os.Lstat(filepath.Join(ro, "payload")); err == nil {
				t.Errorf("%s: cp wrote into a read-only bind", state)
			}
			s.Run("rm", "-f", name).MustSucceed(t)
		}
		requireClean(t, s, "rm -f")
	})
}
