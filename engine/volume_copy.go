package engine

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// A volume can be shared with a container that runs while another starts,
// and that container may swap any directory of the volume for a symlink to
// the host's /etc at any moment. So everything written into a volume here
// (copy-up, :U) goes through directory file descriptors: each entry is made
// or opened relative to its parent's descriptor with O_NOFOLLOW, and owners,
// modes and times are set on the entry's own descriptor, never by a path
// the container could redirect.

// copyUp fills the empty volume directory data with the image's content at
// dst, as Docker does at a new volume's first mount: files, directories,
// symlinks (copied, never followed), hard links, devices and fifos, with
// their owners, modes and times; the volume's root takes dst's owner, mode
// and times. dst is resolved inside rootfs as if rootfs were "/" (nothing
// runs in it yet), so a symlink in the image cannot point the copy at the
// host. A volume that holds anything, or an image without a directory at
// dst, copies nothing.
func copyUp(rootfs, dst, data string) error {
	src, err := securejoin.SecureJoin(rootfs, dst)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	err = unix.Lstat(src, &st)
	if errors.Is(err, unix.ENOENT) || err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	if err != nil {
		return err
	}
	root, err := unix.Open(data, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	if empty, err := isEmptyDir(root); err != nil || !empty {
		return err
	}
	c := copier{links: map[uint64]int{}}
	defer c.close()
	if err := c.dir(src, root); err != nil {
		return err
	}
	return setMeta(root, &st)
}

// copier copies one tree; links holds, for each hard-linked file copied,
// a descriptor of its copy, for the next names of the same inode.
type copier struct {
	links map[uint64]int
}

func (c *copier) close() {
	for _, fd := range c.links {
		unix.Close(fd)
	}
}

// dir copies the entries of the directory src into the directory open at dst.
func (c *copier) dir(src string, dst int) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(src, e.Name())
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		if err := c.entry(path, dst, e.Name(), &st); err != nil {
			return err
		}
	}
	return nil
}

// entry makes name in the directory open at parent as a copy of path.
func (c *copier) entry(path string, parent int, name string, st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(parent, name, 0o700); err != nil {
			return err
		}
		fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := c.dir(path, fd); err != nil {
			return err
		}
		return setMeta(fd, st) // the times once its content is in
	case unix.S_IFREG:
		if first, ok := c.links[st.Ino]; ok {
			return unix.Linkat(unix.AT_FDCWD, fdPath(first), parent, name, unix.AT_SYMLINK_FOLLOW)
		}
		fd, err := unix.Openat(parent, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		if err := copyContent(path, fd); err != nil {
			unix.Close(fd)
			return err
		}
		if err := setMeta(fd, st); err != nil || st.Nlink < 2 {
			unix.Close(fd)
			return err
		}
		c.links[st.Ino] = fd
		return nil
	case unix.S_IFLNK:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(target, parent, name); err != nil {
			return err
		}
		if err := unix.Fchownat(parent, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		return unix.UtimesNanoAt(parent, name, []unix.Timespec{st.Atim, st.Mtim}, unix.AT_SYMLINK_NOFOLLOW)
	default: // devices, fifos, sockets
		err := unix.Mknodat(parent, name, st.Mode, int(st.Rdev))
		if errors.Is(err, unix.EPERM) {
			return nil // a device node, rootless: left out, as a rootless untar does
		}
		if err != nil {
			return err
		}
		fd, err := unix.Openat(parent, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return setMeta(fd, st)
	}
}

// copyContent writes the file at path (of the root filesystem) to fd.
func copyContent(path string, fd int) error {
	in, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = io.Copy(fdWriter(fd), in)
	return err
}

// fdWriter writes to a descriptor that stays the caller's (an os.File
// would close it when collected).
type fdWriter int

func (w fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(int(w), p[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// fdPath names a descriptor's file through /proc: for chmod and utimes of
// an O_PATH descriptor, and for a hard link to an open file.
func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// setMeta gives the file open at fd st's owner, mode and times, in that
// order (a chown clears set-id bits).
func setMeta(fd int, st *unix.Stat_t) error {
	if err := unix.Fchownat(fd, "", int(st.Uid), int(st.Gid), unix.AT_EMPTY_PATH); err != nil {
		return err
	}
	if err := unix.Fchmodat(unix.AT_FDCWD, fdPath(fd), st.Mode&0o7777, 0); err != nil {
		return err
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(fd), []unix.Timespec{st.Atim, st.Mtim}, 0)
}

// isEmptyDir reads one name of the directory open at fd.
func isEmptyDir(fd int) (bool, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return false, err
	}
	f := os.NewFile(uintptr(dup), "dir")
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// chownTree gives dir and everything under it (symlinks themselves) to
// uid:gid: podman's :U. dir is the volume's data or the user's own bind
// source; below it nothing is followed.
func chownTree(dir string, uid, gid int) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return chownAt(fd, uid, gid)
}

func chownAt(fd, uid, gid int) error {
	if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return err
	}
	dup, err := unix.Dup(fd)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(dup), "dir")
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := unix.Fchownat(fd, e.Name(), uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if !e.IsDir() {
			continue
		}
		child, err := unix.Openat(fd, e.Name(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ENOENT) {
			continue // swapped meanwhile: not ours to follow
		}
		if err != nil {
			return err
		}
		err = chownAt(child, uid, gid)
		unix.Close(child)
		if err != nil {
			return err
		}
	}
	return nil
}
