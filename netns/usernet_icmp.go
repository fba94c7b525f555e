//go:build !skiff_local

package netns

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// echoFilter lets through ICMP echo requests to the stack's own addresses
// only. The stack takes packets for every address (promiscuous) and would
// answer a ping to any of them itself, telling the container that hosts
// are up that it never reached; there is no ICMP forwarder, so such pings
// go unanswered, as to a host that is down.
type echoFilter struct {
	nested.Endpoint
	own []tcpip.Address
}

func newEchoFilter(child stack.LinkEndpoint, own ...tcpip.Address) *echoFilter {
	f := &echoFilter{own: own}
	f.Endpoint.Init(child, f)
	return f
}

// DeliverNetworkPacket implements stack.NetworkDispatcher.
func (f *echoFilter) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if proto == header.IPv4ProtocolNumber && f.foreignEcho(pkt) {
		return
	}
	f.Endpoint.DeliverNetworkPacket(proto, pkt)
}

func (f *echoFilter) foreignEcho(pkt *stack.PacketBuffer) bool {
	b, ok := pkt.Data().PullUp(header.IPv4MinimumSize)
	if !ok {
		return false
	}
	ip := header.IPv4(b)
	hl := int(ip.HeaderLength())
	if ip.Protocol() != uint8(header.ICMPv4ProtocolNumber) || hl < header.IPv4MinimumSize {
		return false
	}
	b, ok = pkt.Data().PullUp(hl + 1)
	if !ok || header.ICMPv4Type(b[hl]) != header.ICMPv4Echo {
		return false
	}
	dst := header.IPv4(b).DestinationAddress()
	for _, a := range f.own {
		if dst == a {
			return false
		}
	}
	return true
}
