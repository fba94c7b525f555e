package netns

import (
	"encoding/json"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// container is a helper server on a bridge, as a monitor would set it up.
type container struct {
	*server
	cfg Config
	net *Network
}

func startContainer(t *testing.T, name string, b BridgeConfig, addr string, ports ...PortMapping) *container {
	t.Helper()
	b.ContainerID, b.Address = randomID(), addr
	c := &container{server: startServer(t, name), cfg: Config{Mode: ModeBridge, Bridges: []BridgeConfig{b}, Ports: ports}}
	n, err := Setup(c.cfg, c.pid)
	if err != nil {
		t.Fatalf("Setup %s: %v", name, err)
	}
	c.net = n
	t.Cleanup(func() { c.net.Close() })
	return c
}

// startOutside makes a network beyond the host: a server "outside" at
// 192.0.2.2, reached through the host's ext0 at 192.0.2.1. It routes the
// containers' subnets back to the host, so only the host's rules, not a
// missing route, keep it from containers that should not reach it.
func startOutside(t *testing.T) *server {
	s := startServer(t, "outside")
	pid := s.pid
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "ext0"
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "eth0", PeerNamespace: netlink.NsPid(pid)}); err != nil {
		t.Fatal(err)
	}
	ext, err := netlink.LinkByName("ext0")
	must(t, err)
	must(t, netlink.AddrAdd(ext, mustAddr(t, "192.0.2.1/24")))
	must(t, netlink.LinkSetUp(ext))
	h := handleAt(t, pid)
	for _, name := range []string{"lo", "eth0"} {
		l, err := h.LinkByName(name)
		must(t, err)
		must(t, h.LinkSetUp(l))
		if name == "eth0" {
			must(t, h.AddrAdd(l, mustAddr(t, "192.0.2.2/24")))
			_, back, _ := net.ParseCIDR("10.77.0.0/16")
			must(t, h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: back, Gw: net.ParseIP("192.0.2.1")}))
		}
	}
	return s
}

