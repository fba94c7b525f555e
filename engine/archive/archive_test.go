package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAbs(t *testing.T) {
	for in, want := range map[string]string{
		"":          "/",
		".":         "/.",
		"/":         "/",
		"etc":       "/etc",
		"/etc/":     "/etc/",
		"/etc/.":    "/etc/.",
		"etc/./":    "/etc/",
		"/a/../b/.": "/b/.",
		"../../x":   "/x",
	} {
		if got := Abs(in); got != want {
			t.Errorf("Abs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolveKeepsTheLastLink(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	os.Symlink("real", filepath.Join(dir, "link"))
	for in, want := range map[string]string{
		dir + "/link":   dir + "/link",
		dir + "/link/":  dir + "/real/",
		dir + "/link/.": dir + "/real/.",
		dir + "/link/x": dir + "/real/x",
	} {
		if got, err := Resolve(in); err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// A tree written by Tar and read by Extract keeps contents, modes, mtimes,
// hard links and symlinks; names start with the rebase name.
func TestTarExtractRoundTrip(t *testing.T) {
	src := t.TempDir()
	mtime := time.Date(2021, 5, 6, 7, 8, 9, 987654321, time.UTC)
	os.MkdirAll(filepath.Join(src, "d/e"), 0o750)
	os.WriteFile(filepath.Join(src, "d/e/f"), []byte("f content"), 0o640)
	os.Link(filepath.Join(src, "d/e/f"), filepath.Join(src, "d/hard"))
	os.Symlink("/nowhere", filepath.Join(src, "d/sym"))
	for _, p := range []string{"d/e/f", "d/e", "d"} {
		os.Chtimes(filepath.Join(src, p), mtime, mtime)
	}
	var buf bytes.Buffer
	if err := Tar(&buf, filepath.Join(src, "d"), "renamed"); err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		names = append(names, h.Name)
	}
	if got := strings.Join(names, " "); got != "renamed/ renamed/e/ renamed/e/f renamed/hard renamed/sym" {
		t.Errorf("entries: %s", got)
	}
	dst := t.TempDir()
	if err := Extract(bytes.NewReader(buf.Bytes()), dst, ExtractOptions{UID: os.Getuid(), GID: os.Getgid()}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Stat(filepath.Join(dst, "renamed/e/f"))
	if err != nil || f.Mode() != 0o640 || !f.ModTime().Equal(mtime) {
		t.Fatalf("file: %v %v %v", err, f.Mode(), f.ModTime())
	}
	if d, _ := os.Stat(filepath.Join(dst, "renamed")); d.Mode() != os.ModeDir|0o750 || !d.ModTime().Equal(mtime) {
		t.Errorf("directory: %v %v", d.Mode(), d.ModTime())
	}
	if h, _ := os.Stat(filepath.Join(dst, "renamed/hard")); !os.SameFile(f, h) {
		t.Error("the hard link is a copy")
	}
	if l, _ := os.Readlink(filepath.Join(dst, "renamed/sym")); l != "/nowhere" {
		t.Errorf("symlink: %q", l)
	}
}

func TestExtractRefuses(t *testing.T) {
	tarOf := func(hdrs ...*tar.Header) *bytes.Reader {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, h := range hdrs {
			tw.WriteHeader(h)
		}
		tw.Close()
		return bytes.NewReader(b.Bytes())
	}
	dst := t.TempDir()
	os.Mkdir(filepath.Join(dst, "dir"), 0o755)
	os.WriteFile(filepath.Join(dst, "file"), nil, 0o644)
	me := ExtractOptions{NoOverwriteDirNonDir: true, UID: os.Getuid(), GID: os.Getgid()}
	if err := Extract(tarOf(&tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644}), dst, me); !errors.Is(err, ErrBreakout) {
		t.Errorf("../escape: %v", err)
	}
	if err := Extract(tarOf(&tar.Header{Name: "dir", Typeflag: tar.TypeReg, Mode: 0o644}), dst, me); err == nil || !strings.Contains(err.Error(), "cannot overwrite directory") {
		t.Errorf("file over a directory: %v", err)
	}
	if err := Extract(tarOf(&tar.Header{Name: "file/", Typeflag: tar.TypeDir, Mode: 0o755}), dst, me); err == nil || !strings.Contains(err.Error(), "cannot overwrite non-directory") {
		t.Errorf("directory over a file: %v", err)
	}
	me.NoOverwriteDirNonDir = false
	if err := Extract(tarOf(&tar.Header{Name: "dir", Typeflag: tar.TypeReg, Mode: 0o644}), dst, me); err != nil {
		t.Errorf("overwrite allowed: %v", err)
	}
}
