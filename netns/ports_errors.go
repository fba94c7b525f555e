package netns

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
)

// unprivilegedPortStart is net.ipv4.ip_unprivileged_port_start: the lowest
// port a process without CAP_NET_BIND_SERVICE in the host's user namespace
// may bind (1024 when unreadable, the kernel's default).
func unprivilegedPortStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return 1024
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 1024
	}
	return n
}

// portError says why host port p could not be bound, in one line that
// names the port and what to do.
func portError(p PortMapping, err error) error {
	hostPort := strconv.Itoa(p.HostPort) + "/" + p.Protocol
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		if start := unprivilegedPortStart(); p.HostPort < start {
			return fmt.Errorf("publishing %s: host port %s is below net.ipv4.ip_unprivileged_port_start (%d), so a rootless container may not bind it: choose a port >= %d, or lower that sysctl: %w",
				p, hostPort, start, start, errdefs.ErrFailedPrecondition)
		}
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("publishing %s: host port %s is already in use: choose another one: %w", p, hostPort, errdefs.ErrConflict)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("publishing %s: %s is not an address of this host: %w", p, p.HostIP, errdefs.ErrInvalidArgument)
	}
	return fmt.Errorf("publishing %s: %w", p, err)
}

// probeBind binds p's host address for a moment, to learn why another
// process (slirp4netns) could not.
func probeBind(p PortMapping) error {
	addr := net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
	if p.Protocol == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err == nil {
			c.Close()
		}
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
	}
	return err
}
