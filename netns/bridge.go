package netns

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// bridgeNet is a BridgeConfig parsed and checked, before anything is
// touched.
type bridgeNet struct {
	cfg     *BridgeConfig
	subnet  *net.IPNet
	gateway net.IP
	address net.IP
	mac     net.HardwareAddr
	veth    string // the host's end of the container's veth
}

// setupBridge puts the namespace of pid on each of cfg.Bridges and
// publishes cfg.Ports (rootful) to the first. The ports are reserved first,
// so a port in use fails before anything else exists; Close removes the
// rules, then the veths, then releases the ports, so a port is never free
// while a stale rule still points it at this container.
func setupBridge(n *Network, cfg Config, pid int) error {
	if len(cfg.Bridges) == 0 {
		return fmt.Errorf("network mode %s needs a bridge configuration: %w", ModeBridge, errdefs.ErrInvalidArgument)
	}
	var nets []*bridgeNet
	for i := range cfg.Bridges {
		bc := cfg.Bridges[i]
		if bc.Interface == "" {
			bc.Interface = "eth" + strconv.Itoa(i)
		}
		b, err := parseBridge(&bc)
		if err != nil {
			return err
		}
		nets = append(nets, b)
	}
	if err := checkPorts(cfg.Ports); err != nil {
		return err
	}
	if err := reservePorts(n, cfg.Ports); err != nil {
		return err
	}
	for _, b := range nets {
		if err := plugVeth(n, b, pid); err != nil {
			return err
		}
	}
	if err := addRules(nets, cfg.Ports, true); err != nil {
		return err
	}
	n.onClose(func() error { return RemovePortRules(nets[0].cfg.ContainerID) })
	forgetFlows(cfg.Ports)
	return nil
}

// plugVeth makes b's bridge if need be and gives the namespace of pid its
// veth on it.
func plugVeth(n *Network, b *bridgeNet, pid int) error {
	br, err := ensureBridge(b)
	if err != nil {
		return err
	}
	if !b.cfg.Internal {
		if err := writeSysctl("net/ipv4/ip_forward", "1"); err != nil {
			return err
		}
	}
	return addVeth(n, b, br, pid)
}

// AttachBridge gives the running container whose init is pid one more
// network: a veth (cfg.Interface, or the lowest ethN the container lacks)
// on cfg's bridge, made if need be, with cfg.Address. The bridge side lives
// in the calling thread's network namespace. It returns the container's
// interface; a failure undoes what was done. The veth goes with the
// container's namespace, or with DetachBridge.
func AttachBridge(cfg BridgeConfig, pid int) (string, error) {
	if cfg.Interface == "" {
		name, err := freeInterface(pid)
		if err != nil {
			return "", err
		}
		cfg.Interface = name
	}
	b, err := parseBridge(&cfg)
	if err != nil {
		return "", err
	}
	n := &Network{}
	if err := plugVeth(n, b, pid); err != nil {
		n.Close()
		return "", err
	}
	if err := addRules([]*bridgeNet{b}, nil, false); err != nil {
		n.Close()
		return "", err
	}
	return cfg.Interface, nil
}

// DetachBridge removes the container's veth on cfg's network: the one in
// the namespace of pid that holds cfg.Address (deleting one end of a veth
// deletes both). A container without it is no error.
func DetachBridge(cfg BridgeConfig, pid int) error {
	addr := net.ParseIP(cfg.Address).To4()
	if addr == nil {
		return fmt.Errorf("bridge %s: address %q is not an IPv4 address: %w", cfg.Name, cfg.Address, errdefs.ErrInvalidArgument)
	}
	h, err := nsHandle(pid)
	if err != nil {
		return err
	}
	defer h.Close()
	addrs, err := h.AddrList(nil, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("container's addresses: %w", err)
	}
	for _, a := range addrs {
		if !a.IP.Equal(addr) {
			continue
		}
		l, err := h.LinkByIndex(a.LinkIndex)
		if err != nil {
			return fmt.Errorf("container's interface with %s: %w", addr, err)
		}
		if err := h.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("deleting the container's %s: %w", l.Attrs().Name, err)
		}
		return nil
	}
	return nil
}

// forgetFlows drops the connection tracking entries of the published host
// ports. NAT is decided on a flow's first packet: a flow tracked before the
// rules existed (a client that was refused a moment ago and reuses its
// source port) would otherwise keep bypassing the DNAT and reach the
// port's reservation socket instead of the container.
func forgetFlows(ports []PortMapping) {
	for _, p := range ports {
		f := &netlink.ConntrackFilter{}
		proto := uint8(unix.IPPROTO_TCP)
		if p.Protocol == "udp" {
			proto = unix.IPPROTO_UDP
		}
		if f.AddProtocol(proto) != nil || f.AddPort(netlink.ConntrackOrigDstPort, uint16(p.HostPort)) != nil {
			continue
		}
		netlink.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, f)
	}
}

