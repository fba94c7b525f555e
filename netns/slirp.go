//go:build !skiff_local

package netns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	slirpBinary = "slirp4netns"
	// SlirpSocket is slirp4netns's API socket in Config.StateDir.
	SlirpSocket = "slirp4netns.sock"
	// slirpReadyTimeout bounds the wait for slirp4netns to configure tap0.
	slirpReadyTimeout = 10 * time.Second
	// slirpStopTimeout bounds the wait for slirp4netns to exit once its
	// exit fd closed, after which it is killed.
	slirpStopTimeout = 2 * time.Second
)

// The descriptors slirp4netns inherits (exec.Cmd.ExtraFiles start at 3).
const (
	slirpReadyFd = 3 // it writes "1" once tap0 is configured
	slirpExitFd  = 4 // it exits when this pipe's write end, the monitor's, closes
	slirpDirFd   = 5 // StateDir, so that the API socket's name stays short
	slirpNetnsFd = 6 // the target namespace, when it is no process's (startSlirpIn)
)

// setupSlirp connects the namespace of pid to slirp4netns, or to skiff's
// user-mode network where slirp4netns cannot open /dev/net/tun, and
// publishes cfg.Ports (rootless).
func setupSlirp(n *Network, cfg Config, pid int) error {
	var opts SlirpOptions
	if cfg.Slirp != nil {
		opts = *cfg.Slirp
	}
	if err := checkTun(); err != nil {
		if err := setupUsernet(n, opts, pid, err); err != nil {
			return err
		}
		return publishPorts(n, cfg, opts, pid, nil)
	}
	s, err := startSlirp(opts, cfg.StateDir, pid)
	if err != nil {
		return err
	}
	n.onClose(s.stop)
	return publishPorts(n, cfg, opts, pid, s)
}

// publishPorts forwards cfg.Ports with the chosen handler; s is nil for
// the user-mode network, which only has rootlesskit's.
func publishPorts(n *Network, cfg Config, opts SlirpOptions, pid int, s *slirpProcess) error {
	if len(cfg.Ports) == 0 {
		return nil
	}
	if opts.PortHandler == PortHandlerSlirp4netns && s != nil {
		return s.publish(cfg.Ports)
	}
	return publishBuiltin(n, cfg.StateDir, pid, cfg.Ports)
}

// slirpProcess is a running slirp4netns, the monitor's child. The monitor
// holds the only write end of its exit pipe, so slirp4netns also ends when
// the monitor dies, kill -9 included.
type slirpProcess struct {
	cmd    *exec.Cmd
	exitW  *os.File
	done   chan struct{} // closed when cmd.Wait returned
	stderr *tailWriter
	socket string // the API socket's path
}

// slirpArgs is slirp4netns 1.2's command line for the namespace of pid,
// or (pid 0) for the namespace open on its descriptor slirpNetnsFd.
func slirpArgs(opts SlirpOptions, pid int) []string {
	mtu := opts.MTU
	if mtu == 0 {
		mtu = SlirpMTU
	}
	args := []string{"--configure", "--mtu=" + strconv.Itoa(mtu)}
	if opts.CIDR != "" {
		args = append(args, "--cidr="+opts.CIDR)
	}
	if !opts.AllowHostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	if opts.EnableIPv6 {
		args = append(args, "--enable-ipv6")
	}
	if opts.OutboundAddr != "" {
		args = append(args, "--outbound-addr="+opts.OutboundAddr)
	}
	target := strconv.Itoa(pid)
	if pid == 0 {
		// Already in the namespace's user namespace: it joins only the
		// network namespace.
		args = append(args, "--netns-type=path")
		target = "/proc/self/fd/" + strconv.Itoa(slirpNetnsFd)
	}
	return append(args,
		"--ready-fd="+strconv.Itoa(slirpReadyFd),
		"--exit-fd="+strconv.Itoa(slirpExitFd),
		"--api-socket=/proc/self/fd/"+strconv.Itoa(slirpDirFd)+"/"+SlirpSocket,
		target, "tap0")
}

// startSlirp starts slirp4netns for the namespace of pid and waits until
// tap0 is up in it.
func startSlirp(opts SlirpOptions, stateDir string, pid int) (*slirpProcess, error) {
	return startSlirpTarget(opts, stateDir, pid, nil)
}

// startSlirpIn is startSlirp for the network namespace open on ns.
func startSlirpIn(opts SlirpOptions, stateDir string, ns *os.File) (*slirpProcess, error) {
	return startSlirpTarget(opts, stateDir, 0, ns)
}

func startSlirpTarget(opts SlirpOptions, stateDir string, pid int, ns *os.File) (*slirpProcess, error) {
	path, err := exec.LookPath(slirpBinary)
	if err != nil {
		return nil, fmt.Errorf("slirp4netns network: %w; install slirp4netns or run with --network none", err)
	}
	dir, err := os.Open(stateDir)
	if err != nil {
		return nil, fmt.Errorf("slirp4netns network: %w", err)
	}
	defer dir.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	exitR, exitW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, err
	}
	s := &slirpProcess{exitW: exitW, done: make(chan struct{}), stderr: &tailWriter{},
		socket: filepath.Join(stateDir, SlirpSocket)}
	os.Remove(s.socket) // left by a monitor that was killed
	s.cmd = exec.Command(path, slirpArgs(opts, pid)...)
	s.cmd.ExtraFiles = []*os.File{readyW, exitR, dir}
	if ns != nil {
		s.cmd.ExtraFiles = append(s.cmd.ExtraFiles, ns)
	}
	s.cmd.Stderr = s.stderr
	err = s.cmd.Start()
	readyW.Close()
	exitR.Close()
	if err != nil {
		exitW.Close()
		return nil, fmt.Errorf("starting slirp4netns: %w", err)
	}
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	if err := waitReady(readyR); err != nil {
		s.stop()
		return nil, fmt.Errorf("slirp4netns: %w: %s", err, s.stderr.last())
	}
	return s, nil
}

// waitReady waits for slirp4netns's ready byte. An end of file means it
// exited.
func waitReady(r *os.File) error {
	r.SetReadDeadline(time.Now().Add(slirpReadyTimeout))
	var b [1]byte
	_, err := r.Read(b[:])
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("not ready after %s", slirpReadyTimeout)
	default:
		return errors.New("exited before the network was up")
	}
}

// stop ends slirp4netns (closing its exit fd) and waits for it, killing it
// if it lingers.
func (s *slirpProcess) stop() error {
	s.exitW.Close()
	select {
	case <-s.done:
	case <-time.After(slirpStopTimeout):
		s.cmd.Process.Kill()
		<-s.done
	}
	os.Remove(s.socket)
	return nil
}

// tailWriter keeps the end of what a helper writes to its stderr, for an
// error message.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 1024

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > tailSize {
		w.buf = w.buf[len(w.buf)-tailSize:]
	}
	return len(p), nil
}

// last is the last two lines written: slirp4netns's cause, then its
// "child failed(1)".
func (w *tailWriter) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := strings.Split(string(bytes.TrimSpace(w.buf)), "\n")
	if len(lines) > 2 {
		lines = lines[len(lines)-2:]
	}
	return strings.Join(lines, "; ")
}
