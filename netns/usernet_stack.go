//go:build !skiff_local

package netns

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// usernetMAC is the gateway's link address, libslirp's (52:55 then the
// gateway's IPv4 address) for 10.0.2.2.
const usernetMAC = tcpip.LinkAddress("\x52\x55\x0a\x00\x02\x02")

const usernetNIC tcpip.NICID = 1

// usernetStack is gVisor's stack on the packet socket fd, and the flows it
// relays.
type usernetStack struct {
	s  *stack.Stack
	ep stack.LinkEndpoint
	fd int
	// wake, when set, sends the link's reader a frame (see stopReading).
	wake func()

	mu     sync.Mutex
	flows  map[io.Closer]struct{}
	closed bool
	wg     sync.WaitGroup // the relays' goroutines
}

// startStack runs a stack on fd that answers ARP for the gateway and DNS
// addresses and hands every TCP connection and UDP flow of the container to
// policy. It owns fd from then on.
func startStack(fd int, l usernetLayout, mtu int, policy *usernetPolicy) (*usernetStack, error) {
	ep, err := fdbased.New(&fdbased.Options{
		FDs:            []int{fd},
		MTU:            uint32(mtu),
		EthernetHeader: true,
		Address:        usernetMAC,
		// The frames come over a veth from the container's kernel, whose
		// checksums are left to "hardware" (there is none): nothing can
		// corrupt them on the way, and they are not filled in.
		RXChecksumOffload:  true,
		PacketDispatchMode: fdbased.RecvMMsg,
	})
	if err != nil {
		return nil, err
	}
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol},
	})
	u := &usernetStack{s: s, ep: ep, fd: fd, flows: map[io.Closer]struct{}{}}
	if err := u.configure(ep, l); err != nil {
		s.Destroy()
		return nil, err
	}
	// The container's flows go to any address: the stack takes packets for
	// every destination (promiscuous) and answers from it (spoofing).
	s.SetPromiscuousMode(usernetNIC, true)
	s.SetSpoofing(usernetNIC, true)
	s.SetTransportProtocolHandler(tcp.ProtocolNumber,
		tcp.NewForwarder(s, 0, usernetMaxPendingTCP, func(r *tcp.ForwarderRequest) { u.forwardTCP(r, policy) }).HandlePacket)
	s.SetTransportProtocolHandler(udp.ProtocolNumber,
		udp.NewForwarder(s, func(r *udp.ForwarderRequest) { u.forwardUDP(r, policy) }).HandlePacket)
	return u, nil
}

// configure adds the NIC with the gateway's and DNS addresses (the ones
// ARP answers for) and a route to the container's subnet.
func (u *usernetStack) configure(ep stack.LinkEndpoint, l usernetLayout) error {
	own := []tcpip.Address{tcpip.AddrFrom4(l.gateway.As4()), tcpip.AddrFrom4(l.dns.As4())}
	if err := u.s.CreateNIC(usernetNIC, newEchoFilter(ep, own...)); err != nil {
		return errors.New(err.String())
	}
	for _, a := range own {
		pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: a.WithPrefix()}
		if err := u.s.AddProtocolAddress(usernetNIC, pa, stack.AddressProperties{}); err != nil {
			return fmt.Errorf("address %s: %s", a, err)
		}
	}
	sub, err := tcpip.NewSubnet(tcpip.AddrFrom4(l.subnet.Addr().As4()),
		tcpip.MaskFromBytes(net4Mask(l.subnet.Bits())))
	if err != nil {
		return err
	}
	u.s.SetRouteTable([]tcpip.Route{{Destination: sub, NIC: usernetNIC}})
	return nil
}

func net4Mask(bits int) []byte {
	m := ^uint32(0) << (32 - bits)
	return []byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}

// track registers a flow's end to close with the stack; false when the
// stack is closing, and then c is closed at once.
func (u *usernetStack) track(c io.Closer) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		c.Close()
		return false
	}
	u.flows[c] = struct{}{}
	return true
}

func (u *usernetStack) untrack(c io.Closer) {
	u.mu.Lock()
	delete(u.flows, c)
	u.mu.Unlock()
}

// close ends every flow, the link's reader, then the stack, and closes
// fd. The reader must end first (see stopReading); linkGone says it is
// ending already: the device it reads was deleted, which failed its socket
// (ENETDOWN).
func (u *usernetStack) close(linkGone bool) error {
	u.mu.Lock()
	u.closed = true
	for c := range u.flows {
		c.Close()
	}
	u.mu.Unlock()
	if !linkGone {
		if err := u.stopReading(); err != nil {
			return err
		}
	}
	u.ep.Wait()
	u.s.Destroy()
	u.wg.Wait()
	return unix.Close(u.fd)
}

// stopReading ends the link's reader whose device is still there. It
// must end before the stack removes the NIC: fdbased's removal holds the endpoint's lock while it waits for its
// reader, which takes that lock after each batch of frames, so a frame in
// flight at that moment would hang Close for ever. Putting /dev/null in
// the socket's place (not closing it, whose number could be reused at
// once) makes the reader's next receive fail, which ends it.
//
// The reader sleeps in ppoll on the socket, which the dup3 does not wake:
// only the next frame does, which could be seconds away (a container's
// exit waited that long). wake sends it one from the container's side.
func (u *usernetStack) stopReading() error {
	null, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(null)
	if err := unix.Dup3(null, u.fd, unix.O_CLOEXEC); err != nil {
		return err
	}
	if u.wake != nil {
		u.wake()
	}
	return nil
}
