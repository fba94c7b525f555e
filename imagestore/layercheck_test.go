//go:build !skiff_local

package imagestore

import (
	"archive/tar"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestLayerChecker(t *testing.T) {
	reg := func(name string) tar.Header { return tar.Header{Name: name, Typeflag: tar.TypeReg} }
	dir := func(name string) tar.Header { return tar.Header{Name: name, Typeflag: tar.TypeDir} }
	link := func(name, target string) tar.Header {
		return tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: target}
	}
	long := strings.Repeat("a", 256)
	for _, tc := range []struct {
		name       string
		entries    []tar.Header
		lowerLinks bool
		err        string // "" when every entry passes
	}{
		{name: "plain", entries: []tar.Header{dir("etc/"), reg("etc/passwd"), reg("./bin/sh"), {Name: "bin/ls", Typeflag: tar.TypeSymlink, Linkname: "/bin/busybox"}}},
		{name: "hard link to an earlier file", entries: []tar.Header{reg("bin/busybox"), link("bin/sh", "/bin/busybox"), link("./bin/ls", "bin/busybox")}},
		{name: "hard link to a file not in the layer", entries: []tar.Header{reg("ok"), link("pw", "/etc/passwd")},
			err: `entry "pw" is a hard link to "/etc/passwd", which is not a file earlier in the same layer`},
		{name: "hard link to a later file", entries: []tar.Header{link("a", "b"), reg("b")},
			err: `entry "a" is a hard link to "b", which is not a file earlier in the same layer`},
		{name: "hard link to a lower layer's file on vfs", entries: []tar.Header{link("pw", "/etc/passwd")}, lowerLinks: true},
		{name: "hard link out of the layer", entries: []tar.Header{link("hl", "../../../tmp/secret")},
			err: `entry "hl" is a hard link to "../../../tmp/secret", which is not a file earlier in the same layer`},
		{name: "hard link to a directory", entries: []tar.Header{dir("d"), link("hl", "d")}, err: `entry "hl" is a hard link to the directory "d"`},
		{name: "hard link to the root", entries: []tar.Header{link("hl", "/")}, lowerLinks: true, err: `entry "hl" is a hard link to the directory "/"`},
		{name: "hard link to a whited-out file", entries: []tar.Header{reg("d/f"), reg("d/.wh.f"), link("hl", "d/f")},
			err: `entry "hl" is a hard link to "d/f", which is not a file earlier in the same layer`},
		{name: "aufs hard link directory", entries: []tar.Header{reg(".wh..wh.plnk/1234.5"), link("f", ".wh..wh.plnk/1234.5")}},
		{name: "name of 255 bytes", entries: []tar.Header{reg("d/" + long[:255])}},
		{name: "name of 256 bytes", entries: []tar.Header{reg("d/" + long)},
			err: `entry "d/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…aaaaaaaaaaaa" has a file name of 256 bytes (Linux allows 255)`},
		{name: "path of 4103 bytes", entries: []tar.Header{reg(strings.Repeat("abcdefg/", 513))},
			err: `has a path of 4103 bytes (Linux allows 4095)`},
		{name: "symlink target too long", entries: []tar.Header{{Name: "s", Typeflag: tar.TypeSymlink, Linkname: strings.Repeat("x/", 2048)}},
			err: `entry "s" is a symbolic link to a path of 4096 bytes (Linux allows 4095)`},
		{name: "whiteouts", entries: []tar.Header{reg("d/.wh.f"), reg("d/.wh..wh..opq"), reg(".wh..wh.meta"), reg("d/.wh..wh.x")}},
		{name: "whiteout of nothing", entries: []tar.Header{reg(".wh.")}, err: `entry ".wh." is a whiteout that names no file (a whiteout is .wh.<name>)`},
		{name: "whiteout of dot", entries: []tar.Header{dir("d"), reg("d/.wh..")}, err: `entry "d/.wh.." is a whiteout that names no file`},
		{name: "whiteout of the parent", entries: []tar.Header{reg("d/.wh...")}, err: `entry "d/.wh..." is a whiteout that names no file`},
		{name: "root as a file", entries: []tar.Header{reg("./")}, err: `entry "./" is the root directory, and it is not a directory`},
		{name: "root as a directory", entries: []tar.Header{dir("./"), dir("/")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newLayerChecker(tc.lowerLinks)
			var err error
			for i := range tc.entries {
				if err = c.check(&tc.entries[i]); err != nil {
					break
				}
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errdefs.IsInvalidArgument(err)):
				t.Fatalf("error %v, want InvalidArgument containing %q", err, tc.err)
			}
		})
	}
}
