package netns

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

type portHandler struct {
	handler string
	source  string // the client's address as the container sees a loopback client
}

// portHandlers are the handlers to test: slirp4netns's own only where it
// runs (the user-mode network has rootlesskit's alone).
func portHandlers() []portHandler {
	hs := []portHandler{{PortHandlerRootlesskit, "127.0.0.1"}}
	if tunUsable() {
		hs = append(hs, portHandler{PortHandlerSlirp4netns, SlirpGateway})
	}
	return hs
}

// TestPublishTCP: a server in the namespace is reached at 127.0.0.1 on the
// published port, and Close frees the port at once.
func TestPublishTCP(t *testing.T) {
	for _, h := range portHandlers() {
		t.Run(h.handler, func(t *testing.T) {
			pid := targetNS(t)
			serveTCPInNS(t, pid, 8080)
			hostPort := freePort(t)
			p := PortMapping{HostIP: "127.0.0.1", HostPort: hostPort, ContainerPort: 8080, Protocol: "tcp"}
			n := setup(t, Config{Mode: ModeSlirp4netns, Slirp: &SlirpOptions{PortHandler: h.handler}, Ports: []PortMapping{p}}, pid)
			addr := "127.0.0.1:" + strconv.Itoa(hostPort)
			for range 3 {
				if got := askTCP(t, "", addr); got != h.source {
					t.Fatalf("the container saw the client as %q, want %q", got, h.source)
				}
			}
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("the port right after Close: %v", err)
			}
			ln.Close()
		})
	}
}

// TestPublishUDP: datagrams from a loopback client go to the container's
// port and its replies come back; the container sees the client as the
// handler's source.
func TestPublishUDP(t *testing.T) {
	for _, h := range portHandlers() {
		t.Run(h.handler, func(t *testing.T) {
			pid := targetNS(t)
			serveUDPInNS(t, pid, 5353)
			hostPort := freePort(t)
			p := PortMapping{HostIP: "127.0.0.1", HostPort: hostPort, ContainerPort: 5353, Protocol: "udp"}
			// slirp4netns drops UDP replies to the host's loopback unless
			// it may reach it (see slirpProcess.publish).
			opts := &SlirpOptions{PortHandler: h.handler, AllowHostLoopback: h.handler == PortHandlerSlirp4netns}
			n := setup(t, Config{Mode: ModeSlirp4netns, Slirp: opts, Ports: []PortMapping{p}}, pid)
			c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(hostPort))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, 1500)
			for _, msg := range []string{"ping", "pong"} {
				// UDP may lose a datagram (slirp4netns's first one, while
				// it resolves the container's MAC): send again, as a
				// client would.
				var k int
				for try := 0; ; try++ {
					if _, err := c.Write([]byte(msg)); err != nil {
						t.Fatal(err)
					}
					c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
					if k, err = c.Read(buf); err == nil {
						break
					}
					if try == 10 {
						t.Fatalf("no answer to %q: %v", msg, err)
					}
				}
				if got, want := string(buf[:k]), "echo "+msg+" from "+h.source; got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
			n.Close()
			pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(hostPort))
			if err != nil {
				t.Fatalf("the port right after Close: %v", err)
			}
			pc.Close()
		})
	}
}

// TestPublishPortInUse: a host port in use fails Setup, naming the port,
// and leaves no slirp4netns and no tap0 behind.
func TestPublishPortInUse(t *testing.T) {
	for _, h := range portHandlers() {
		for _, proto := range []string{"tcp", "udp"} {
			t.Run(h.handler+"/"+proto, func(t *testing.T) {
				pid := targetNS(t)
				port := freePort(t)
				portStr := strconv.Itoa(port)
				var busy interface{ Close() error }
				var err error
				if proto == "tcp" {
					busy, err = net.Listen("tcp", "127.0.0.1:"+portStr)
				} else {
					busy, err = net.ListenPacket("udp", "127.0.0.1:"+portStr)
				}
				if err != nil {
					t.Fatal(err)
				}
				defer busy.Close()
				p := PortMapping{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 80, Protocol: proto}
				_, err = Setup(Config{Mode: ModeSlirp4netns, Slirp: &SlirpOptions{PortHandler: h.handler},
					StateDir: t.TempDir(), Ports: []PortMapping{p}}, pid)
				if err == nil || !strings.Contains(err.Error(), "host port "+portStr+"/"+proto+" is already in use") {
					t.Fatalf("Setup with port %d in use: %v", port, err)
				}
				if n := slirpChildren(t); n != 0 {
					t.Fatalf("%d slirp4netns left", n)
				}
				if err := inNS(t, pid, func() error { _, err := net.InterfaceByName("tap0"); return err }); err == nil {
					t.Fatal("a failed Setup left tap0")
				}
			})
		}
	}
}

// TestPortErrorPrivileged: a port below net.ipv4.ip_unprivileged_port_start
// that this process may not bind gets the error naming the sysctl. As root
// of the host, which may bind any port, there is nothing to check.
func TestPortErrorPrivileged(t *testing.T) {
	start := unprivilegedPortStart()
	if start == 0 {
		t.Skip("net.ipv4.ip_unprivileged_port_start is 0: every port is unprivileged")
	}
	p := PortMapping{HostIP: "127.0.0.1", HostPort: start - 1, ContainerPort: 80, Protocol: "tcp"}
	err := probeBind(p)
	if err == nil {
		t.Skipf("this process may bind port %d", p.HostPort)
	}
	msg := portError(p, err).Error()
	if !strings.Contains(msg, "net.ipv4.ip_unprivileged_port_start ("+strconv.Itoa(start)+")") || !strings.Contains(msg, strconv.Itoa(p.HostPort)) {
		t.Fatalf("error: %s", msg)
	}
	t.Log(msg)
}

// TestPublishKeepsClientAddress: a TCP client from a non-loopback address
// is seen with that address in the container (rootlesskit's transparent
// mode, which needs nft or iptables). The test runs itself again in a new
// network namespace of its own holding that address, so no packet leaves
// namespaces it made.
func TestPublishKeepsClientAddress(t *testing.T) {
	const client = "198.51.100.1" // TEST-NET-2, only on the loopback device of the test's namespace
	if os.Getenv("SKIFF_NETNS_CLIENT_NS") == "" {
		cmd := exec.Command("unshare", "--net", os.Args[0], "-test.v", "-test.run=^TestPublishKeepsClientAddress$")
		cmd.Env = append(os.Environ(), "SKIFF_NETNS_CLIENT_NS=1")
		out, err := cmd.CombinedOutput()
		t.Logf("%s", out)
		if err != nil || !strings.Contains(string(out), "--- PASS: TestPublishKeepsClientAddress") {
			t.Fatalf("in a namespace of its own: %v", err)
		}
		return
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", client + "/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	want := client
	_, nftErr := exec.LookPath("nft")
	_, iptErr := exec.LookPath("iptables")
	if nftErr != nil && iptErr != nil {
		want = "127.0.0.1" // the documented fallback
	}
	pid := targetNS(t)
	serveTCPInNS(t, pid, 8080)
	p := PortMapping{HostPort: 8080, ContainerPort: 8080, Protocol: "tcp"}
	setup(t, Config{Mode: ModeSlirp4netns, Ports: []PortMapping{p}}, pid)
	for range 3 {
		if got := askTCP(t, client, client+":8080"); got != want {
			t.Fatalf("the container saw the client as %q, want %q", got, want)
		}
	}
}
