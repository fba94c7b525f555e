package netns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rootless-containers/rootlesskit/v3/pkg/port"
	"github.com/rootless-containers/rootlesskit/v3/pkg/port/builtin"
)

// The port handlers of SlirpOptions.PortHandler.
const (
	PortHandlerRootlesskit = "rootlesskit" // the default
	PortHandlerSlirp4netns = "slirp4netns"
)

// builtinInitTimeout bounds the handshake of the port driver's two halves.
const builtinInitTimeout = 5 * time.Second

// publishBuiltin forwards ports with rootlesskit's builtin port driver,
// both halves in the monitor as podman's rootlessport runs them: the parent
// half listens on the host ports in the monitor's network namespace, so
// the listeners die with the monitor; for each connection the child half
// enters the container's namespace on one thread, dials the container port
// on its loopback there, and hands the socket back over a unix socket in
// stateDir.
//
// The client's address: the child is asked to keep it (IP_TRANSPARENT:
// it binds the dialled socket to the client's address). That works for TCP
// from a non-loopback client when nft or iptables, ip and sysctl are
// installed: on the first such connection it adds policy routing, a
// sysctl and mangle rules inside the container's namespace (which go with
// it), so that replies to the client's address come back to the socket.
// Without those tools, and for every UDP datagram (a reply to a foreign
// address cannot be steered back without a per-flow socket), the container
// sees the client as its own 127.0.0.1. A loopback client is 127.0.0.1
// either way.
func publishBuiltin(n *Network, stateDir string, pid int, ports []PortMapping) error {
	netnsFile, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return fmt.Errorf("publishing ports: the container's network namespace: %w", err)
	}
	// Sockets and the fifo are named through an open descriptor of the
	// directory (a sockaddr_un holds 108 bytes), and the namespace through
	// ours, so a recycled pid cannot redirect a connection.
	dir, err := os.Open(stateDir)
	if err != nil {
		netnsFile.Close()
		return fmt.Errorf("publishing ports: %w", err)
	}
	n.onClose(func() error {
		os.Remove(filepath.Join(stateDir, ".bp-ready.pipe"))
		dir.Close()
		return netnsFile.Close()
	})
	parent, err := builtin.NewParentDriver(io.Discard, fdPath(dir), true, "auto")
	if err != nil {
		return fmt.Errorf("publishing ports: %w", err)
	}
	stop, err := runBuiltin(parent, fdPath(netnsFile))
	if err != nil {
		return fmt.Errorf("publishing ports: rootlesskit's port driver: %w", err)
	}
	n.onClose(stop)
	for _, p := range ports {
		st, err := parent.AddPort(context.Background(), builtinSpec(p))
		if err != nil {
			return portError(p, err)
		}
		n.onClose(func() error { return parent.RemovePort(context.Background(), st.ID) })
	}
	return nil
}

// runBuiltin runs the port driver's halves until the returned stop is
// called, once they have shaken hands.
func runBuiltin(parent port.ParentDriver, netnsPath string) (stop func() error, err error) {
	child := builtin.NewChildDriver(io.Discard)
	quit := make(chan struct{})
	childDone := make(chan error, 1)
	go func() { childDone <- child.RunChildDriver(parent.OpaqueForChild(), quit, netnsPath) }()
	initDone := make(chan struct{}, 1)
	parentDone := make(chan error, 1)
	go func() { parentDone <- parent.RunParentDriver(initDone, quit, nil) }()
	stop = func() error {
		close(quit)
		select { // the child unlinks its socket on the way out
		case <-childDone:
		case <-time.After(time.Second):
		}
		return nil
	}
	select {
	case <-initDone:
		return stop, nil
	case err = <-childDone:
	case err = <-parentDone:
	case <-time.After(builtinInitTimeout):
		err = fmt.Errorf("no handshake after %s", builtinInitTimeout)
	}
	stop()
	if err == nil {
		err = errors.New("ended early")
	}
	return nil, err
}

// builtinSpec is p for the port driver. The child dials the container's
// loopback (rootlesskit's default would dial HostIP inside the container
// when it is not the host's first address).
func builtinSpec(p PortMapping) port.Spec {
	childIP := "127.0.0.1"
	if ip := net.ParseIP(p.HostIP); ip != nil && ip.To4() == nil {
		childIP = "::1"
	}
	return port.Spec{Proto: p.Protocol, ParentIP: p.HostIP, ParentPort: p.HostPort,
		ChildPort: p.ContainerPort, ChildIP: childIP}
}

// fdPath names what f is open on, through /proc/self/fd.
func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }
