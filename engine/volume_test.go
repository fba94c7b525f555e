package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

func TestCheckVolumeOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		opts     map[string]string
		rootless bool
		kind     func(error) bool
		want     string
	}{
		{name: "none", opts: nil},
		{name: "tmpfs", opts: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, rootless: true},
		{name: "bind", opts: map[string]string{"type": "none", "device": dir, "o": "bind"}, rootless: true},
		{name: "device rootful", opts: map[string]string{"type": "ext4", "device": "/dev/sdz1"}},
		{name: "unknown key", opts: map[string]string{"type": "tmpfs", "device": "tmpfs", "size": "1m"},
			kind: errdefs.IsInvalidArgument, want: `invalid option key: "size"`},
		{name: "no device", opts: map[string]string{"type": "tmpfs"}, kind: errdefs.IsInvalidArgument, want: `missing required option: "device"`},
		{name: "no type", opts: map[string]string{"device": "tmpfs"}, kind: errdefs.IsInvalidArgument, want: `missing required option: "type"`},
		{name: "bind relative", opts: map[string]string{"type": "none", "device": "data", "o": "bind"},
			kind: errdefs.IsInvalidArgument, want: "a bind volume needs an absolute host path"},
		{name: "bind missing", opts: map[string]string{"type": "none", "device": filepath.Join(dir, "nope"), "o": "rbind"},
			kind: errdefs.IsInvalidArgument, want: "the host path does not exist"},
		{name: "device rootless", opts: map[string]string{"type": "ext4", "device": "/dev/sdz1"}, rootless: true,
			kind: errdefs.IsFailedPrecondition, want: "cannot be mounted by rootless skiff"},
		{name: "device relative", opts: map[string]string{"type": "ext4", "device": "sdz1"},
			kind: errdefs.IsInvalidArgument, want: "use the absolute path of a block device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Engine{paths: Paths{Rootless: tt.rootless}}
			err := e.checkVolumeOptions(tt.opts)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !tt.kind(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q of the right kind", err, tt.want)
			}
		})
	}
}

func TestCheckVolumeName(t *testing.T) {
	for _, ok := range []string{"data", "my.vol-1_x", "0a", strings.Repeat("f", 64)} {
		if err := checkVolumeName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "a/b", "./data", "../x", "-x", ".x", "a b", "a:b"} {
		if err := checkVolumeName(bad); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q: %v, want an invalid argument", bad, err)
		}
	}
}

func TestMountFlags(t *testing.T) {
	for _, tt := range []struct {
		o     string
		flags uintptr
		data  string
	}{
		{"", 0, ""},
		{"size=64m,mode=1777", 0, "size=64m,mode=1777"},
		{"ro,nosuid,size=1m", unix.MS_RDONLY | unix.MS_NOSUID, "size=1m"},
		{"bind", unix.MS_BIND, ""},
		{"rbind,rw,noexec", unix.MS_BIND | unix.MS_REC | unix.MS_NOEXEC, ""},
	} {
		flags, data := mountFlags(tt.o)
		if flags != tt.flags || data != tt.data {
			t.Errorf("mountFlags(%q) = %#x %q, want %#x %q", tt.o, flags, data, tt.flags, tt.data)
		}
	}
}

