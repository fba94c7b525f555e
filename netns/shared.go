package netns

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Rootless user networks share one network namespace per user (podman's
// rootless-netns): their bridges live there, as the host's do rootful, and
// one slirp4netns (or skiff's user-mode network where slirp4netns cannot
// open /dev/net/tun) takes their traffic out. A holder process,
// `skiff-monitor netns DIR`, makes the namespace, runs its way out, and
// exits once no container uses it; the namespace goes with it.
//
//	shared netns (holder's)                 container netns
//	tap0 10.0.2.100 ── way out              eth0 10.89.0.5
//	skiff1 10.89.0.1 ──veth────────────────┘
//	nft table ip skiff: masquerade, isolation (as rootful)
//
// Who uses it: each monitor of a container on a rootless user network
// holds a shared flock on DIR/users.lock for as long as its container's
// network exists (so a kill -9 of the monitor lets go of it). The holder
// tries for an exclusive one each second and exits when it gets it twice
// in a row. A monitor takes its shared lock before it looks for the
// holder, and starts one (under DIR/start.lock) when there is none, so a
// holder that decided to exit is never joined.
//
// Others reach the namespace through the holder's descriptor of it,
// /proc/PID/fd/FD, named with the namespace's inode in DIR/holder.pid: a
// recycled pid cannot pass for it.

// SharedConfig puts a rootless container's bridge in the user's shared
// network namespace (Config.Shared).
type SharedConfig struct {
	Dir   string       `json:"dir"`   // the holder's run directory
	Exe   string       `json:"exe"`   // runs the holder as `Exe netns Dir`
	Slirp SlirpOptions `json:"slirp"` // the way out, as slirp4netns's options
}

const (
	sharedUsersLock = "users.lock"
	sharedStartLock = "start.lock"
	sharedPidFile   = "holder.pid"
	sharedConfFile  = "holder.json"
	sharedLogFile   = "holder.log"
	// sharedIdleChecks: the holder exits after this many checks, a second
	// apart, that found no user.
	sharedIdleChecks = 2
	// holderReadyTimeout bounds the wait for a new holder's namespace.
	holderReadyTimeout = 10 * time.Second
)

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

// joinShared counts the caller as a user of the shared namespace until n
// is closed, and opens the namespace, starting its holder if none runs.
func joinShared(n *Network, c SharedConfig) (*os.File, error) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("the shared network namespace: %w", err)
	}
	users, err := lockFile(filepath.Join(c.Dir, sharedUsersLock), unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	n.onClose(users.Close)
	start, err := lockFile(filepath.Join(c.Dir, sharedStartLock), unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer start.Close()
	if ns, err := OpenShared(c.Dir); err == nil {
		return ns, nil
	}
	return startHolder(c)
}

// lockFile opens (creating) path and flocks it with how, waiting.
func lockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("the shared network namespace: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("the shared network namespace: locking %s: %w", path, err)
	}
	return f, nil
}

// OpenShared opens the shared network namespace of dir, whose holder must
// be running (errdefs.ErrNotFound when it is not).
func OpenShared(dir string) (*os.File, error) {
	b, err := os.ReadFile(filepath.Join(dir, sharedPidFile))
	if err != nil {
		return nil, fmt.Errorf("the shared network namespace has no holder: %w", errdefs.ErrNotFound)
	}
	var pid, fd int
	var ino uint64
	if _, err := fmt.Sscanf(string(b), "%d %d %d", &pid, &fd, &ino); err != nil {
		return nil, fmt.Errorf("the shared network namespace: %s: %v: %w", sharedPidFile, err, errdefs.ErrNotFound)
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd))
	if err != nil {
		return nil, fmt.Errorf("the shared network namespace's holder %d is gone: %w", pid, errdefs.ErrNotFound)
	}
	if got, err := nsInode(f); err != nil || got != ino {
		f.Close()
		return nil, fmt.Errorf("the shared network namespace's holder %d is gone (its pid was reused): %w", pid, errdefs.ErrNotFound)
	}
	return f, nil
}

// SharedInode is the inode of dir's shared namespace (0: no holder).
func SharedInode(dir string) uint64 {
	f, err := OpenShared(dir)
	if err != nil {
		return 0
	}
	defer f.Close()
	return NamespaceInode(f)
}

// NamespaceInode is the inode of the namespace f is open on (0: none).
func NamespaceInode(f *os.File) uint64 {
	ino, _ := nsInode(f)
	return ino
}

// nsInode is the inode of the network namespace f is open on.
func nsInode(f *os.File) (uint64, error) {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		return 0, err
	}
	if fs.Type != unix.NSFS_MAGIC {
		return 0, errors.New("not a namespace")
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// startHolder starts the holder of c.Dir (the caller holds start.lock) and
// opens its namespace once it is ready.
func startHolder(c SharedConfig) (*os.File, error) {
	conf, _ := json.Marshal(c)
	if err := os.WriteFile(filepath.Join(c.Dir, sharedConfFile), conf, 0o600); err != nil {
		return nil, fmt.Errorf("the shared network namespace: %w", err)
	}
	log, err := os.OpenFile(filepath.Join(c.Dir, sharedLogFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("the shared network namespace: %w", err)
	}
	defer log.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	cmd := exec.Command(c.Exe, "netns", c.Dir)
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	// Its own session: it outlives the monitor that started it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return nil, fmt.Errorf("starting the shared network namespace's holder: %w", err)
	}
	go cmd.Wait() // reaped here if it dies while we live; else by init
	readyR.SetReadDeadline(time.Now().Add(holderReadyTimeout))
	line, err := bufio.NewReader(readyR).ReadString('\n')
	line = strings.TrimSpace(line)
	switch {
	case line == "ok":
	case line != "":
		return nil, fmt.Errorf("the shared network namespace: %s", line)
	case errors.Is(err, os.ErrDeadlineExceeded):
		cmd.Process.Kill()
		return nil, fmt.Errorf("the shared network namespace's holder is not ready after %s", holderReadyTimeout)
	default:
		return nil, errors.New("the shared network namespace's holder exited before it was ready (see " + filepath.Join(c.Dir, sharedLogFile) + ")")
	}
	return OpenShared(c.Dir)
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

// writeAtomic replaces path with data through a rename.
func writeAtomic(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// InShared runs fn in dir's shared network namespace, if its holder runs
// (false when it does not: there is nothing in it to act on).
func InShared(dir string, fn func() error) (bool, error) {
	ns, err := OpenShared(dir)
	if err != nil {
		return false, nil
	}
	defer ns.Close()
	return true, inNetns(int(ns.Fd()), fn)
}
