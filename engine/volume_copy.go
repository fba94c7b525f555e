package engine

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// copyUp fills the empty volume directory data with the image's content at
// dst, as Docker does at a new volume's first mount: files, directories,
// symlinks (never followed), hard links, devices and fifos, with their
// owners, modes and times; the volume's root takes dst's owner and mode.
// dst is resolved inside rootfs as if rootfs were "/", so a symlink in the
// image cannot point the copy at the host. A volume that holds anything,
// or an image without dst (or with a non-directory there), copies nothing.
func copyUp(rootfs, dst, data string) error {
	src, err := securejoin.SecureJoin(rootfs, dst)
	if err != nil {
		return err
	}
	info, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) || err == nil && !info.IsDir() {
		return nil
	}
	if err != nil {
		return err
	}
	if empty, err := isEmptyDir(data); err != nil || !empty {
		return err
	}
	links := map[uint64]string{} // inode → the first copy's path
	var dirs []string
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(data, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		if rel != "." {
			if done, err := copyEntry(path, target, info, st, links); err != nil || done {
				return err
			}
		}
		if err := unix.Lchown(target, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			if err := unix.Chmod(target, uint32(st.Mode&07777)); err != nil {
				return err
			}
		}
		if info.IsDir() {
			dirs = append(dirs, target) // their times once their content is in
			return nil
		}
		return setTimes(target, st)
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		rel, _ := filepath.Rel(data, dirs[i])
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(src, rel), &st); err == nil {
			setTimes(dirs[i], &st)
		}
	}
	return nil
}

// copyEntry makes target as a copy of path; done is true for a hard link
// to a file copied before (whose owner, mode and times are set already).
func copyEntry(path, target string, info fs.FileInfo, st *syscall.Stat_t, links map[uint64]string) (done bool, err error) {
	mode := info.Mode()
	if mode.IsRegular() && st.Nlink > 1 {
		if first, ok := links[st.Ino]; ok {
			return true, os.Link(first, target)
		}
		links[st.Ino] = target
	}
	switch {
	case mode.IsDir():
		return false, os.Mkdir(target, 0o700)
	case mode.IsRegular():
		return false, copyFile(path, target)
	case mode&fs.ModeSymlink != 0:
		link, err := os.Readlink(path)
		if err != nil {
			return false, err
		}
		return false, os.Symlink(link, target)
	default: // devices, fifos, sockets
		err := unix.Mknod(target, st.Mode, int(st.Rdev))
		if errors.Is(err, unix.EPERM) {
			return true, nil // a device node, rootless: left out, as a rootless untar does
		}
		return false, err
	}
}

func copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func setTimes(path string, st *syscall.Stat_t) error {
	ts := []unix.Timespec{unix.Timespec(st.Atim), unix.Timespec(st.Mtim)}
	return unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// chownTree gives everything under dir (dir too, symlinks themselves) to
// uid:gid: podman's :U.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return unix.Lchown(path, uid, gid)
	})
}
