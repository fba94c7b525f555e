package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// A volume with the local driver's options (type, device, o) is mounted on
// its data directory when a container that uses it starts, and unmounted
// when the last container using it stops, as Docker's local driver does.
// Rootless, the mounts live in skiff's shared mount namespace, where every
// skiff process and container start sees them; only tmpfs and binds can be
// mounted there (checkVolumeOptions).

// prepareVolumes readies c's volume mounts before its start, with its root
// filesystem mounted at rootfs: the driver's mounts, a new volume's
// copy-up of the image's content, and :U's chown.
func (e *Engine) prepareVolumes(ctx context.Context, c *Container, rootfs string) error {
	owner := func() (int, int, error) {
		uid, gid, _, _, err := runtime.ResolveUser(rootfs, c.Config.Spec.User, nil)
		return int(uid), int(gid), err
	}
	for _, m := range c.Config.Spec.Mounts {
		if m.Type == "volume" {
			v, err := e.lookupVolume(ctx, m.Name)
			if err != nil {
				return fmt.Errorf("volume %s of %s: %w", m.Name, m.Destination, err)
			}
			if err := e.readyVolume(v, m, rootfs); err != nil {
				return err
			}
		}
		if m.Chown && (m.Type == "volume" || m.Type == "bind") {
			uid, gid, err := owner()
			if err != nil {
				return err
			}
			if err := chownTree(m.Source, uid, gid); err != nil {
				return fmt.Errorf("chowning %s for :U: %w", m.Source, err)
			}
		}
	}
	return nil
}

// readyVolume mounts v if its driver must, and fills it from the image
// when it is empty (unless nocopy), under v's lock.
func (e *Engine) readyVolume(v *Volume, m runtime.Mount, rootfs string) error {
	unlock, err := e.lockVolume(v)
	if err != nil {
		return err
	}
	defer unlock()
	if err := mountVolume(v); err != nil {
		return err
	}
	if m.NoCopy {
		return nil
	}
	if err := copyUp(rootfs, m.Destination, v.Mountpoint); err != nil {
		return fmt.Errorf("volume %s: copying the image's %s into it: %w", v.Name, m.Destination, err)
	}
	return nil
}

// releaseVolumes unmounts the driver mounts of c's volumes that no other
// running container uses; c has stopped. The users are read under the
// volume's lock: a start marks its container starting before it takes the
// lock to mount, so it is either seen here or mounts again after.
func (e *Engine) releaseVolumes(c *Container) {
	for _, m := range c.Config.Spec.Mounts {
		if m.Type != "volume" || m.Name == "" {
			continue
		}
		v, err := e.lookupVolume(context.Background(), m.Name)
		if err != nil || len(v.Config.Options) == 0 {
			continue
		}
		unlock, err := e.lockVolume(v)
		if err != nil {
			continue
		}
		users, err := e.volumeUsers()
		if err == nil && !slices.ContainsFunc(users[v.Name], func(u *Container) bool { return u.ID != c.ID && u.Running() }) {
			unmountVolume(v)
		}
		unlock()
	}
}

// removeAnonymousVolumes removes the anonymous volumes c named that no
// other container names (one it shared through --volumes-from goes with
// the last of them), after c was removed: rm -v and run --rm, as Docker.
func (e *Engine) removeAnonymousVolumes(c *Container) {
	var names []string
	for _, m := range c.Config.Spec.Mounts {
		if m.Type == "volume" && m.Name != "" {
			names = append(names, m.Name)
		}
	}
	if len(names) == 0 {
		return // no read of every container for the common run --rm
	}
	users, err := e.volumeUsers()
	if err != nil {
		return
	}
	for _, name := range names {
		if len(users[name]) > 0 {
			continue
		}
		if v, err := e.lookupVolume(context.Background(), name); err == nil && v.Config.Anonymous {
			e.removeVolume(context.Background(), v)
		}
	}
}

// mountVolume mounts v's driver options on its data directory unless
// mounted already (a volume without options has nothing to mount).
func mountVolume(v *Volume) error {
	opts := v.Config.Options
	if len(opts) == 0 {
		return nil
	}
	if on, err := isMountPoint(v.Mountpoint); err != nil || on {
		return err
	}
	flags, data := mountFlags(opts["o"])
	typ, dev := opts["type"], opts["device"]
	if isBindVolume(opts) {
		if _, err := os.Stat(dev); err != nil {
			return fmt.Errorf("volume %s: its bind source %s does not exist: %w", v.Name, dev, errdefs.ErrFailedPrecondition)
		}
		typ = ""
	}
	err := unix.Mount(dev, v.Mountpoint, typ, flags&^unix.MS_RDONLY, data)
	if err == nil && flags&unix.MS_RDONLY != 0 {
		// A bind ignores MS_RDONLY on the first call; remounting sets it.
		err = unix.Mount("", v.Mountpoint, "", flags|unix.MS_REMOUNT, data)
	}
	if err != nil {
		unix.Unmount(v.Mountpoint, unix.MNT_DETACH)
		return fmt.Errorf("volume %s: mounting %s (type %s, o=%s): %v: %w", v.Name, dev, opts["type"], opts["o"], err, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// unmountVolume takes whatever is mounted on v's data directory off it.
func unmountVolume(v *Volume) error {
	for range 8 {
		on, err := isMountPoint(v.Mountpoint)
		if err != nil || !on {
			return nil // a missing directory has nothing mounted
		}
		if err := unix.Unmount(v.Mountpoint, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("volume %s: unmounting %s: %w", v.Name, v.Mountpoint, err)
		}
	}
	return fmt.Errorf("volume %s: %s stays mounted: %w", v.Name, v.Mountpoint, errdefs.ErrFailedPrecondition)
}

// isMountPoint reports whether something is mounted at path (a bind of a
// directory of the same file system too).
func isMountPoint(path string) (bool, error) {
	var st unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &st)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

// mountFlags splits mount(8)-style options into flags and the data the
// file system reads (size=64m,mode=1777 for tmpfs).
func mountFlags(o string) (uintptr, string) {
	known := map[string]uintptr{"ro": unix.MS_RDONLY, "nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV,
		"noexec": unix.MS_NOEXEC, "sync": unix.MS_SYNCHRONOUS, "noatime": unix.MS_NOATIME, "nodiratime": unix.MS_NODIRATIME,
		"relatime": unix.MS_RELATIME, "strictatime": unix.MS_STRICTATIME, "bind": unix.MS_BIND, "rbind": unix.MS_BIND | unix.MS_REC}
	var flags uintptr
	var data []string
	for _, opt := range strings.Split(o, ",") {
		switch f, ok := known[opt]; {
		case opt == "" || opt == "rw":
		case ok:
			flags |= f
		default:
			data = append(data, opt)
		}
	}
	return flags, strings.Join(data, ",")
}
