package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"

	"github.com/containerd/errdefs"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// FSView names a container's file system as its own processes see it:
// a running container by its init (Pid, and the monitor that is its
// parent, which guards against a reused pid), a stopped one by its mounted
// root filesystem and the mounts its spec would add.
type FSView struct {
	Pid          int
	MonitorPid   int
	MonitorStart uint64 // /proc/PID/stat field 22 of MonitorPid

	Rootfs   string  // stopped: the mounted root filesystem
	Mounts   []Mount // stopped: bind and volume mounts (absolute host Source), in spec order
	ReadOnly bool    // stopped: the root filesystem is read-only (--read-only)
}

// InContainerFS runs fn with the calling goroutine's file system view
// replaced by the container's: every path fn opens, absolute or relative,
// every "..", and every symlink it meets resolve inside the container's
// root, which the kernel enforces, never on the host.
//
// fn runs on a goroutine locked to a fresh OS thread that first leaves the
// process's shared fs_struct (unshare CLONE_FS), then
//   - running container: setns into the init's mount namespace, which also
//     makes the namespace's root (the container's root) the thread's root
//     and working directory, so volumes and tmpfs mounts are seen as the
//     container sees them;
//   - stopped container: a private mount namespace of its own (rprivate,
//     so nothing propagates back), the spec's bind and volume mounts placed
//     on their destinations resolved inside Rootfs, then chroot(Rootfs).
//
// The goroutine never unlocks its thread, so Go ends the thread with it:
// no other goroutine ever runs in that view. It is never the main
// thread, which Go cannot end and which /proc/self names. fn must do all of its file
// work on its own goroutine (no helper goroutines touching files) and must
// not take or leave file descriptors across the boundary: it exchanges
// only bytes (pipes in memory) with the rest of the process.
func InContainerFS(v FSView, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if unix.Gettid() == unix.Getpid() {
			// The main thread, which Go never ends and which /proc/self
			// names (storage reads /proc/self/mountinfo): it keeps the
			// process's view. While it is locked here, the goroutine
			// below cannot run on it.
			errc <- InContainerFS(v, fn)
			goruntime.UnlockOSThread()
			return
		}
		if err := enterView(v); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func enterView(v FSView) error {
	if v.Pid > 0 {
		return joinRunning(v)
	}
	return enterStopped(v)
}

// joinRunning setns into the init's mount namespace. The namespace file is
// opened first and the process checked after: a pid that was reused by
// the time it was opened no longer has the container's monitor as its
// parent.
func joinRunning(v FSView) error {
	ns := "/proc/" + strconv.Itoa(v.Pid) + "/ns/mnt"
	fd, err := unix.Open(ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("the container's mount namespace: %w (is it still running?): %w", err, errdefs.ErrConflict)
	}
	defer unix.Close(fd)
	if parentPid(v.Pid) != v.MonitorPid || ProcessStartTime(v.MonitorPid) != v.MonitorStart || v.MonitorStart == 0 {
		return fmt.Errorf("the container stopped: %w", errdefs.ErrConflict)
	}
	var theirs, ours unix.Stat_t
	if err := unix.Fstat(fd, &theirs); err != nil {
		return err
	}
	if err := unix.Stat("/proc/thread-self/ns/mnt", &ours); err != nil {
		return err
	}
	if theirs.Ino == ours.Ino && theirs.Dev == ours.Dev {
		return fmt.Errorf("process %d shares skiff's mount namespace: refusing to use it as a container's", v.Pid)
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("joining the container's mount namespace: %w", err)
	}
	return unix.Chdir("/")
}

// enterStopped builds the stopped container's view in a private mount
// namespace. The root filesystem is mounted by the caller in the process's
// namespace; the copy made by unshare sees it.
func enterStopped(v FSView) error {
	if v.Rootfs == "" || !filepath.IsAbs(v.Rootfs) {
		return fmt.Errorf("container root filesystem %q is not an absolute path", v.Rootfs)
	}
	if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making the private mount namespace rprivate: %w", err)
	}
	// A bind of the root onto itself is a mount of our own, which a
	// read-only root can be remounted as without touching the caller's.
	if err := unix.Mount(v.Rootfs, v.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding the root filesystem: %w", err)
	}
	root, err := os.OpenFile(v.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, m := range v.Mounts {
		if err := bindInRoot(root, m); err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, err)
		}
	}
	// After the binds, whose missing mount points a start would create too.
	if v.ReadOnly {
		if err := remountReadOnly(root, "/"); err != nil {
			return fmt.Errorf("remounting the root filesystem read-only: %w", err)
		}
	}
	if err := unix.Chroot(v.Rootfs); err != nil {
		return fmt.Errorf("chroot into the root filesystem: %w", err)
	}
	return unix.Chdir("/")
}

// bindInRoot binds m.Source onto m.Destination resolved inside root, as
// the container's start would: a missing destination is created (a
// directory, or an empty file for a file source), never through a
// symlink out of root. The mount goes on the resolved handle
// (/proc/thread-self/fd/N), so nothing is looked up twice.
func bindInRoot(root *os.File, m Mount) error {
	if m.Type != "bind" && m.Type != "volume" {
		return nil
	}
	if !filepath.IsAbs(m.Source) {
		return fmt.Errorf("source %q is not an absolute path", m.Source)
	}
	st, err := os.Stat(m.Source)
	if err != nil {
		return err
	}
	target, err := mountTarget(root, m.Destination, st.IsDir())
	if err != nil {
		return err
	}
	defer target.Close()
	path := "/proc/thread-self/fd/" + strconv.Itoa(int(target.Fd()))
	if err := unix.Mount(m.Source, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if m.ReadOnly {
		// Reopened: the handle names the directory under the new mount.
		return remountReadOnly(root, m.Destination)
	}
	return nil
}

func mountTarget(root *os.File, dest string, dir bool) (*os.File, error) {
	if dir {
		return pathrs.MkdirAllHandle(root, dest, 0o755)
	}
	if f, err := pathrs.OpenatInRoot(root, dest); err == nil {
		return f, nil
	}
	parent, err := pathrs.MkdirAllHandle(root, filepath.Dir(dest), 0o755)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), filepath.Base(dest), unix.O_CREAT|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	return pathrs.OpenatInRoot(root, dest)
}

// remountReadOnly makes the mount at dest (inside root) read-only,
// keeping the flags it has: inside a user namespace the kernel refuses a
// remount that would clear a locked nosuid, nodev or noexec.
func remountReadOnly(root *os.File, dest string) error {
	f, err := pathrs.OpenatInRoot(root, dest)
	if err != nil {
		return err
	}
	defer f.Close()
	path := "/proc/thread-self/fd/" + strconv.Itoa(int(f.Fd()))
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for _, f := range []struct{ st, ms uintptr }{
		{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f.st != 0 {
			flags |= f.ms
		}
	}
	return unix.Mount("", path, "", flags, "")
}