// parseBridge checks what the engine filled in. The addresses are IPv4:
// skiff's table is an ip one.
func parseBridge(cfg *BridgeConfig) (*bridgeNet, error) {
	if cfg == nil {
		return nil, fmt.Errorf("network mode %s needs a bridge configuration: %w", ModeBridge, errdefs.ErrInvalidArgument)
	}
	if cfg.ContainerID == "" || strings.ContainsAny(cfg.ContainerID, "/ \t\n\x00") {
		return nil, fmt.Errorf("bridge network: container ID %q cannot name a device: %w", cfg.ContainerID, errdefs.ErrInvalidArgument)
	}
	if cfg.Name == "" || len(cfg.Name) >= unix.IFNAMSIZ || strings.ContainsAny(cfg.Name, "/ \t\n\x00") || cfg.Name == "." || cfg.Name == ".." {
		return nil, fmt.Errorf("bridge name %q is not a valid device name (1 to 15 characters, no '/' or spaces): %w", cfg.Name, errdefs.ErrInvalidArgument)
	}
	if cfg.Interface == "" {
		cfg.Interface = "eth0"
	}
	if len(cfg.Interface) >= unix.IFNAMSIZ || strings.ContainsAny(cfg.Interface, "/ \t\n\x00") {
		return nil, fmt.Errorf("bridge %s: interface name %q is not a valid device name: %w", cfg.Name, cfg.Interface, errdefs.ErrInvalidArgument)
	}
	b := &bridgeNet{cfg: cfg, veth: vethName(cfg.ContainerID, cfg.Interface)}
	_, subnet, err := net.ParseCIDR(cfg.Subnet)
	if err != nil || subnet.IP.To4() == nil {
		return nil, fmt.Errorf("bridge %s: subnet %q is not an IPv4 CIDR: %w", cfg.Name, cfg.Subnet, errdefs.ErrInvalidArgument)
	}
	b.subnet = subnet
	for _, a := range []struct {
		what, s string
		ip      *net.IP
	}{{"gateway", cfg.Gateway, &b.gateway}, {"address", cfg.Address, &b.address}} {
		ip := net.ParseIP(a.s).To4()
		if ip == nil || !subnet.Contains(ip) {
			return nil, fmt.Errorf("bridge %s: %s %q is not an IPv4 address in %s: %w", cfg.Name, a.what, a.s, cfg.Subnet, errdefs.ErrInvalidArgument)
		}
		*a.ip = ip
	}
	if b.gateway.Equal(b.address) {
		return nil, fmt.Errorf("bridge %s: the container's address %s is the gateway's: %w", cfg.Name, cfg.Address, errdefs.ErrInvalidArgument)
	}
	if b.mac, err = containerMAC(cfg.MAC, b.address); err != nil {
		return nil, fmt.Errorf("bridge %s: %w", cfg.Name, err)
	}
	return b, nil
}

// vethName is the host's end of a container's veth for its interface
// ifname. It comes from the ID, not a counter, so whoever cleans up after a
// dead monitor can find it: eth0's is veth and the ID, ethN's has a '-'
// (never in an ID) before N.
func vethName(id, ifname string) string {
	const prefix = "veth"
	suffix := ""
	if n := strings.TrimPrefix(ifname, "eth"); n != "0" {
		suffix = "-" + n
	}
	if n := unix.IFNAMSIZ - 1 - len(prefix) - len(suffix); len(id) > n {
		id = id[:max(n, 1)]
	}
	return prefix + id + suffix
}

// ensureBridge creates the bridge unless it exists (concurrent monitors may
// race to create it: the loser finds the winner's) and gives it the
// gateway's address.
func ensureBridge(b *bridgeNet) (netlink.Link, error) {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = b.cfg.Name
	attrs.MTU = b.cfg.MTU
	// A fixed address: a bridge without one takes its lowest port's, which
	// changes as containers come and go and stales their ARP caches.
	attrs.HardwareAddr = randomMAC()
	err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("creating bridge %s: %w", b.cfg.Name, err)
	}
	br, err := netlink.LinkByName(b.cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("bridge %s: %w", b.cfg.Name, err)
	}
	if br.Type() != "bridge" {
		return nil, fmt.Errorf("device %s exists and is a %s, not a bridge: remove it or name another bridge in skiff.toml: %w", b.cfg.Name, br.Type(), errdefs.ErrConflict)
	}
	gw := &netlink.Addr{IPNet: &net.IPNet{IP: b.gateway, Mask: b.subnet.Mask}}
	if err := netlink.AddrReplace(br, gw); err != nil {
		return nil, fmt.Errorf("bridge %s: adding address %s: %w", b.cfg.Name, gw.IPNet, err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return nil, fmt.Errorf("bridge %s: %w", b.cfg.Name, err)
	}
	// The hairpin for the host's loopback: a connection to 127.0.0.1 that
	// DNAT sends to the bridge keeps its 127.0.0.1 source until masquerade,
	// and the kernel drops such packets on a device without route_localnet.
	if err := writeSysctl("net/ipv4/conf/"+b.cfg.Name+"/route_localnet", "1"); err != nil {
		return nil, err
	}
	return br, nil
}

// writeSysctl sets a sysctl of the current network namespace unless it
// already has the value.
func writeSysctl(name, value string) error {
	path := "/proc/sys/" + name
	if cur, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(cur)) == value {
		return nil
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("setting %s to %s: %w", strings.ReplaceAll(name, "/", "."), value, err)
	}
	return nil
}
