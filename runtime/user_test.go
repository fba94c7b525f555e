package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

func TestResolveUser(t *testing.T) {
	type want struct {
		uid, gid uint32
		gids     []uint32
		home     string
		err      string
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T, rootfs, outside string) // changes the busybox-like rootfs
		user     string
		groupAdd []string
		want     want
	}{
		{name: "default is root with its groups", want: want{0, 0, []uint32{10}, "/root", ""}},
		{name: "root by name", user: "root", want: want{0, 0, []uint32{10}, "/root", ""}},
		{name: "name", user: "nobody", want: want{65534, 65534, []uint32{50, 100}, "/home", ""}},
		{name: "uid of a known user", user: "65534", want: want{65534, 65534, []uint32{50, 100}, "/home", ""}},
		{name: "unknown numeric uid", user: "1000", want: want{1000, 0, nil, "/", ""}},
		{name: "uid:gid", user: "1000:1000", want: want{1000, 1000, nil, "/", ""}},
		{name: "name:group drops supplementary groups", user: "nobody:users", want: want{65534, 100, nil, "/home", ""}},
		{name: "name:gid", user: "nobody:5", want: want{65534, 5, nil, "/home", ""}},
		{name: "group-add", user: "nobody", groupAdd: []string{"tty", "4321", "audio", "users"},
			want: want{65534, 65534, []uint32{50, 100, 5, 29, 4321}, "/home", ""}},
		{name: "unknown name", user: "ghost",
			want: want{err: "unable to find user ghost: no matching entries in passwd file"}},
		{name: "unknown group", user: "nobody:ghosts",
			want: want{err: "unable to find group ghosts: no matching entries in group file"}},
		{name: "unknown group-add", groupAdd: []string{"ghosts"},
			want: want{err: "supplementary group: unable to find group ghosts: no matching entries in group file"}},
		{name: "uid out of range", user: "4294967296",
			want: want{err: "uids and gids must be in range 0-2147483647"}},
		{name: "no passwd, numeric", user: "1000:1000", setup: remove("etc/passwd", "etc/group"),
			want: want{1000, 1000, nil, "/", ""}},
		{name: "no passwd, default", setup: remove("etc/passwd", "etc/group"),
			want: want{0, 0, nil, "/", ""}},
		{name: "no passwd, name", user: "root", setup: remove("etc/passwd"),
			want: want{err: "unable to find user root: no matching entries in passwd file"}},
		{name: "no rootfs /etc at all", user: "0", setup: remove("etc"),
			want: want{0, 0, nil, "/", ""}},

		// A hostile image's /etc/passwd must never lead to a host file. The
		// host file here defines "hostonly" and a home for uid 0.
		{name: "absolute symlink to a host file", user: "hostonly", setup: symlinkPasswd(true),
			want: want{err: "unable to find user hostonly: no matching entries in passwd file"}},
		{name: "absolute symlink, default user", setup: symlinkPasswd(true),
			want: want{0, 0, nil, "/", ""}},
		{name: "relative symlink climbing out", user: "hostonly", setup: symlinkPasswd(false),
			want: want{err: "unable to find user hostonly: no matching entries in passwd file"}},
		{name: "symlink to the host's /etc/passwd", user: "root", setup: symlink("etc/passwd", "../../../../../../../../etc/passwd"),
			want: want{err: "unable to find user root: no matching entries in passwd file"}},
		{name: "symlink to /etc/shadow stays in the container", user: "shadowed", setup: func(t *testing.T, rootfs, _ string) {
			writeFile(t, filepath.Join(rootfs, "etc/shadow"), "shadowed:x:7:7::/s:/bin/sh\n")
			symlink("etc/passwd", "/etc/shadow")(t, rootfs, "")
		}, want: want{7, 7, nil, "/s", ""}},
		{name: "passwd is a fifo", user: "1", setup: func(t *testing.T, rootfs, _ string) {
			remove("etc/passwd")(t, rootfs, "")
			if err := unix.Mkfifo(filepath.Join(rootfs, "etc/passwd"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: want{1, 0, nil, "/", ""}},
		{name: "passwd is a directory", user: "nobody", setup: func(t *testing.T, rootfs, _ string) {
			remove("etc/passwd")(t, rootfs, "")
			if err := os.Mkdir(filepath.Join(rootfs, "etc/passwd"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: want{err: "unable to find user nobody: no matching entries in passwd file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			rootfs := fakeRootfs(t, tmp)
			outside := filepath.Join(tmp, "host")
			writeFile(t, filepath.Join(outside, "passwd"), "root:x:0:0:host root:/host-root:/bin/sh\nhostonly:x:4242:4242::/hostonly:/bin/sh\n")
			if tt.setup != nil {
				tt.setup(t, rootfs, outside)
			}
			uid, gid, gids, home, err := ResolveUser(rootfs, tt.user, tt.groupAdd)
			if tt.want.err != "" {
				if err == nil || err.Error() != tt.want.err {
					t.Fatalf("error %v, want %q", err, tt.want.err)
				}
				if !errdefs.IsInvalidArgument(err) {
					t.Errorf("error %q is not InvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if uid != tt.want.uid || gid != tt.want.gid || !slices.Equal(gids, tt.want.gids) || home != tt.want.home {
				t.Errorf("got uid %d gid %d gids %v home %q, want %d %d %v %q",
					uid, gid, gids, home, tt.want.uid, tt.want.gid, tt.want.gids, tt.want.home)
			}
		})
	}
}

func remove(paths ...string) func(t *testing.T, rootfs, _ string) {
	return func(t *testing.T, rootfs, _ string) {
		for _, p := range paths {
			if err := os.RemoveAll(filepath.Join(rootfs, p)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func symlink(path, target string) func(t *testing.T, rootfs, _ string) {
	return func(t *testing.T, rootfs, _ string) {
		remove(path)(t, rootfs, "")
		if err := os.Symlink(target, filepath.Join(rootfs, path)); err != nil {
			t.Fatal(err)
		}
	}
}

// symlinkPasswd points the container's /etc/passwd at the host file, by
// its absolute path or by a relative one that climbs out of the rootfs.
func symlinkPasswd(absolute bool) func(t *testing.T, rootfs, outside string) {
	return func(t *testing.T, rootfs, outside string) {
		target := filepath.Join(outside, "passwd")
		if !absolute {
			var err error
			if target, err = filepath.Rel(filepath.Join(rootfs, "etc"), target); err != nil {
				t.Fatal(err)
			}
		}
		symlink("etc/passwd", target)(t, rootfs, outside)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
