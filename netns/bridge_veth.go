package netns

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// addVeth creates the container's veth pair: the host's end on the bridge,
// the peer born in the namespace of pid as b's interface (one netlink
// request, so no temporary name in the host's namespace), then configures
// it and lo there. Deleting the host's end at Close deletes the peer with it.
func addVeth(n *Network, b *bridgeNet, br netlink.Link, pid int) error {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = b.veth
	attrs.MTU = b.cfg.MTU
	attrs.MasterIndex = br.Attrs().Index
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: b.cfg.Interface, PeerHardwareAddr: b.mac, PeerNamespace: netlink.NsPid(pid)}
	err := netlink.LinkAdd(veth)
	if errors.Is(err, unix.EEXIST) {
		// Named after this container: the leftover of a run whose monitor
		// died while its namespace lived on.
		if old, lerr := netlink.LinkByName(b.veth); lerr == nil {
			netlink.LinkDel(old)
		}
		err = netlink.LinkAdd(veth)
	}
	if err != nil {
		return fmt.Errorf("creating veth %s for the container: %w", b.veth, err)
	}
	n.onClose(func() error { return deleteLink(b.veth) })
	if err := netlink.LinkSetUp(veth); err != nil {
		return fmt.Errorf("veth %s: %w", b.veth, err)
	}
	return configureInside(b, pid)
}

// configureInside gives b's interface in the namespace of pid its address
// and, unless b says otherwise, the default route, and brings lo up.
func configureInside(b *bridgeNet, pid int) error {
	h, err := nsHandle(pid)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("container's loopback: %w", err)
	}
	name := b.cfg.Interface
	eth, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("container's %s: %w", name, err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: b.address, Mask: b.subnet.Mask}}
	if err := h.AddrAdd(eth, addr); err != nil {
		return fmt.Errorf("container's %s: adding %s: %w", name, addr.IPNet, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("container's %s: %w", name, err)
	}
	if b.cfg.Internal || b.cfg.NoDefaultRoute {
		return nil
	}
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: b.gateway}); err != nil {
		return fmt.Errorf("container's default route via %s: %w", b.gateway, err)
	}
	return nil
}

// nsHandle is a netlink handle in the network namespace of process pid.
func nsHandle(pid int) (*netlink.Handle, error) {
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("network namespace of process %d: %w", pid, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("network namespace of process %d: %w", pid, err)
	}
	return h, nil
}

// freeInterface is the lowest ethN the namespace of pid has no device of.
func freeInterface(pid int) (string, error) {
	h, err := nsHandle(pid)
	if err != nil {
		return "", err
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return "", fmt.Errorf("container's interfaces: %w", err)
	}
	taken := map[string]bool{}
	for _, l := range links {
		taken[l.Attrs().Name] = true
	}
	for i := 0; ; i++ {
		if name := "eth" + strconv.Itoa(i); !taken[name] {
			return name, nil
		}
	}
}

// deleteLink deletes a device of the host; one already gone is fine (a
// veth goes when its peer's namespace ends).
func deleteLink(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("device %s: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting device %s: %w", name, err)
	}
	return nil
}

// containerMAC parses the requested MAC, or derives one from the address
// as Docker does (02:42 and the IPv4 address): a container restarted with
// its address keeps its MAC, so the neighbour caches of the host and the
// other containers stay right (with a new random MAC they would send to
// the old one until their entry went stale, seconds later).
func containerMAC(s string, addr net.IP) (net.HardwareAddr, error) {
	if s == "" {
		ip := addr.To4()
		return net.HardwareAddr{0x02, 0x42, ip[0], ip[1], ip[2], ip[3]}, nil
	}
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 || mac[0]&1 != 0 {
		return nil, fmt.Errorf("MAC address %q is not a unicast Ethernet address: %w", s, errdefs.ErrInvalidArgument)
	}
	return mac, nil
}

// randomMAC is a random unicast, locally administered address.
func randomMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	rand.Read(mac)
	mac[0] = mac[0]&^1 | 2
	return mac
}
