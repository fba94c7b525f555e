package netns

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
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

// inNetns runs fn on a thread of its own that entered the network
// namespace netnsFd. The thread stays locked to the goroutine, so the
// runtime ends it rather than hand a thread in the wrong namespace to other
// code: going back would need privileges over the host's namespace that a
// rootless monitor lacks. A socket made there keeps its namespace, so any
// thread may use it afterwards.
func inNetns(netnsFd int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(netnsFd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering the container's network namespace: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
