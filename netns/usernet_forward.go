//go:build !skiff_local

package netns

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const (
	// usernetDialTimeout bounds a host connection for a container's SYN,
	// which waits (its retransmissions are absorbed) meanwhile.
	usernetDialTimeout = 20 * time.Second
	// usernetMaxPendingTCP bounds the connections being dialled at once.
	usernetMaxPendingTCP = 256
	// A UDP flow's host socket is closed after this long without a
	// datagram either way (libslirp waits 240 s; DNS answers come at once).
	usernetUDPIdle    = 60 * time.Second
	usernetDNSUDPIdle = 10 * time.Second
)

// usernetPolicy decides where the container's flows go on the host.
type usernetPolicy struct {
	layout            usernetLayout
	allowHostLoopback bool
	outbound          netip.Addr // outbound sockets' address; none: the kernel's choice
	upstreamDNS       string     // host:port for 10.0.2.3; "": the host's first resolver
}

// target is the host address for a flow to dst, false to refuse it: the
// gateway is the host's loopback only with AllowHostLoopback, the DNS
// address forwards port 53 to the host's resolver, and what is neither
// the outside nor those two (the rest of the subnet, loopback, link-local
// with cloud metadata, multicast, broadcast) goes nowhere.
func (p *usernetPolicy) target(dst netip.AddrPort) (netip.AddrPort, bool) {
	a := dst.Addr()
	switch {
	case a == p.layout.gateway:
		if !p.allowHostLoopback {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), dst.Port()), true
	case a == p.layout.dns:
		if dst.Port() != 53 {
			return netip.AddrPort{}, false
		}
		up, err := p.dnsServer()
		return up, err == nil
	case p.layout.subnet.Contains(a), a.IsLoopback(), a.IsLinkLocalUnicast(), a.IsMulticast(),
		a.IsUnspecified(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return netip.AddrPort{}, false
	}
	return dst, true
}

// dnsServer is where 10.0.2.3:53 goes.
func (p *usernetPolicy) dnsServer() (netip.AddrPort, error) {
	if p.upstreamDNS != "" {
		return netip.ParseAddrPort(p.upstreamDNS)
	}
	return hostResolver(resolvConfPath)
}

// dial opens the host's socket for a flow to to.
func (p *usernetPolicy) dial(network string, to netip.AddrPort) (net.Conn, error) {
	d := net.Dialer{Timeout: usernetDialTimeout}
	if p.outbound.IsValid() && !to.Addr().IsLoopback() {
		ip := p.outbound.AsSlice()
		if network == "tcp" {
			d.LocalAddr = &net.TCPAddr{IP: ip}
		} else {
			d.LocalAddr = &net.UDPAddr{IP: ip}
		}
	}
	return d.Dial(network, to.String())
}

func endpointDst(id stack.TransportEndpointID) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(id.LocalAddress.As4()), id.LocalPort)
}

// forwardTCP answers a container's SYN once the host connection is made,
// then relays both ways; a refused or failed one gets a reset, as the
// container would from a closed port.
func (u *usernetStack) forwardTCP(r *tcp.ForwarderRequest, p *usernetPolicy) {
	to, ok := p.target(endpointDst(r.ID()))
	if !ok {
		r.Complete(true)
		return
	}
	host, err := p.dial("tcp", to)
	if err != nil {
		r.Complete(true)
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	r.Complete(false)
	if terr != nil {
		host.Close()
		return
	}
	u.relay(gonet.NewTCPConn(&wq, ep), host, 0)
}

// forwardUDP makes a flow for a datagram the container sent that no flow
// holds yet: an endpoint of the stack connected to the container's socket,
// and a host socket connected to the target, relayed both ways until idle.
// It runs on the stack's receive path, so it dials nothing slow.
func (u *usernetStack) forwardUDP(r *udp.ForwarderRequest, p *usernetPolicy) {
	dst := endpointDst(r.ID())
	to, ok := p.target(dst)
	if !ok {
		return
	}
	host, err := p.dial("udp", to)
	if err != nil {
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		host.Close()
		return
	}
	idle := usernetUDPIdle
	if dst.Addr() == p.layout.dns {
		idle = usernetDNSUDPIdle
	}
	u.relay(gonet.NewUDPConn(&wq, ep), host, idle)
}

// relay copies between the container's end c and the host's end h until
// both directions end (TCP: each end's EOF is passed on as a half close)
// or, with idle > 0, nothing came either way for that long (UDP).
func (u *usernetStack) relay(c, h net.Conn, idle time.Duration) {
	if !u.track(c) {
		h.Close()
		return
	}
	if !u.track(h) {
		u.untrack(c)
		c.Close()
		return
	}
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{}, 2)
	u.wg.Add(3)
	for _, pair := range [][2]net.Conn{{c, h}, {h, c}} {
		go func(dst, src net.Conn) {
			defer u.wg.Done()
			copyFlow(dst, src, idle, &last)
			if cw, ok := dst.(interface{ CloseWrite() error }); ok && idle == 0 {
				cw.CloseWrite()
			}
			done <- struct{}{}
		}(pair[0], pair[1])
	}
	go func() {
		defer u.wg.Done()
		<-done
		if idle > 0 { // a datagram flow ends as a whole
			c.Close()
			h.Close()
		}
		<-done
		c.Close()
		h.Close()
		u.untrack(c)
		u.untrack(h)
	}()
}

// copyFlow copies src to dst. With idle > 0 a read gives up once neither
// direction (last) saw a datagram for idle.
func copyFlow(dst, src net.Conn, idle time.Duration, last *atomic.Int64) {
	if idle == 0 {
		io.Copy(dst, src)
		return
	}
	buf := make([]byte, 65536)
	for {
		src.SetReadDeadline(time.Unix(0, last.Load()).Add(idle))
		n, err := src.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
			if time.Since(time.Unix(0, last.Load())) < idle {
				continue
			}
			return
		}
		if isRefused(err) {
			continue
		}
		if err != nil {
			return
		}
		last.Store(time.Now().UnixNano())
		if _, err := dst.Write(buf[:n]); err != nil && !isRefused(err) {
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isRefused is a host socket's ICMP port unreachable, which does not end
// a UDP flow (the port may open later).
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
