//go:build !skiff_local

package netns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
)

// tunDevice is where slirp4netns gets its tap device.
const tunDevice = "/dev/net/tun"

// checkTun tells up front why slirp4netns could not make its tap device,
// which it would only report as a perror line after its child failed.
//
// slirp4netns forks a child that joins the target's user namespace (a no-op
// when we are already in it) and network namespace, opens /dev/net/tun there
// and creates tap0 with TUNSETIFF, then passes the tap's fd back. Opening
// the device is an ordinary permission check against its inode: as uid 0 of
// a rootless user namespace, CAP_DAC_OVERRIDE does not apply to a file whose
// owner (the host's root) is not mapped, so a /dev/net/tun of mode 0600 can
// only be opened by the host's root, whatever namespace one is in. The
// monitor opens it the same way, with the same credentials, so its result
// is slirp4netns's. An open alone creates no device.
func checkTun() error {
	f, err := os.OpenFile(tunDevice, os.O_RDWR, 0)
	if err == nil {
		return f.Close()
	}
	why := err.Error()
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		why = tunDevice + " is not open to this user"
		if fi, serr := os.Stat(tunDevice); serr == nil {
			owner := fmt.Sprintf("uid %d", fi.Sys().(*syscall.Stat_t).Uid)
			if overflow, _ := os.ReadFile("/proc/sys/kernel/overflowuid"); strings.TrimSpace(string(overflow)) == strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)) {
				owner = "a user this user namespace does not map, the host's root"
			}
			why += fmt.Sprintf(" (mode %04o, owned by %s)", fi.Mode().Perm(), owner)
		}
		why += "; make it usable with chmod 0666 " + tunDevice + " (the usual mode)"
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO):
		why = tunDevice + " is missing or its driver is not loaded (" + err.Error() + "); load it with modprobe tun"
	}
	return fmt.Errorf("slirp4netns network: %s, or run with --network none: %w", why, errdefs.ErrFailedPrecondition)
}
