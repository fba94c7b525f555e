package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// maxUserFile bounds how much of a container's /etc/passwd or /etc/group we
// read: the files belong to the image, which may be hostile.
const maxUserFile = 16 << 20

// ResolveUser resolves a --user spec ("", "name", "uid", "name:group",
// "uid:gid"...) and --group-add entries against rootfs/etc/passwd and
// rootfs/etc/group with Docker's (and runc's) rules: "" is uid 0 with
// root's groups; a numeric uid needs no passwd entry (gid 0 then); a name
// must exist ("unable to find user NAME: no matching entries in passwd
// file"); a user named without a group also gets its supplementary groups.
// additionalGids are those, then the --group-add ids, without duplicates.
// home is the passwd home directory, "/" when there is none.
//
// The files are opened inside rootfs with every symlink resolved as if
// rootfs were "/" (an /etc/passwd linking to /etc/shadow or
// ../../../etc/passwd stays in the container); one that cannot be opened or
// is not a regular file counts as absent, as in runc. Errors are errdefs
// InvalidArgument.
func ResolveUser(rootfs, userSpec string, groupAdd []string) (uid, gid uint32, additionalGids []uint32, home string, err error) {
	passwd := readContainerFile(rootfs, "/etc/passwd")
	group := readContainerFile(rootfs, "/etc/group")

	eu, err := user.GetExecUser(userSpec, &user.ExecUser{Home: "/"}, passwd.reader(), group.reader())
	if err != nil {
		return 0, 0, nil, "", invalidf("%v", err)
	}
	extra, err := user.GetAdditionalGroups(groupAdd, group.reader())
	if err != nil {
		return 0, 0, nil, "", invalidf("supplementary group: %v", err)
	}
	slices.Sort(extra) // GetAdditionalGroups returns them in map order
	for _, g := range append(eu.Sgids, extra...) {
		if !slices.Contains(additionalGids, uint32(g)) {
			additionalGids = append(additionalGids, uint32(g))
		}
	}
	home = eu.Home
	if home == "" {
		home = "/"
	}
	return uint32(eu.Uid), uint32(eu.Gid), additionalGids, home, nil
}

// containerFile is the content of a file of the container, nil when absent.
type containerFile []byte

// reader returns a fresh reader, or nil for an absent file (moby/sys/user
// tells "no file" from "empty file" by a nil reader).
func (f containerFile) reader() io.Reader {
	if f == nil {
		return nil
	}
	return bytes.NewReader(f)
}

func readContainerFile(rootfs, path string) containerFile {
	h, err := openInRoot(rootfs, path)
	if err != nil {
		return nil
	}
	defer h.Close()
	// Check the type on the O_PATH handle before opening for reading: a FIFO
	// or a device would block or never end.
	var st unix.Stat_t
	if err := unix.Fstat(int(h.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	f, err := reopen(h)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxUserFile))
	if err != nil {
		return nil
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

// openInRoot opens path inside rootfs as an O_PATH handle: openat2 with
// RESOLVE_IN_ROOT, in which the kernel resolves every symlink and ".." as
// if rootfs were "/", and no magic link of /proc. Where the kernel has no
// openat2 (before 5.6), pathrs-lite's userspace resolution does it. The
// kernel's one call saves pathrs-lite's setup of its own procfs handle,
// 0.2 ms of every create.
func openInRoot(rootfs, path string) (*os.File, error) {
	root, err := os.Open(rootfs)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fd, err := unix.Openat2(int(root.Fd()), path, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOSYS) {
		return pathrs.OpenInRoot(rootfs, path)
	}
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(rootfs, path)), nil
}

// reopen opens the O_PATH handle h for reading through /proc/self/fd,
// and checks that it got the same file: run inside a container's view of
// its files (InContainerFS), /proc is the container's, which may lie.
func reopen(h *os.File) (*os.File, error) {
	var want, got unix.Stat_t
	if err := unix.Fstat(int(h.Fd()), &want); err != nil {
		return nil, err
	}
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(h.Fd())), os.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Fstat(int(f.Fd()), &got); err != nil || got.Dev != want.Dev || got.Ino != want.Ino {
		f.Close()
		return nil, fmt.Errorf("reopening %s: /proc/self/fd gave another file", h.Name())
	}
	return f, nil
}
