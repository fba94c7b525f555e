package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func dirFlags(t *testing.T, dir string) (uint32, error) {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	return unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
}

// SpreadDir sets the top-directory flag where the filesystem has inode
// flags (the test directory is on ext4 on this project's machines), keeps
// the flags that were set, and leaves a symlink and a missing path alone.
func TestSpreadDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layers")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	before, err := dirFlags(t, dir)
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
		t.Skipf("%s: the filesystem has no inode flags (%v)", dir, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if before&fsTopdirFl != 0 {
		t.Fatalf("a new directory already has the flag: %#x", before)
	}
	SpreadDir(dir)
	after, err := dirFlags(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if after != before|fsTopdirFl {
		t.Errorf("flags %#x after SpreadDir, want %#x", after, before|fsTopdirFl)
	}
	SpreadDir(dir) // a second call changes nothing
	if again, _ := dirFlags(t, dir); again != after {
		t.Errorf("flags %#x after a second SpreadDir, want %#x", again, after)
	}
	link := filepath.Join(filepath.Dir(dir), "link")
	target := filepath.Join(filepath.Dir(dir), "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	SpreadDir(link)
	if f, _ := dirFlags(t, target); f&fsTopdirFl != 0 {
		t.Error("SpreadDir followed a symlink")
	}
	SpreadDir(filepath.Join(dir, "missing")) // no panic, nothing made
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("SpreadDir of a missing path: %v", err)
	}
}
