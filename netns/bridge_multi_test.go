package netns

import (
	"testing"

	"github.com/vishvananda/netlink"
)

// A container on two networks has eth0 and eth1, one default route (the
// first network's), and answers on both; a third network attached while it
// runs answers at once as eth2, and stops answering once detached.
func TestBridgeMulti(t *testing.T) {
	if !inOwnNetns(t) {
		return
	}
	lo, err := netlink.LinkByName("lo")
	must(t, err)
	must(t, netlink.LinkSetUp(lo))
	netA := BridgeConfig{Name: "skm0", Subnet: "10.78.0.0/24", Gateway: "10.78.0.1"}
	netB := BridgeConfig{Name: "skm1", Subnet: "10.78.1.0/24", Gateway: "10.78.1.1"}
	netC := BridgeConfig{Name: "skm2", Subnet: "10.78.2.0/24", Gateway: "10.78.2.1"}
	onA := startContainer(t, "OA", netA, "10.78.0.3")
	onB := startContainer(t, "OB", netB, "10.78.1.3")
	onC := startContainer(t, "OC", netC, "10.78.2.3")

	m := &container{server: startServer(t, "M")}
	id := randomID()
	a, b := netA, netB
	a.ContainerID, a.Address = id, "10.78.0.2"
	b.ContainerID, b.Address, b.NoDefaultRoute = id, "10.78.1.2", true
	m.cfg = Config{Mode: ModeBridge, Bridges: []BridgeConfig{a, b},
		Ports: []PortMapping{{HostPort: 8096, ContainerPort: 80, Protocol: "tcp"}}}
	n, err := Setup(m.cfg, m.pid)
	if err != nil {
		t.Fatalf("Setup with two bridges: %v", err)
	}
	t.Cleanup(func() { n.Close() })

	h := handleAt(t, m.pid)
	for ifname, want := range map[string]string{"eth0": "10.78.0.2/24", "eth1": "10.78.1.2/24"} {
		l, err := h.LinkByName(ifname)
		must(t, err)
		addrs, err := h.AddrList(l, netlink.FAMILY_V4)
		must(t, err)
		if len(addrs) != 1 || addrs[0].IPNet.String() != want {
			t.Errorf("%s addresses %v, want %s", ifname, addrs, want)
		}
		if _, err := netlink.LinkByName(vethName(id, ifname)); err != nil {
			t.Errorf("host veth of %s: %v", ifname, err)
		}
	}
	if gw := defaultGateway(t, h); gw != "10.78.0.1" {
		t.Errorf("default route via %q, want the first network's 10.78.0.1 only", gw)
	}
	for _, c := range []struct {
		from *container
		addr string
		want string
	}{
		{onA, "10.78.0.2:80", "M 10.78.0.3"},
		{onB, "10.78.1.2:80", "M 10.78.1.3"},
	} {
		if got, err := dialFrom(t, c.from.pid, "tcp", c.addr); got != c.want {
			t.Errorf("to %s: got %q (%v), want %q", c.addr, got, err, c.want)
		}
	}
	if got, err := exchange("tcp", "127.0.0.1:8096"); got != "M 10.78.0.1" {
		t.Errorf("published port: %q (%v), want it on the first network's address", got, err)
	}

	cc := netC
	cc.ContainerID, cc.Address, cc.NoDefaultRoute = id, "10.78.2.2", true
	ifname, err := AttachBridge(cc, m.pid)
	if err != nil || ifname != "eth2" {
		t.Fatalf("AttachBridge: %q, %v; want eth2", ifname, err)
	}
	if got, err := dialFrom(t, onC.pid, "tcp", "10.78.2.2:80"); got != "M 10.78.2.3" {
		t.Errorf("attached network: got %q (%v)", got, err)
	}
	if got, err := exchange("tcp", "127.0.0.1:8096"); got != "M 10.78.0.1" {
		t.Errorf("published port after attach: %q (%v)", got, err)
	}
	must(t, DetachBridge(cc, m.pid))
	if _, err := h.LinkByName("eth2"); err == nil {
		t.Error("eth2 still in the container after DetachBridge")
	}
	if _, err := netlink.LinkByName(vethName(id, "eth2")); err == nil {
		t.Error("host veth of eth2 left after DetachBridge")
	}
	if got, err := dialFrom(t, onC.pid, "tcp", "10.78.2.2:80"); err == nil {
		t.Errorf("detached address still answers: %q", got)
	}
	must(t, DetachBridge(cc, m.pid)) // gone already: no error

	// Detaching the second of the two from start leaves eth0 as it was.
	must(t, DetachBridge(b, m.pid))
	if got, err := dialFrom(t, onA.pid, "tcp", "10.78.0.2:80"); got != "M 10.78.0.3" {
		t.Errorf("after detaching eth1: %q (%v)", got, err)
	}
	if _, err := AttachBridge(BridgeConfig{Name: "skm1", Subnet: "10.78.1.0/24", Gateway: "10.78.1.1", ContainerID: id, Address: "10.78.9.2"}, m.pid); err == nil {
		t.Error("AttachBridge with an address outside the subnet succeeded")
	}
	must(t, n.Close())
	checkGone(t, id)
	if _, err := netlink.LinkByName(vethName(id, "eth1")); err == nil {
		t.Error("host veth of eth1 left after Close")
	}
}
