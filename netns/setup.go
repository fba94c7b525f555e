//go:build !skiff_local

package netns

// What only skiff-monitor runs: a container's network set up (Setup), and
// the holder of the rootless shared namespace (ServeShared). The user-mode
// network stack, slirp4netns's driver and the name server they reach are
// in files with the same build constraint, so that bin/skiff, the CLI
// built with the skiff_local tag, links none of them (gvisor's stack and
// miekg/dns): the CLI only lists, connects and removes networks.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Setup sets up cfg for the network namespace of process pid (the
// container's init, not yet running its command). A failure undoes what
// was done.
func Setup(cfg Config, pid int) (*Network, error) {
	n := &Network{}
	var err error
	switch cfg.Mode {
	case ModeSlirp4netns:
		err = setupSlirp(n, cfg, pid)
	case ModeBridge:
		if cfg.Shared != nil {
			err = setupShared(n, cfg, pid)
		} else {
			err = setupBridge(n, cfg, pid)
		}
	default:
		err = fmt.Errorf("unknown network mode %q", cfg.Mode)
	}
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// setupShared puts the namespace of pid on cfg.Bridge in the shared
// namespace, and publishes cfg.Ports with rootlesskit's port driver into
// the container's own namespace (as the default rootless network does).
func setupShared(n *Network, cfg Config, pid int) error {
	ns, err := joinShared(n, *cfg.Shared)
	if err != nil {
		return err
	}
	n.onClose(ns.Close)
	inner := &Network{}
	bridged := cfg
	bridged.Ports = nil // no DNAT: the port driver forwards them
	err = inNetns(int(ns.Fd()), func() error { return setupBridge(inner, bridged, pid) })
	// Closing runs in the shared namespace too: the veth's host end and
	// the rules live there.
	n.onClose(func() error { return inNetns(int(ns.Fd()), inner.Close) })
	if err != nil {
		return err
	}
	return publishBuiltin(n, cfg.StateDir, pid, cfg.Ports)
}

// ServeShared is the holder of the shared network namespace of dir
// (`skiff-monitor netns DIR`, started by startHolder with ready its fd 3):
// it makes the namespace and its way out, writes "ok" or why not to
// ready, and returns once no container has used it for a while.
func ServeShared(dir string, ready *os.File) error {
	err := serveShared(dir, ready)
	if err != nil && ready != nil {
		fmt.Fprintf(ready, "%v\n", err)
	}
	return err
}

func serveShared(dir string, ready *os.File) error {
	b, err := os.ReadFile(filepath.Join(dir, sharedConfFile))
	var c SharedConfig
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", sharedConfFile, err)
	}
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGQUIT)
	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM)
	ns, err := newNetns()
	if err != nil {
		return err
	}
	defer ns.Close()
	n := &Network{}
	defer n.Close()
	err = inNetns(int(ns.Fd()), func() error {
		if lo, err := netlink.LinkByName("lo"); err == nil {
			netlink.LinkSetUp(lo)
		}
		return writeSysctl("net/ipv4/ip_forward", "1")
	})
	if err != nil {
		return err
	}
	if tunErr := checkTun(); tunErr != nil {
		err = setupUsernetIn(n, c.Slirp, ns, tunErr)
	} else {
		var s *slirpProcess
		if s, err = startSlirpIn(c.Slirp, dir, ns); err == nil {
			n.onClose(s.stop)
		}
	}
	if err != nil {
		return fmt.Errorf("its way out: %w", err)
	}
	users, err := os.OpenFile(filepath.Join(dir, sharedUsersLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer users.Close()
	ino, err := nsInode(ns)
	if err != nil {
		return err
	}
	pidFile := filepath.Join(dir, sharedPidFile)
	if err := writeAtomic(pidFile, fmt.Sprintf("%d %d %d\n", os.Getpid(), ns.Fd(), ino)); err != nil {
		return err
	}
	defer os.Remove(pidFile)
	if ready != nil {
		fmt.Fprintln(ready, "ok")
		ready.Close()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for idle := 0; ; {
		select {
		case <-term:
			return nil
		case <-tick.C:
		}
		if unix.Flock(int(users.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			idle = 0
			continue
		}
		if idle++; idle >= sharedIdleChecks {
			// Exits holding the lock: a monitor that comes now waits for
			// it, then finds no holder and starts one.
			os.Remove(pidFile)
			return nil
		}
		unix.Flock(int(users.Fd()), unix.LOCK_UN)
	}
}

// newNetns makes a network namespace, on a thread that then ends, and
// returns a descriptor that holds it.
func newNetns() (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	c := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with us
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			c <- result{err: fmt.Errorf("making the shared network namespace: %w", err)}
			return
		}
		f, err := os.Open("/proc/thread-self/ns/net")
		c <- result{f, err}
	}()
	r := <-c
	return r.f, r.err
}
