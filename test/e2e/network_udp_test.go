package e2e

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// udpPorts are the ports udpPort gave, never given twice: the kernel may
// give a port just closed to the next bind, a parallel test's.
var udpPorts sync.Map

// udpPort is a UDP port free on the host now, on every address.
func udpPort(t testing.TB) int {
	t.Helper()
	for {
		c, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if _, dup := udpPorts.LoadOrStore(port, true); !dup {
			return port
		}
	}
}

// udpAsk sends msg to addr from the host until an answer comes (the
// container's server needs a moment), and returns it.
func udpAsk(t testing.TB, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return udpAskOn(t, c, msg)
}

// udpAskOn is udpAsk from the socket c, connected to the server.
func udpAskOn(t testing.TB, c net.Conn, msg string) string {
	t.Helper()
	addr := c.RemoteAddr()
	buf := make([]byte, 65536)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if _, err := c.Write([]byte(msg)); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("UDP to %s: %v", addr, err)
		}
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil {
			return string(buf[:n])
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			time.Sleep(100 * time.Millisecond)
		} else if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("UDP from %s: %v", addr, err)
		}
	}
	t.Fatalf("UDP %q to %s from the host (port %s): no answer in 15s", msg, addr, c.LocalAddr())
	return ""
}

// udpReplier answers every datagram to addr on the host with the address
// it came from, until the test ends, and returns the port it serves.
func udpReplier(t testing.TB, addr string) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			_, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			c.WriteTo([]byte(from.String()), from)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// echoFrom splits udptool echo's answer "MSG from IP:PORT" and checks MSG.
func echoFrom(t testing.TB, answer, msg string) netip.AddrPort {
	t.Helper()
	rest, ok := strings.CutPrefix(answer, msg+" from ")
	ap, err := netip.ParseAddrPort(rest)
	if !ok || err != nil {
		t.Fatalf("answer %q: want %q from IP:PORT", answer, msg)
	}
	return ap
}

