package netns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// setupUser is the user-mode network with cfg for the namespace of pid,
// whether or not slirp4netns could run, closed at the test's end.
func setupUser(t testing.TB, cfg Config, pid int) *Network {
	t.Helper()
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	var opts SlirpOptions
	if cfg.Slirp != nil {
		opts = *cfg.Slirp
	}
	n := &Network{}
	err := setupUsernet(n, opts, pid, errors.New("forced by the test"))
	if err == nil {
		err = publishPorts(n, cfg, opts, pid, nil)
	}
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestUsernetDNS: 10.0.2.3 answers over UDP and TCP from the upstream
// resolver, here one the test runs on the host's loopback, and the
// namespace's lookups reach nothing else.
func TestUsernetDNS(t *testing.T) {
	upstream, queries := serveDNS(t, "web.skiff.test.", netip.MustParseAddr("192.0.2.80"))
	pid := targetNS(t)
	setupUser(t, Config{Mode: ModeSlirp4netns, Slirp: &SlirpOptions{upstreamDNS: upstream}}, pid)
	for _, network := range []string{"udp", "tcp"} {
		var got []netip.Addr
		var rcode dnsmessage.RCode
		err := inNS(t, pid, func() (err error) {
			got, _, err = askDNS(network, SlirpDNS+":53", "web.skiff.test.")
			if err == nil {
				_, rcode, err = askDNS(network, SlirpDNS+":53", "other.skiff.test.")
			}
			return err
		})
		if err != nil {
			t.Fatalf("DNS over %s at %s: %v", network, SlirpDNS, err)
		}
		if len(got) != 1 || got[0].String() != "192.0.2.80" || rcode != dnsmessage.RCodeNameError {
			t.Fatalf("DNS over %s: %v and %v, want 192.0.2.80 and NXDOMAIN", network, got, rcode)
		}
	}
	if q := queries.Load(); q != 4 {
		t.Fatalf("the upstream resolver had %d queries, want 4", q)
	}
}

// TestUsernetUDP: a UDP server on the host's loopback answers the
// namespace at 10.0.2.2 (replies come from 10.0.2.2), and a server in the
// namespace answers the host's datagrams, without loss on a quiet
// loopback.
func TestUsernetUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte("host got "), buf[:n]...), addr)
		}
	}()
	pid := targetNS(t)
	serveUDPInNS(t, pid, 5353)
	hostPort := freePort(t)
	p := PortMapping{HostIP: "127.0.0.1", HostPort: hostPort, ContainerPort: 5353, Protocol: "udp"}
	setupUser(t, Config{Mode: ModeSlirp4netns, Slirp: &SlirpOptions{AllowHostLoopback: true}, Ports: []PortMapping{p}}, pid)
	gw := net.JoinHostPort(SlirpGateway, strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port))
	big := strings.Repeat("x", 60000) // one datagram over a 65520 MTU
	err = inNS(t, pid, func() error {
		c, err := net.ListenPacket("udp", SlirpAddress+":0")
		if err != nil {
			return err
		}
		defer c.Close()
		to, _ := net.ResolveUDPAddr("udp", gw)
		buf := make([]byte, 65536)
		for _, msg := range []string{"ping", big} {
			c.WriteTo([]byte(msg), to)
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return err
			}
			if from.String() != gw || string(buf[:n]) != "host got "+msg {
				return errors.New("the reply was " + strconv.Itoa(n) + " bytes from " + from.String())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("UDP from the namespace to %s: %v", gw, err)
	}
	c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(hostPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1500)
	c.Write([]byte("hello"))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "echo hello from 127.0.0.1" {
		t.Fatalf("UDP to the published port: %q, %v", buf[:n], err)
	}
}

// TestUsernetRefused: what the network does not forward is refused at
// once, as by a closed port, rather than left to time out: the host's
// loopback at 10.0.2.2 without AllowHostLoopback, a port of 10.0.2.3 other
// than DNS.
func TestUsernetRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	pid := targetNS(t)
	setupUser(t, Config{Mode: ModeSlirp4netns}, pid)
	for _, addr := range []string{SlirpGateway + ":" + port, SlirpDNS + ":" + port} {
		err := inNS(t, pid, func() error {
			c, err := net.DialTimeout("tcp", addr, 3*time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("%s from the namespace: %v, want connection refused", addr, err)
		}
	}
}

// TestUsernetOptions: the CIDR and MTU options give slirp4netns's layout
// for them, and a large transfer crosses the smaller MTU intact both ways;
// bad ones fail before anything is made.
func TestUsernetOptions(t *testing.T) {
	pid := targetNS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	opts := &SlirpOptions{CIDR: "10.0.3.0/24", MTU: 1500, AllowHostLoopback: true}
	setupUser(t, Config{Mode: ModeSlirp4netns, Slirp: opts}, pid)
	checkTap(t, pid, "10.0.3.100/24", 1500)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	err = inNS(t, pid, func() error {
		c, err := net.DialTimeout("tcp", "10.0.3.2:"+strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go func() { c.Write(data); c.(*net.TCPConn).CloseWrite() }()
		got, err := io.ReadAll(c)
		if err == nil && !bytes.Equal(got, data) {
			err = errors.New("the echo of 1 MiB came back as " + strconv.Itoa(len(got)) + " different bytes")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []SlirpOptions{{CIDR: "10.0.3.0/28"}, {CIDR: "fd00::/64"}, {MTU: 70000}, {OutboundAddr: "no-such-if0"}} {
		other := targetNS(t)
		n := &Network{}
		err := setupUsernet(n, bad, other, errors.New("forced by the test"))
		n.Close()
		if err == nil || !strings.Contains(err.Error(), "slirp4netns ") {
			t.Fatalf("options %+v: %v", bad, err)
		}
		if err := inNS(t, other, func() error { _, err := net.InterfaceByName("tap0"); return err }); err == nil {
			t.Fatalf("options %+v left tap0", bad)
		}
	}
}

// serveDNS runs a resolver on the host's loopback, UDP and TCP on one
// port, that knows name as addr and nothing else. It returns its address
// and the count of queries it answered.
func serveDNS(t *testing.T, name string, addr netip.Addr) (string, *atomic.Int32) {
	t.Helper()
	var queries atomic.Int32
	answer := func(q []byte) []byte {
		var m dnsmessage.Message
		if err := m.Unpack(q); err != nil || len(m.Questions) != 1 {
			return nil
		}
		queries.Add(1)
		m.Header.Response, m.Header.RecursionAvailable = true, true
		if m.Questions[0].Name.String() == name && m.Questions[0].Type == dnsmessage.TypeA {
			m.Answers = []dnsmessage.Resource{{
				Header: dnsmessage.ResourceHeader{Name: m.Questions[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
				Body:   &dnsmessage.AResource{A: addr.As4()},
			}}
		} else {
			m.Header.RCode = dnsmessage.RCodeNameError
		}
		b, _ := m.Pack()
		return b
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(answer(buf[:n]), from)
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			q, err := readTCPDNS(c)
			if err == nil {
				a := answer(q)
				c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(a))), a...))
			}
			c.Close()
		}
	}()
	return pc.LocalAddr().String(), &queries
}

// askDNS asks server for name's A records over network (udp or tcp), on
// the calling thread (so from the namespace it is in).
func askDNS(network, server, name string) ([]netip.Addr, dnsmessage.RCode, error) {
	q := dnsmessage.Message{Header: dnsmessage.Header{ID: 42, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}}}
	b, err := q.Pack()
	if err != nil {
		return nil, 0, err
	}
	c, err := net.DialTimeout(network, server, 3*time.Second)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if network == "tcp" {
		b = append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
	}
	if _, err := c.Write(b); err != nil {
		return nil, 0, err
	}
	var reply []byte
	if network == "tcp" {
		reply, err = readTCPDNS(c)
	} else {
		buf := make([]byte, 512)
		var n int
		n, err = c.Read(buf)
		reply = buf[:n]
	}
	if err != nil {
		return nil, 0, err
	}
	var m dnsmessage.Message
	if err := m.Unpack(reply); err != nil {
		return nil, 0, err
	}
	var addrs []netip.Addr
	for _, a := range m.Answers {
		if r, ok := a.Body.(*dnsmessage.AResource); ok {
			addrs = append(addrs, netip.AddrFrom4(r.A))
		}
	}
	return addrs, m.Header.RCode, nil
}

func readTCPDNS(c net.Conn) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(c, b)
	return b, err
}

// TestUsernetCloseUnderLoad: Close while the container streams to the
// host and floods a port that goes nowhere returns at once and ends the
// host's side of the flow (gVisor's link removal would hang with a frame in
// flight, see stopReading).
func TestUsernetCloseUnderLoad(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	gw := net.JoinHostPort(SlirpGateway, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	for range 5 {
		pid := targetNS(t)
		n := setupUser(t, Config{Mode: ModeSlirp4netns, Slirp: &SlirpOptions{AllowHostLoopback: true}}, pid)
		var c net.Conn
		if err := inNS(t, pid, func() (err error) { c, err = net.Dial("tcp", gw); return err }); err != nil {
			t.Fatal(err)
		}
		go func() {
			buf := make([]byte, 1<<20)
			for {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
		var flood net.Conn
		if err := inNS(t, pid, func() (err error) { flood, err = net.Dial("udp", SlirpDNS+":9"); return err }); err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				if _, err := flood.Write([]byte("frame")); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
					return
				}
			}
		}()
		h, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		hostDone := make(chan struct{})
		go func() { io.Copy(io.Discard, h); close(hostDone) }()
		time.Sleep(50 * time.Millisecond)
		closed := make(chan error, 1)
		go func() { closed <- n.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("Close hangs while the container sends")
		}
		select {
		case <-hostDone:
		case <-time.After(3 * time.Second):
			t.Fatal("the host's side of the flow outlived Close")
		}
		c.Close()
		h.Close()
		flood.Close()
	}
}

// TestUsernetPing: the gateway and DNS addresses answer a ping, an address
// the network cannot reach (TEST-NET-1, which no packet leaves the stack
// for) does not.
func TestUsernetPing(t *testing.T) {
	pid := targetNS(t)
	setupUser(t, Config{Mode: ModeSlirp4netns}, pid)
	for addr, want := range map[string]bool{SlirpGateway: true, SlirpDNS: true, "192.0.2.1": false} {
		var got bool
		err := inNS(t, pid, func() error {
			c, err := net.ListenPacket("ip4:icmp", SlirpAddress)
			if err != nil {
				return err
			}
			defer c.Close()
			echo := []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'}
			sum := uint32(0)
			for i := 0; i < len(echo); i += 2 {
				sum += uint32(echo[i])<<8 | uint32(echo[i+1])
			}
			sum = (sum >> 16) + (sum & 0xffff)
			binary.BigEndian.PutUint16(echo[2:], ^uint16(sum+(sum>>16)))
			if _, err := c.WriteTo(echo, &net.IPAddr{IP: net.ParseIP(addr)}); err != nil {
				return err
			}
			buf := make([]byte, 1500)
			for c.SetReadDeadline(time.Now().Add(time.Second)); ; {
				n, from, err := c.ReadFrom(buf)
				if err != nil {
					return nil // no reply
				}
				if from.String() == addr && n >= 8 && buf[0] == 0 {
					got = true
					return nil
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("a ping to %s answered: %v, want %v", addr, got, want)
		}
	}
}