// copyUp copies the image's tree with owners, modes, times, symlinks and
// hard links, resolves the mount point inside the root filesystem (a
// symlinked mount point stays in it), and leaves a volume with data alone.
func TestCopyUp(t *testing.T) {
	rootfs := t.TempDir()
	src := filepath.Join(rootfs, "data")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(src, "sub", "f"), []byte("hello"), 0o640))
	must(os.Link(filepath.Join(src, "sub", "f"), filepath.Join(src, "hard")))
	must(os.Symlink("/etc/passwd", filepath.Join(src, "link")))
	must(os.Chmod(src, 0o750))
	old := time.Unix(1500000000, 0)
	must(os.Chtimes(filepath.Join(src, "sub", "f"), old, old))
	must(os.Chtimes(filepath.Join(src, "sub"), old, old))
	// The image's /alias points at the host's /etc: resolved in rootfs.
	must(os.Symlink("/etc", filepath.Join(rootfs, "alias")))

	data := t.TempDir()
	must(copyUp(rootfs, "/data", data))
	b, err := os.ReadFile(filepath.Join(data, "sub", "f"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("copied file: %q %v", b, err)
	}
	for path, mode := range map[string]os.FileMode{data: 0o750 | os.ModeDir, filepath.Join(data, "sub", "f"): 0o640} {
		if fi, err := os.Lstat(path); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v %v, want %v", path, fi.Mode(), err, mode)
		}
	}
	for _, p := range []string{filepath.Join(data, "sub", "f"), filepath.Join(data, "sub")} {
		if fi, err := os.Lstat(p); err != nil || !fi.ModTime().Equal(old) {
			t.Errorf("%s: mtime %v %v, want %v", p, fi.ModTime(), err, old)
		}
	}
	if l, err := os.Readlink(filepath.Join(data, "link")); err != nil || l != "/etc/passwd" {
		t.Errorf("symlink: %q %v", l, err)
	}
	var a, h syscall.Stat_t
	syscall.Stat(filepath.Join(data, "sub", "f"), &a)
	syscall.Stat(filepath.Join(data, "hard"), &h)
	if a.Ino != h.Ino {
		t.Errorf("the hard link was copied as a second file")
	}

	// Not empty any more: nothing is copied again.
	must(os.WriteFile(filepath.Join(data, "sub", "f"), []byte("mine"), 0o640))
	must(copyUp(rootfs, "/data", data))
	if b, _ := os.ReadFile(filepath.Join(data, "sub", "f")); string(b) != "mine" {
		t.Errorf("a volume with data was filled again: %q", b)
	}

	// The symlinked mount point is the root filesystem's /etc, never the host's.
	must(os.Mkdir(filepath.Join(rootfs, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(rootfs, "etc", "inside"), nil, 0o644))
	other := t.TempDir()
	must(copyUp(rootfs, "/alias", other))
	var names []string
	ls, _ := os.ReadDir(other)
	for _, e := range ls {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"inside"}) {
		t.Errorf("a symlinked mount point: copied %q, want the root filesystem's /etc (inside)", names)
	}
}

func TestVolumeFilters(t *testing.T) {
	vols := []*Volume{
		{Name: "alpha", Driver: "local", Config: VolumeConfig{Labels: map[string]string{"tier": "db", "env": "prod"}}},
		{Name: "beta", Driver: "local", Config: VolumeConfig{Labels: map[string]string{"tier": "web"}}},
		{Name: "gamma", Driver: "local"},
	}
	users := map[string][]*Container{"beta": {{ID: "c1"}}}
	for _, tt := range []struct {
		filters []string
		want    []string
		err     string
	}{
		{[]string{"name=alpha", "name=gamma"}, []string{"alpha", "gamma"}, ""},
		{[]string{"name=^b"}, []string{"beta"}, ""},
		{[]string{"label=tier", "label!=env"}, []string{"beta"}, ""},
		{[]string{"label=tier=db", "label=env=prod"}, []string{"alpha"}, ""},
		{[]string{"dangling=true"}, []string{"alpha", "gamma"}, ""},
		{[]string{"dangling=0"}, []string{"beta"}, ""},
		{[]string{"driver=local", "name=gamma"}, []string{"gamma"}, ""},
		{[]string{"until=1h"}, nil, `unknown filter "until" for volumes`},
	} {
		f, err := ParseFilters(tt.filters)
		if err != nil {
			t.Fatal(err)
		}
		match, err := volumeFilterSpec("volumes", users).compile(f)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.filters, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.filters, err)
		}
		var got []string
		for _, v := range vols {
			if match(v) {
				got = append(got, v.Name)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.filters, got, tt.want)
		}
	}
}

func TestMountedAt(t *testing.T) {
	own := []runtime.Mount{{Type: "bind", Source: "/a", Destination: "/taken"}}
	if !mountedAt(own, "/taken/") || mountedAt(own, "/other") {
		t.Fatal("mountedAt compares cleaned destinations")
	}
}

// :U's chown takes the whole tree and never follows a symlink out of it.
func TestChownTree(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a", "b", "f"), nil, 0o644)
	os.Symlink(outside, filepath.Join(dir, "a", "out"))
	if err := chownTree(dir, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "a"), filepath.Join(dir, "a", "b", "f"), filepath.Join(dir, "a", "out")} {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil || st.Uid != 1234 || st.Gid != 5678 {
			t.Errorf("%s: owner %d:%d %v, want 1234:5678", p, st.Uid, st.Gid, err)
		}
	}
	var st syscall.Stat_t
	if syscall.Stat(outside, &st); st.Uid == 1234 {
		t.Errorf("chownTree followed a symlink out of the tree")
	}
}
