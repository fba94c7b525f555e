//go:build !skiff_local

package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// The user-mode network replaces slirp4netns where it cannot run, because
// this user may not open /dev/net/tun (mode 0600 on fresh machines). The
// container sees what slirp4netns would give it: tap0 with the address
// .100 of the CIDR, gateway .2, DNS .3, MTU 65520. The device is one end of
// a veth pair inside the container's namespace (uid 0 of the namespace's
// owning user namespace may create one), the other end's frames go through
// an AF_PACKET socket to gVisor's TCP/IP stack in the monitor, which ends
// the container's TCP and UDP flows and opens host sockets for them. So it
// all lives in the monitor and the container's namespace: kill -9 of the
// monitor leaves nothing behind on the host.
//
//	container netns                           monitor (host netns)
//	tap0 10.0.2.100 ──veth── skiffnet0 ─AF_PACKET─ gVisor stack ── host sockets
//	                                             10.0.2.2: 127.0.0.1 if allowed
//	                                             10.0.2.3:53: the host's resolver

// usernetLayout is the user-mode network's addresses, slirp4netns's for
// the same CIDR.
type usernetLayout struct {
	subnet  netip.Prefix
	gateway netip.Addr // the host's loopback with AllowHostLoopback
	dns     netip.Addr
	address netip.Addr // the container's
}

// layoutFor is the layout of cidr ("" for SlirpCIDR).
func layoutFor(cidr string) (usernetLayout, error) {
	if cidr == "" {
		cidr = SlirpCIDR
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Bits() > 25 {
		return usernetLayout{}, fmt.Errorf("slirp4netns cidr %q: want an IPv4 network of /25 or larger, e.g. %s: %w", cidr, SlirpCIDR, errdefs.ErrInvalidArgument)
	}
	p = p.Masked()
	nth := func(n uint32) netip.Addr {
		b := p.Addr().As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) + n
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return usernetLayout{subnet: p, gateway: nth(2), dns: nth(3), address: nth(100)}, nil
}

// setupUsernet connects the namespace of pid to a user-mode network in
// this process, for the slirp4netns mode where /dev/net/tun is not usable
// (tunErr says why).
func setupUsernet(n *Network, opts SlirpOptions, pid int, tunErr error) error {
	netnsFile, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return fmt.Errorf("user-mode network: the container's network namespace: %w", err)
	}
	// The namespace is held, so that Close can remove the veth pair from
	// it and a recycled pid cannot point elsewhere.
	n.onCloseLate(netnsFile.Close)
	return setupUsernetIn(n, opts, netnsFile, tunErr)
}

// setupUsernetIn is setupUsernet for the network namespace open on
// netnsFile, which the caller keeps open until n is closed.
func setupUsernetIn(n *Network, opts SlirpOptions, netnsFile *os.File, tunErr error) error {
	if opts.EnableIPv6 || opts.PortHandler == PortHandlerSlirp4netns {
		return fmt.Errorf("slirp4netns options enable_ipv6 and port_handler=slirp4netns need slirp4netns itself, which cannot run here (%w); drop them to use skiff's user-mode network", tunErr)
	}
	l, err := layoutFor(opts.CIDR)
	if err != nil {
		return err
	}
	mtu := opts.MTU
	if mtu == 0 {
		mtu = SlirpMTU
	}
	if mtu < 1280 || mtu > SlirpMTU {
		return fmt.Errorf("slirp4netns mtu %d: want 1280 to %d: %w", mtu, SlirpMTU, errdefs.ErrInvalidArgument)
	}
	outbound, err := outboundAddr(opts.OutboundAddr)
	if err != nil {
		return err
	}
	ns := int(netnsFile.Fd())
	// Deleting one end of the veth pair removes both.
	unlink := func() error { return inNetns(ns, func() error { return deleteLink(usernetDevice) }) }
	fd, peer := -1, 0
	err = inNetns(ns, func() (err error) {
		fd, peer, err = makeLink(l, mtu)
		return err
	})
	if err != nil {
		unlink()
		return fmt.Errorf("user-mode network: %w", err)
	}
	s, err := startStack(fd, l, mtu, &usernetPolicy{layout: l, allowHostLoopback: opts.AllowHostLoopback,
		outbound: outbound, upstreamDNS: opts.upstreamDNS})
	if err != nil {
		unix.Close(fd)
		unlink()
		return fmt.Errorf("user-mode network: %w", err)
	}
	s.wake = func() { inNetns(ns, wakeFrame) }
	n.onCloseLate(func() error {
		// By the stack's end's index, which stays whatever the container
		// renames. Its removal fails the stack's socket (ENETDOWN), which
		// ends the link's reader; failing that, close stops the reader.
		err := inNetns(ns, func() error { return deleteIndex(peer) })
		return errors.Join(err, s.close(err == nil))
	})
	return nil
}

// outboundAddr is the address outbound flows' sockets are bound to
// (slirp4netns's outbound_addr: an IPv4 address or an interface's name);
// none for "".
func outboundAddr(addr string) (netip.Addr, error) {
	if addr == "" {
		return netip.Addr{}, nil
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		return ip, nil
	}
	ip, err := interfaceAddr(addr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("slirp4netns outbound_addr %q: %w: %w", addr, err, errdefs.ErrInvalidArgument)
	}
	return ip, nil
}

// interfaceAddr is the first IPv4 address of the interface name.
func interfaceAddr(name string) (netip.Addr, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return netip.Addr{}, errors.New("neither an address nor an interface")
	}
	addrs, _ := ifc.Addrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			ip, _ := netip.AddrFromSlice(ipn.IP.To4())
			return ip, nil
		}
	}
	return netip.Addr{}, errors.New("the interface has no IPv4 address")
}
