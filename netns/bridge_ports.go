package netns

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/containerd/errdefs"
)

// checkPorts refuses what the bridge cannot publish, before anything is
// reserved.
func checkPorts(ports []PortMapping) error {
	for _, p := range ports {
		if p.Protocol != "tcp" && p.Protocol != "udp" {
			return fmt.Errorf("published port %s: protocol %q is neither tcp nor udp: %w", p, p.Protocol, errdefs.ErrInvalidArgument)
		}
		if p.HostPort < 1 || p.HostPort > 65535 || p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return fmt.Errorf("published port %s: ports are 1 to 65535: %w", p, errdefs.ErrInvalidArgument)
		}
		if p.HostIP != "" && net.ParseIP(p.HostIP).To4() == nil {
			return fmt.Errorf("published port %s: the bridge publishes on IPv4 host addresses only: %w", p, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// reservePorts holds a socket on every published host port for the
// container's life, as conmon does: DNAT takes the traffic before any
// socket sees it, so without the reservation nothing would stop another
// program (or container) from binding the port and never getting its
// traffic. A port in use fails here, naming it (portError, as rootless).
// The sockets are never read; they close at Close, or with the monitor
// when it is killed.
func reservePorts(n *Network, ports []PortMapping) error {
	for _, p := range ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		addr := net.JoinHostPort(ip, strconv.Itoa(p.HostPort))
		var c io.Closer
		var err error
		if p.Protocol == "udp" {
			c, err = net.ListenPacket("udp4", addr)
		} else {
			c, err = net.Listen("tcp4", addr)
		}
		if err != nil {
			return portError(p, err)
		}
		n.onClose(c.Close)
	}
	return nil
}
