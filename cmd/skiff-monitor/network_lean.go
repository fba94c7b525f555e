//go:build skiff_nonet

package main

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// This build, skiff-monitor-lean, has none of the network's code
// (netns, with gvisor, nftables, DNS and rootlesskit's port driver): half
// the size of skiff-monitor, it starts the sooner, and so does the
// container init that libcontainer re-executes it as. The engine runs it
// for execs and for containers without a network of their own
// (runtime.ForkMonitor); a container that has one after all is handed to
// skiff-monitor (takeNetwork).

// network is what this build sets up: nothing.
type network struct{}

func (*network) Release() error { return nil }
func (*network) Wait() error    { return nil }

var errNoNetwork = errors.New("skiff-monitor-lean sets up no network: skiff-monitor does")

func setupNetwork([]byte, int) (*network, error)   { return nil, errNoNetwork }
func reattachable([]byte) bool                     { return false }
func reattachNetwork([]byte) (*network, error)     { return nil, errNoNetwork }
func runHelper(string, string) (code int, ok bool) { return 0, false }

// takeNetwork hands the run of monitor config path, whose container has a
// network, to skiff-monitor beside this binary: an execve keeps the pid,
// start time and descriptors the engine knows this monitor by, and the
// config was read (the control pipe's "go" consumed, its variable unset).
// stopWarming ends the cgroup warm-up first. It returns only on failure.
func takeNetwork(path string, stopWarming func()) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	full := filepath.Join(filepath.Dir(self), "skiff-monitor")
	stopWarming()
	err = unix.Exec(full, []string{full, "run", path}, os.Environ())
	return errors.New("the container has a network, which skiff-monitor sets up: " + err.Error())
}
