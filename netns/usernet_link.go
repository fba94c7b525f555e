//go:build !skiff_local

package netns

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The veth pair of the user-mode network, both ends in the container's
// namespace: the container's end has slirp4netns's name, so that users and
// tests see the same device either way.
const (
	usernetDevice = "tap0"
	usernetPeer   = "skiffnet0" // the stack's end: no address, read and written raw
)

// makeLink, in the container's namespace, brings lo up, creates the veth
// pair with the container's address and default route on tap0, and
// returns an AF_PACKET socket bound to the peer (the frames the container
// sends and the way to send it frames) and the peer's index.
func makeLink(l usernetLayout, mtu int) (fd, peerIndex int, err error) {
	if lo, err := netlink.LinkByName("lo"); err == nil {
		netlink.LinkSetUp(lo)
	}
	veth := &netlink.Veth{
		// GSO off (one segment per frame): the stack reads whole frames of
		// at most the MTU.
		LinkAttrs: netlink.LinkAttrs{Name: usernetDevice, MTU: mtu, GSOMaxSegs: 1},
		PeerName:  usernetPeer,
		PeerMTU:   uint32(mtu),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return -1, 0, fmt.Errorf("creating %s: %w", usernetDevice, err)
	}
	peer, err := netlink.LinkByName(usernetPeer)
	if err != nil {
		return -1, 0, err
	}
	// The kernel must not speak on the stack's end: IPv6 would send router
	// solicitations and its own link-local traffic into the container.
	os.WriteFile("/proc/sys/net/ipv6/conf/"+usernetPeer+"/disable_ipv6", []byte("1"), 0)
	if err := netlink.LinkSetUp(peer); err != nil {
		return -1, 0, err
	}
	fd, err = packetSocket(peer.Attrs().Index)
	if err != nil {
		return -1, 0, err
	}
	if err := configureTap(l); err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	return fd, peer.Attrs().Index, nil
}

// configureTap gives tap0 slirp4netns's address and default route.
func configureTap(l usernetLayout) error {
	tap, err := netlink.LinkByName(usernetDevice)
	if err != nil {
		return err
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: l.address.AsSlice(), Mask: net.CIDRMask(l.subnet.Bits(), 32)}}
	if err := netlink.AddrAdd(tap, addr); err != nil {
		return fmt.Errorf("%s address %s: %w", usernetDevice, addr, err)
	}
	if err := netlink.LinkSetUp(tap); err != nil {
		return err
	}
	route := &netlink.Route{LinkIndex: tap.Attrs().Index, Gw: l.gateway.AsSlice()}
	if err := netlink.RouteAdd(route); err != nil {
		return fmt.Errorf("%s default route via %s: %w", usernetDevice, l.gateway, err)
	}
	return nil
}

// packetSocket is a raw AF_PACKET socket on the interface ifindex, which
// sees only the frames that come in (the kernel's own outgoing ones, if
// any, are not the container's).
//
// It is made with protocol 0, which receives nothing, and gets ETH_P_ALL
// at the bind: a socket made with a protocol already receives from every
// interface, and rebinding it waits for an RCU grace period (the kernel's
// synchronize_net, about 10 ms) before it takes the new one.
func packetSocket(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("a packet socket on %s: %w", usernetPeer, err)
	}
	err = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	if err == nil {
		err = unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex})
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("a packet socket on %s: %w", usernetPeer, err)
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// deleteIndex deletes the device ifindex of this thread's namespace; one
// already gone is fine.
func deleteIndex(ifindex int) error {
	err := netlink.LinkDel(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}})
	if err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("deleting %s: %w", usernetPeer, err)
	}
	return nil
}

// wakeFrame sends one frame from the container's end of the veth pair to
// the stack's (an IEEE local experimental ethertype, which the stack
// drops): it wakes the stack's reader.
func wakeFrame() error {
	ifc, err := net.InterfaceByName(usernetDevice)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	frame := make([]byte, 60)
	copy(frame, usernetMAC)
	copy(frame[6:], ifc.HardwareAddr)
	frame[12], frame[13] = 0x88, 0xb5
	return unix.Sendto(fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: ifc.Index, Halen: 6})
}
