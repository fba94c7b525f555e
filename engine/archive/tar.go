package archive

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Tar writes src (a resolved path; a trailing "/." archives a directory's
// contents) to w as one tar stream whose first name element is rebase.
// Symlinks are archived as links, never followed; w is closed by the
// caller, the tar trailer is written here.
func Tar(w io.Writer, src, rebase string) error {
	tw := tar.NewWriter(w)
	t := tarWalk{tw: tw, links: map[[2]uint64]string{}, buf: make([]byte, 1<<20)}
	if err := t.add(src, rebase); err != nil {
		return err
	}
	return tw.Close()
}

type tarWalk struct {
	tw    *tar.Writer
	links map[[2]uint64]string // (dev, ino) of a multiply linked file → its first name
	buf   []byte
}

func (t *tarWalk) add(path, name string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket != 0 {
		return nil // as docker: a socket has no content to carry
	}
	if err := t.header(path, name, fi); err != nil {
		return err
	}
	if !fi.IsDir() {
		return nil
	}
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	slices.Sort(names) // a stable order, as docker's walk
	for _, n := range names {
		child := name + "/" + n
		if name == "/" {
			child = "/" + n
		}
		if err := t.add(filepath.Join(path, n), child); err != nil {
			return err
		}
	}
	return nil
}

func (t *tarWalk) header(path, name string, fi os.FileInfo) error {
	var link string
	if fi.Mode()&os.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	if fi.IsDir() && !strings.HasSuffix(name, "/") {
		hdr.Name += "/"
	}
	hdr.Uname, hdr.Gname = "", "" // names mean nothing outside the container
	hdr.Format = tar.FormatPAX    // nanosecond mtimes, long names, large ids
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if first, seen := t.links[key]; seen {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return t.tw.WriteHeader(hdr)
		}
		t.links[key] = hdr.Name
	}
	if caps, err := getCapability(path); fi.Mode().IsRegular() && err == nil && len(caps) > 0 {
		hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string(caps)}
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyBuffer(t.tw, io.LimitReader(f, hdr.Size), t.buf)
	return err
}

// getCapability is the file's security.capability attribute, the one
// extended attribute docker's archives carry (ping's cap_net_raw).
func getCapability(path string) ([]byte, error) {
	buf := make([]byte, 128)
	n, err := unix.Lgetxattr(path, "security.capability", buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}