func TestBridge(t *testing.T) {
	if !inOwnNetns(t) {
		return
	}
	lo, err := netlink.LinkByName("lo") // up on a host, down in a new namespace
	must(t, err)
	must(t, netlink.LinkSetUp(lo))
	outside := startOutside(t)
	netA := BridgeConfig{Name: "skt0", Subnet: "10.77.0.0/24", Gateway: "10.77.0.1", MTU: 1400}
	netB := BridgeConfig{Name: "skt1", Subnet: "10.77.1.0/24", Gateway: "10.77.1.1"}
	netI := BridgeConfig{Name: "skt2", Subnet: "10.77.2.0/24", Gateway: "10.77.2.1", Internal: true}
	withMAC := netA
	withMAC.MAC = "02:42:0a:4d:00:02"
	a := startContainer(t, "A", withMAC, "10.77.0.2",
		PortMapping{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		PortMapping{HostPort: 8081, ContainerPort: 80, Protocol: "udp"},
		PortMapping{HostIP: "127.0.0.1", HostPort: 8082, ContainerPort: 80, Protocol: "tcp"})
	a2 := startContainer(t, "A2", netA, "10.77.0.3")
	b := startContainer(t, "B", netB, "10.77.1.2")
	internal := startContainer(t, "I", netI, "10.77.2.2")

	t.Run("eth0", func(t *testing.T) {
		h := handleAt(t, a.pid)
		eth, err := h.LinkByName("eth0")
		must(t, err)
		if got := eth.Attrs().HardwareAddr.String(); got != withMAC.MAC || eth.Attrs().MTU != 1400 || eth.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("eth0: MAC %s, MTU %d, flags %v; want %s, 1400, up", got, eth.Attrs().MTU, eth.Attrs().Flags, withMAC.MAC)
		}
		addrs, err := h.AddrList(eth, netlink.FAMILY_V4)
		must(t, err)
		if len(addrs) != 1 || addrs[0].IPNet.String() != "10.77.0.2/24" {
			t.Errorf("eth0 addresses %v, want 10.77.0.2/24", addrs)
		}
		if gw := defaultGateway(t, h); gw != "10.77.0.1" {
			t.Errorf("default route via %q, want 10.77.0.1", gw)
		}
		if gw := defaultGateway(t, handleAt(t, internal.pid)); gw != "" {
			t.Errorf("internal network: default route via %s, want none", gw)
		}
		eth2, err := handleAt(t, a2.pid).LinkByName("eth0")
		must(t, err)
		if mac := eth2.Attrs().HardwareAddr.String(); mac != "02:42:0a:4d:00:03" {
			t.Errorf("MAC of 10.77.0.3 without --mac-address: %s, want Docker's 02:42:0a:4d:00:03", mac)
		}
		veth, err := netlink.LinkByName(vethName(a.cfg.Bridges[0].ContainerID, "eth0"))
		must(t, err)
		br, err := netlink.LinkByName("skt0")
		must(t, err)
		if veth.Attrs().MasterIndex != br.Attrs().Index {
			t.Errorf("host veth %s is not on bridge skt0", veth.Attrs().Name)
		}
		if v, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(string(v)) != "1" {
			t.Errorf("ip_forward is %q", v)
		}
	})

	// Published ports, from the host: through loopback (the hairpin
	// masquerades 127.0.0.1 to the gateway) and at the gateway.
	t.Run("published", func(t *testing.T) {
		for _, c := range []struct{ proto, addr, want string }{
			{"tcp", "127.0.0.1:8080", "A 10.77.0.1"},
			{"tcp", "10.77.0.1:8080", "A 10.77.0.1"},
			{"udp", "127.0.0.1:8081", "A 10.77.0.1"},
			{"udp", "10.77.0.1:8081", "A 10.77.0.1"},
			{"tcp", "127.0.0.1:8082", "A 10.77.0.1"},
			{"tcp", "10.77.0.1:8082", ""}, // published on 127.0.0.1 only
		} {
			got, err := exchange(c.proto, c.addr)
			if c.want == "" && err == nil {
				t.Errorf("%s %s answered %q, want no answer", c.proto, c.addr, got)
			} else if c.want != "" && got != c.want {
				t.Errorf("%s %s: %q (%v), want %q", c.proto, c.addr, got, err, c.want)
			}
		}
	})

	t.Run("published from outside keeps the client's address", func(t *testing.T) {
		if got, err := dialFrom(t, outside.pid, "tcp", "192.0.2.1:8080"); got != "A 192.0.2.2" {
			t.Errorf("got %q (%v), want %q", got, err, "A 192.0.2.2")
		}
	})

	t.Run("outbound through NAT", func(t *testing.T) {
		for _, c := range []*container{a, b} {
			if got, err := dialFrom(t, c.pid, "tcp", "192.0.2.2:80"); got != "outside 192.0.2.1" {
				t.Errorf("%s: got %q (%v), want %q", c.cfg.Bridges[0].Name, got, err, "outside 192.0.2.1")
			}
		}
	})

	t.Run("one network", func(t *testing.T) {
		if got, err := dialFrom(t, a2.pid, "tcp", "10.77.0.2:80"); got != "A 10.77.0.3" {
			t.Errorf("A2 to A: got %q (%v)", got, err)
		}
	})

	t.Run("networks are isolated", func(t *testing.T) {
		if got, err := dialFrom(t, a.pid, "tcp", "10.77.1.2:80"); err == nil {
			t.Errorf("A reached B on another network: %q", got)
		}
		if got, err := dialFrom(t, b.pid, "tcp", "10.77.0.2:80"); err == nil {
			t.Errorf("B reached A on another network: %q", got)
		}
	})

	t.Run("internal", func(t *testing.T) {
		if got, err := dialFrom(t, internal.pid, "tcp", "192.0.2.2:80"); err == nil {
			t.Errorf("internal container reached outside: %q", got)
		}
		// Not only the missing route: with one, the host still drops it.
		h := handleAt(t, internal.pid)
		eth, err := h.LinkByName("eth0")
		must(t, err)
		must(t, h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.ParseIP("10.77.2.1")}))
		if got, err := dialFrom(t, internal.pid, "tcp", "192.0.2.2:80"); err == nil {
			t.Errorf("internal container with a default route reached outside: %q", got)
		}
		if got, err := dialFrom(t, outside.pid, "tcp", "10.77.2.2:80"); err == nil {
			t.Errorf("outside reached the internal container: %q", got)
		}
		// One way, where a reply would be dropped anyway: datagrams out
		// and in. A's, through NAT, shows that the check sees a leak.
		dialFrom(t, a.pid, "udp", "192.0.2.2:80")
		if !outside.heard("192.0.2.1") {
			t.Fatal("outside did not hear A's datagram")
		}
		dialFrom(t, internal.pid, "udp", "192.0.2.2:80")
		if outside.heard("10.77.2.2") {
			t.Error("a datagram of the internal container got out")
		}
		dialFrom(t, outside.pid, "udp", "10.77.2.2:80")
		if internal.heard("192.0.2.2") {
			t.Error("a datagram from outside got in to the internal container")
		}
	})

	t.Run("port in use", func(t *testing.T) {
		for _, addr := range []string{":8080", "127.0.0.1:8082"} {
			if l, err := net.Listen("tcp4", addr); err == nil {
				l.Close()
				t.Errorf("%s could be bound while published", addr)
			}
		}
		if u, err := net.ListenPacket("udp4", ":8081"); err == nil {
			u.Close()
			t.Error("udp :8081 could be bound while published")
		}
		l, err := net.Listen("tcp4", ":8090")
		must(t, err)
		defer l.Close()
		cfg := netB
		cfg.ContainerID, cfg.Address = randomID(), "10.77.1.3"
		n, err := Setup(Config{Mode: ModeBridge, Bridges: []BridgeConfig{cfg}, Ports: []PortMapping{
			{HostPort: 8091, ContainerPort: 80, Protocol: "tcp"},
			{HostPort: 8090, ContainerPort: 80, Protocol: "tcp"}}}, startServer(t, "X").pid)
		if err == nil {
			n.Close()
			t.Fatal("Setup with a port in use succeeded")
		}
		if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "host port 8090/tcp is already in use") {
			t.Errorf("error %q does not say port 8090 is in use", err)
		}
		checkGone(t, cfg.ContainerID)
		if l, err := net.Listen("tcp4", ":8091"); err != nil {
			t.Errorf("the failed Setup kept port 8091: %v", err)
		} else {
			l.Close()
		}
	})

	t.Run("close frees everything at once", func(t *testing.T) {
		must(t, a.net.Close())
		checkGone(t, a.cfg.Bridges[0].ContainerID)
		if got, err := exchange("tcp", "127.0.0.1:8080"); err == nil {
			t.Errorf("closed container still answers: %q", got)
		}
		l, err := net.Listen("tcp4", ":8080")
		if err != nil {
			t.Fatalf("port 8080 after Close: %v", err)
		}
		l.Close()
		// The same container and ports again, at once.
		a.net, err = Setup(a.cfg, a.pid)
		must(t, err)
		if got, err := exchange("tcp", "127.0.0.1:8080"); got != "A 10.77.0.1" {
			t.Errorf("after a new Setup: %q (%v)", got, err)
		}
	})

	t.Run("RemovePortRules after kill -9 of the monitor", func(t *testing.T) {
		cfg := netA
		cfg.ContainerID, cfg.Address = randomID(), "10.77.0.4"
		pid := startServer(t, "K").pid
		js, _ := json.Marshal(Config{Mode: ModeBridge, Bridges: []BridgeConfig{cfg}, Ports: []PortMapping{{HostPort: 8095, ContainerPort: 80, Protocol: "tcp"}}})
		monitor := helper(t, "setup "+strconv.Itoa(pid)+" "+string(js))
		startHelper(t, monitor)
		if got, err := exchange("tcp", "127.0.0.1:8095"); got != "K 10.77.0.1" {
			t.Fatalf("before the kill: %q (%v)", got, err)
		}
		monitor.Process.Kill()
		monitor.Wait()
		l, err := net.Listen("tcp4", ":8095")
		if err != nil {
			t.Fatalf("the dead monitor's reservation of 8095: %v", err)
		}
		l.Close()
		if got, _ := exchange("tcp", "127.0.0.1:8095"); got != "K 10.77.0.1" {
			t.Fatalf("the dead monitor's rule does not forward (%q): nothing left to test", got)
		}
		must(t, RemovePortRules(cfg.ContainerID))
		if rules := rulesOf(t, cfg.ContainerID); len(rules) != 0 {
			t.Errorf("%d rules left", len(rules))
		}
		if got, err := exchange("tcp", "127.0.0.1:8095"); err == nil {
			t.Errorf("still forwarded after RemovePortRules: %q", got)
		}
		must(t, RemovePortRules(cfg.ContainerID))
	})

	// Monitors starting at once race to create the bridge and declare the
	// table: each container gets on, and the static rules exist once.
	t.Run("concurrent monitors", func(t *testing.T) {
		netC := BridgeConfig{Name: "skt3", Subnet: "10.77.3.0/24", Gateway: "10.77.3.1"}
		cs := make([]*container, 4)
		errs := make([]error, len(cs))
		var wg sync.WaitGroup
		for i := range cs {
			cfg := netC
			cfg.ContainerID, cfg.Address = randomID(), "10.77.3."+strconv.Itoa(i+2)
			cs[i] = &container{server: startServer(t, "C"+strconv.Itoa(i)), cfg: Config{Mode: ModeBridge, Bridges: []BridgeConfig{cfg}}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				cs[i].net, errs[i] = Setup(cs[i].cfg, cs[i].pid)
			}()
		}
		wg.Wait()
		for i, c := range cs {
			if errs[i] != nil {
				t.Fatalf("Setup %d: %v", i, errs[i])
			}
			t.Cleanup(func() { c.net.Close() })
			if got, err := dialFrom(t, c.pid, "tcp", "192.0.2.2:80"); got != "outside 192.0.2.1" {
				t.Errorf("C%d: %q (%v)", i, got, err)
			}
		}
		c, err := nftables.New()
		must(t, err)
		for chain, want := range map[string]int{"prerouting": 1, "output": 1, "postrouting": 2, "forward": 4} {
			rules, err := c.GetRules(table, &nftables.Chain{Table: table, Name: chain})
			must(t, err)
			if len(rules) != want {
				t.Errorf("chain %s has %d rules, want %d", chain, len(rules), want)
			}
		}
	})

	t.Run("an older layout is replaced", func(t *testing.T) {
		c, err := nftables.New()
		must(t, err)
		c.FlushChain(forwardChain)
		c.AddRule(&nftables.Rule{Table: table, Chain: forwardChain, Exprs: []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}},
			UserData: userdata.AppendString(nil, userdata.TypeComment, "skiff layout 0")})
		must(t, c.Flush())
		startContainer(t, "L", netA, "10.77.0.9")
		rules, err := c.GetRules(table, forwardChain)
		must(t, err)
		if st, _ := readState(c); len(rules) != 4 || !st.current {
			t.Errorf("forward has %d rules, current %v; want the 4 of %s", len(rules), st.current, layoutVersion)
		}
		if got, err := dialFrom(t, a.pid, "tcp", "10.77.1.2:80"); err == nil {
			t.Errorf("A reached B after the layout's replacement: %q", got)
		}
	})

	t.Run("RemoveBridge", func(t *testing.T) {
		must(t, b.net.Close())
		must(t, RemoveBridge(netB))
		if _, err := netlink.LinkByName("skt1"); err == nil {
			t.Error("bridge skt1 still exists")
		}
		c, err := nftables.New()
		must(t, err)
		set, err := c.GetSetByName(table, "bridges")
		must(t, err)
		elems, err := c.GetSetElements(set)
		must(t, err)
		for _, e := range elems {
			if strings.TrimRight(string(e.Key), "\x00") == "skt1" {
				t.Error("skt1 is still in set bridges")
			}
		}
		must(t, RemoveBridge(netB))
	})
}

// checkGone checks that nothing of container id is left on the host.
func checkGone(t *testing.T, id string) {
	t.Helper()
	if _, err := netlink.LinkByName(vethName(id, "eth0")); err == nil {
		t.Errorf("veth %s left", vethName(id, "eth0"))
	}
	if rules := rulesOf(t, id); len(rules) != 0 {
		t.Errorf("%d nftables rules left", len(rules))
	}
}

func rulesOf(t *testing.T, id string) []*nftables.Rule {
	c, err := nftables.New()
	must(t, err)
	rules, err := containerRules(c, id)
	must(t, err)
	return rules
}

func defaultGateway(t *testing.T, h *netlink.Handle) string {
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	must(t, err)
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw != nil {
			return r.Gw.String()
		}
	}
	return ""
}

// handleAt is a netlink handle in the network namespace of pid.
func handleAt(t *testing.T, pid int) *netlink.Handle {
	ns, err := netns.GetFromPid(pid)
	must(t, err)
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	must(t, err)
	t.Cleanup(h.Close)
	return h
}

func mustAddr(t *testing.T, s string) *netlink.Addr {
	a, err := netlink.ParseAddr(s)
	must(t, err)
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