// UDP published ports both ways, rootful and rootless: the container's
// echo server answers the host through -p PORT:80/udp, a range and a
// random port; a container reaches a UDP server on the host; and the
// source addresses each side sees are the ones docs/networking.md states.
func TestNetworkPublishUDP(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		setup(t, s)
		img := s.LoadUDPTool()

		port := strconv.Itoa(udpPort(t))
		s.Run("run", "-d", "--name", "echo", "-p", port+":80/udp", img, "udptool", "echo", "80").MustSucceed(t)
		client, err := net.Dial("udp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		from := echoFrom(t, udpAskOn(t, client, "ping"), "ping")
		// Rootless, the port driver's child sends each client's datagrams
		// from a socket of its own on the container's loopback: the
		// client's address is lost. Rootful, a loopback client is
		// masqueraded as the bridge's gateway, as for TCP, and keeps its
		// port.
		t.Logf("the container saw the host's UDP client %s as %s", client.LocalAddr(), from)
		if s.Rootless() {
			if from.Addr().String() != "127.0.0.1" {
				t.Errorf("the container saw the host's UDP client as %s, want 127.0.0.1", from)
			}
		} else if want := inspectString(t, s, "echo", "NetworkSettings.Gateway") + ":" + strconv.Itoa(client.LocalAddr().(*net.UDPAddr).Port); from.String() != want {
			t.Errorf("the container saw the host's UDP client as %s, want %s", from, want)
		}
		s.Run("port", "echo").Assert(t, Expect{Stdout: "80/udp -> 0.0.0.0:" + port})
		if row := psRow(t, s, "echo"); !strings.Contains(row, "0.0.0.0:"+port+"->80/udp") {
			t.Errorf("ps PORTS: %q", row)
		}
		// A second client is a second flow, answered too.
		echoFrom(t, udpAsk(t, "127.0.0.1:"+port, "again"), "again")
		s.Run("rm", "-f", "echo").MustSucceed(t)
		if c, err := net.ListenPacket("udp4", "127.0.0.1:"+port); err != nil {
			t.Errorf("host port %s/udp after rm -f: %v", port, err)
		} else {
			c.Close()
		}

		// A range, each host port to its own container port.
		p0 := udpPort(t)
		for p0 == 65535 || !udpFree(p0+1) {
			p0 = udpPort(t)
		}
		r0, r1 := strconv.Itoa(p0), strconv.Itoa(p0+1)
		s.Run("run", "-d", "--name", "range", "-p", r0+"-"+r1+":80-81/udp", img, "sh", "-c",
			"udptool echo 80 & exec udptool echo 81").MustSucceed(t)
		echoFrom(t, udpAsk(t, "127.0.0.1:"+r0, "to80"), "to80")
		echoFrom(t, udpAsk(t, "127.0.0.1:"+r1, "to81"), "to81")
		s.Run("port", "range", "81/udp").Assert(t, Expect{Stdout: "0.0.0.0:" + r1})

		// -p 80/udp takes a free host port, which port shows.
		s.Run("run", "-d", "--name", "random", "-p", "80/udp", img, "udptool", "echo", "80").MustSucceed(t)
		addr := s.Run("port", "random", "80/udp").MustSucceed(t).Out()
		_, p, err := net.SplitHostPort(addr)
		if n, _ := strconv.Atoi(p); err != nil || n == 0 {
			t.Fatalf("port random 80/udp printed %q", addr)
		}
		echoFrom(t, udpAsk(t, "127.0.0.1:"+p, "rnd"), "rnd")
		s.Run("rm", "-f", "range", "random").MustSucceed(t)

		// Container to host: rootless through 10.0.2.2 (allow_host_loopback)
		// to the host's loopback, where the server sees the monitor's socket
		// (127.0.0.1); rootful through the bridge's gateway, where it sees
		// the container's own address.
		listen, network := "127.0.0.1:0", []string{"--network", "slirp4netns:allow_host_loopback=true"}
		if !s.Rootless() {
			listen, network = "0.0.0.0:0", nil
		}
		hp := strconv.Itoa(udpReplier(t, listen))
		args := append(append([]string{"run", "--rm"}, network...), img, "sh", "-c",
			"udptool send host.containers.internal:"+hp+" hello && ip -4 -o addr show scope global")
		out := s.Run(args...).MustSucceed(t).Lines()
		ap, err := netip.ParseAddrPort(out[0])
		if err != nil {
			t.Fatalf("the container's udptool send printed %q", out)
		}
		want := "127.0.0.1"
		if !s.Rootless() { // the container's own address, from ip addr
			f := strings.Fields(out[len(out)-1])
			want, _, _ = strings.Cut(f[3], "/")
		}
		t.Logf("the host's UDP server saw the container as %s", ap)
		if ap.Addr().String() != want {
			t.Errorf("the host's UDP server saw the container as %s, want %s (%q)", ap, want, out)
		}
	})
}

// udpFree says whether UDP port p is free on the host's loopback.
func udpFree(p int) bool {
	c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p))
	if err == nil {
		c.Close()
	}
	return err == nil
}

// A UDP client that keeps one socket (as a DNS or game client does) gets
// to the container that publishes the port now: not to the host, where
// its datagrams went before the port was published, nor to the container
// that published it before (rootful, the kernel's connection tracking
// remembers a flow's first destination until the flow is idle).
func TestNetworkPublishUDPFlows(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		setup(t, s)
		img := s.LoadUDPTool()
		port := strconv.Itoa(udpPort(t))
		c, err := net.Dial("udp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Nothing listens yet: the datagrams are refused on the host.
		buf := make([]byte, 100)
		for i := 0; i < 3; i++ {
			c.Write([]byte("early"))
			c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if n, err := c.Read(buf); err == nil {
				t.Fatalf("an answer %q before any container published %s/udp", buf[:n], port)
			}
		}
		s.Run("run", "-d", "--name", "first", "-p", port+":80/udp", img, "udptool", "echo", "80").MustSucceed(t)
		echoFrom(t, udpAskOn(t, c, "to-first"), "to-first")
		s.Run("rm", "-f", "first").MustSucceed(t)
		// The second container answers on another container port only.
		s.Run("run", "-d", "--name", "second", "-p", port+":81/udp", img, "udptool", "echo", "81").MustSucceed(t)
		echoFrom(t, udpAskOn(t, c, "to-second"), "to-second")
		s.Run("rm", "-f", "second").MustSucceed(t)
	})
}
