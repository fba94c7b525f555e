package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ExtractOptions tune Extract.
type ExtractOptions struct {
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory or the other way round (docker's PUT default).
	NoOverwriteDirNonDir bool
	// KeepOwner keeps each entry's uid and gid (docker's cp); otherwise
	// every entry is owned by UID:GID (cp -a: the container's user).
	KeepOwner bool
	UID, GID  int
}

// ErrBreakout is an entry whose name leaves the extraction directory.
var ErrBreakout = errors.New("archive entry is outside of the destination directory")

// Extract unpacks the tar stream r into dir, an existing directory:
// modes, mtimes (directories' last, once their contents are in), owners
// as o says, hard links within the stream, symlinks as they are. An entry
// replaces what is in its way, except as NoOverwriteDirNonDir says.
func Extract(r io.Reader, dir string, o ExtractOptions) error {
	tr := tar.NewReader(r)
	type dirTime struct {
		path  string
		mtime time.Time
	}
	var dirs []dirTime
	buf := make([]byte, 1<<20)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name := filepath.Clean("/" + hdr.Name)[1:]
		if strings.HasPrefix(filepath.Clean(hdr.Name), "../") || filepath.Clean(hdr.Name) == ".." {
			return fmt.Errorf("%q: %w", hdr.Name, ErrBreakout)
		}
		path := filepath.Join(dir, name)
		if name == "" {
			continue // the extraction directory itself stays as it is
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := clearWay(path, hdr, o.NoOverwriteDirNonDir); err != nil {
			return err
		}
		if err := create(path, dir, hdr, tr, buf); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeLink {
			continue // shares the inode, and so the owner, mode and times, of its target
		}
		uid, gid := o.UID, o.GID
		if o.KeepOwner {
			uid, gid = hdr.Uid, hdr.Gid
		}
		if err := os.Lchown(path, uid, gid); err != nil {
			return fmt.Errorf("chown %s to %d:%d: %w", path, uid, gid, err)
		}
		if hdr.Typeflag != tar.TypeSymlink {
			// After the chown, which clears set-id bits.
			if err := os.Chmod(path, os.FileMode(hdr.Mode).Perm()|modeBits(hdr.Mode)); err != nil {
				return err
			}
		}
		if caps, ok := hdr.PAXRecords["SCHILY.xattr.security.capability"]; ok && hdr.Typeflag == tar.TypeReg {
			unix.Lsetxattr(path, "security.capability", []byte(caps), 0) // best effort, as docker
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirTime{path, hdr.ModTime})
			continue
		}
		if err := setMtime(path, hdr.ModTime); err != nil {
			return err
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := setMtime(dirs[i].path, dirs[i].mtime); err != nil {
			return err
		}
	}
	return nil
}

// modeBits maps tar's set-id and sticky bits to Go's.
func modeBits(m int64) os.FileMode {
	var b os.FileMode
	if m&0o4000 != 0 {
		b |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		b |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		b |= os.ModeSticky
	}
	return b
}

// clearWay removes what stands at path unless it is a directory that
// stays one.
func clearWay(path string, hdr *tar.Header, noDirNonDir bool) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	isDir := hdr.Typeflag == tar.TypeDir
	if noDirNonDir && fi.IsDir() && !isDir {
		return fmt.Errorf("cannot overwrite directory %q with non-directory %q", path, hdr.Name)
	}
	if noDirNonDir && !fi.IsDir() && isDir {
		return fmt.Errorf("cannot overwrite non-directory %q with directory %q", path, hdr.Name)
	}
	if fi.IsDir() && isDir {
		return nil
	}
	return os.RemoveAll(path)
}

func create(path, dir string, hdr *tar.Header, r io.Reader, buf []byte) error {
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
			return nil
		}
		return os.Mkdir(path, 0o700)
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return err
		}
		_, err = io.CopyBuffer(f, r, buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	case tar.TypeSymlink:
		return os.Symlink(hdr.Linkname, path)
	case tar.TypeLink:
		target := filepath.Clean("/" + hdr.Linkname)[1:]
		if strings.HasPrefix(filepath.Clean(hdr.Linkname), "../") {
			return fmt.Errorf("hard link %q to %q: %w", hdr.Name, hdr.Linkname, ErrBreakout)
		}
		return os.Link(filepath.Join(dir, target), path)
	case tar.TypeChar:
		return unix.Mknod(path, unix.S_IFCHR|mode, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))))
	case tar.TypeBlock:
		return unix.Mknod(path, unix.S_IFBLK|mode, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))))
	case tar.TypeFifo:
		return unix.Mkfifo(path, mode)
	default:
		return fmt.Errorf("archive entry %q: unsupported type %q", hdr.Name, hdr.Typeflag)
	}
}

// setMtime sets path's modification (and access) time without following
// a symlink.
func setMtime(path string, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unix.UtimesNanoAt(unix.AT_FDCWD, path, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}
