package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/netns"
	"github.com/skiff-engine/skiff/runtime"
)

// defaultBridge is the rootful default network's device; its subnet is
// Docker's 172.17.0.0/16 unless the host uses it (then the next free
// 172.x.0.0/16), chosen once when the network is first used.
const defaultBridge = "skiff0"

// monitorNetwork reports whether a start of c hands its monitor a network
// to set up (startNetwork's config: slirp4netns, or endpoints not borrowed
// from another container), which takes skiff-monitor rather than the lean
// one (runtime.ForkMonitor).
func (c *Container) monitorNetwork() bool {
	mode := c.Config.NetworkMode
	return !strings.HasPrefix(mode, networkContainer) && (mode == NetworkSlirp || len(c.Config.Network.Endpoints) > 0)
}

// createMonitorNetwork is monitorNetwork for a run, whose monitor is
// forked before its create resolves the network: none, host and another
// container's or a path's namespace need no network of the monitor's. A
// wrong guess costs a lean monitor an execve of skiff-monitor.
func (e *Engine) createMonitorNetwork(o ContainerCreateOptions) bool {
	switch mode := firstNonEmpty(o.NetworkMode, e.cfg.Network.Default); {
	case len(o.Networks) > 0:
		return true
	case mode == NetworkNone, mode == NetworkHost, strings.HasPrefix(mode, networkContainer), strings.HasPrefix(mode, networkPath):
		return false
	}
	return true
}

// startNetwork decides the network of this start: the namespace to join,
// the host ports and the address (recorded in the database, freed by
// releaseNetwork), and /etc/hosts. It returns what the monitor sets up
// (nil: nothing). On error nothing is held.
func (e *Engine) startNetwork(c *Container, opts *runtime.SpecOptions) (*netns.Config, error) {
	mode, n := c.Config.NetworkMode, c.Config.Network
	hostname := opts.Hostname
	if hostname == "" {
		hostname = runtime.Hostname(c.Config.Spec)
	}
	switch {
	case strings.HasPrefix(mode, networkContainer):
		target, err := e.lookupContainer(strings.TrimPrefix(mode, networkContainer))
		if err != nil {
			return nil, fmt.Errorf("container %s joins the network of a container that is gone: %w", c.Name, err)
		}
		if !target.Running() || target.State.Pid <= 0 {
			return nil, fmt.Errorf("container %s joins the network of container %s, which is not running: start it first: %w", c.Name, target.Name, errdefs.ErrFailedPrecondition)
		}
		opts.NetNS = "/proc/" + strconv.Itoa(target.State.Pid) + "/ns/net"
		opts.HostsFile, opts.ResolvConfFile = target.HostsFile(), target.ResolvConfFile()
		return nil, nil
	case !c.monitorNetwork():
		return nil, nil
	}
	ports, err := e.allocatePorts(c, n)
	if err != nil {
		return nil, err
	}
	cfg := &netns.Config{Mode: netns.ModeSlirp4netns, Ports: ports, StateDir: e.runDir(c.ID), Slirp: n.Slirp}
	var addr, hostAddr string
	if len(n.Endpoints) > 0 {
		cfg.Mode = netns.ModeBridge
		if cfg.Bridges, err = e.bridgeAttachments(c); err != nil {
			e.releaseNetwork(c)
			return nil, err
		}
		addr, hostAddr = cfg.Bridges[0].Address, cfg.Bridges[0].Gateway
		if e.paths.Rootless {
			// The bridges are in the shared namespace, not the host's.
			if cfg.Shared, err = e.sharedNetnsConfig(); err != nil {
				e.releaseNetwork(c)
				return nil, err
			}
			hostAddr = hostAddress()
			if cfg.Shared.Slirp.AllowHostLoopback {
				hostAddr = netns.SlirpGateway
			}
		}
	} else {
		addr = netns.SlirpAddress
		if n.Slirp != nil && n.Slirp.AllowHostLoopback {
			hostAddr = netns.SlirpGateway
		} else {
			hostAddr = hostAddress()
		}
	}
	if err := os.WriteFile(c.HostsFile(), hostsContent(hostname, addr, hostAddr, n.ExtraHosts), 0o644); err != nil {
		e.releaseNetwork(c)
		return nil, err
	}
	return cfg, nil
}

// hostsContent is /etc/hosts for a container at addr: --add-host entries
// (host-gateway standing for hostAddr), the host's names, its own.
func hostsContent(hostname, addr, hostAddr string, extra []string) []byte {
	var lines []string
	for _, h := range extra {
		name, ip, _ := strings.Cut(h, ":")
		if ip == HostGateway {
			if ip = hostAddr; ip == "" {
				continue
			}
		}
		lines = append(lines, ip+"\t"+name)
	}
	if hostAddr != "" {
		lines = append(lines, hostAddr+"\thost.containers.internal host.docker.internal")
	}
	lines = append(lines, addr+"\t"+hostname)
	return netns.HostsFile("", lines)
}

// hostAddress is the host's first non-loopback IPv4 address, which
// slirp4netns reaches through its NAT ("" when there is none).
func hostAddress() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String()
		}
	}
	return ""
}

// allocatePorts binds the container's published ports (and with -P every
// exposed one) to host ports, recorded in the database so that no other
// container gets them: a fixed port, the first free one of a range, or a
// free one the kernel picks.
func (e *Engine) allocatePorts(c *Container, n ContainerNetwork) ([]netns.PortMapping, error) {
	binds := n.Ports
	if n.PublishAll {
		for _, p := range n.Exposed {
			if !boundPort(binds, p) {
				binds = append(binds, PortBinding{ContainerPort: p.Number, Protocol: p.Protocol})
			}
		}
	}
	if len(binds) == 0 {
		return nil, nil
	}
	if e.paths.Rootless {
		if err := unprivilegedPorts(binds); err != nil {
			return nil, err
		}
	}
	taken, err := e.livePorts()
	if err != nil {
		return nil, err
	}
	// What this container holds is stale (see AllocatePorts), not taken:
	// its record says starting by now, so livePorts kept it.
	delete(taken, c.ID)
	var allocs []statedb.PortAllocation
	var out []netns.PortMapping
	for _, b := range binds {
		port, err := hostPort(b, taken, allocs)
		if err != nil {
			return nil, err
		}
		allocs = append(allocs, statedb.PortAllocation{HostIP: b.HostIP, HostPort: port, Protocol: b.Protocol, ContainerPort: b.ContainerPort})
		out = append(out, netns.PortMapping{HostIP: b.HostIP, HostPort: port, ContainerPort: b.ContainerPort, Protocol: b.Protocol})
	}
	if err := e.db.AllocatePorts(context.Background(), c.ID, allocs); err != nil {
		return nil, err
	}
	return out, nil
}

func boundPort(binds []PortBinding, p Port) bool {
	for _, b := range binds {
		if b.ContainerPort == p.Number && b.Protocol == p.Protocol {
			return true
		}
	}
	return false
}

// hostPort picks b's host port: its own, the first of its range that no
// container holds and the host has free, or (none given) one the kernel
// picks.
func hostPort(b PortBinding, taken map[string][]statedb.PortAllocation, mine []statedb.PortAllocation) (int, error) {
	if b.HostPort == 0 {
		return freePort(b.HostIP, b.Protocol, 0)
	}
	if b.HostPortEnd <= b.HostPort {
		return b.HostPort, nil
	}
	for p := b.HostPort; p <= b.HostPortEnd; p++ {
		if held(taken, mine, b.HostIP, p, b.Protocol) {
			continue
		}
		if _, err := freePort(b.HostIP, b.Protocol, p); err == nil {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free host port in %d-%d/%s for container port %d: %w", b.HostPort, b.HostPortEnd, b.Protocol, b.ContainerPort, errdefs.ErrConflict)
}

func held(taken map[string][]statedb.PortAllocation, mine []statedb.PortAllocation, ip string, port int, proto string) bool {
	clash := func(a statedb.PortAllocation) bool {
		return a.HostPort == port && a.Protocol == proto && (a.HostIP == ip || a.HostIP == "" || ip == "")
	}
	for _, list := range taken {
		for _, a := range list {
			if clash(a) {
				return true
			}
		}
	}
	for _, a := range mine {
		if clash(a) {
			return true
		}
	}
	return false
}

// freePort binds ip:port (0: any) for proto and returns the port bound.
func freePort(ip, proto string, port int) (int, error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	if proto == "udp" {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return 0, fmt.Errorf("host port %s/udp: %w", addr, err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("host port %s/tcp: %w", addr, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// unprivilegedPorts refuses, rootless, host ports the kernel keeps for
// root (below net.ipv4.ip_unprivileged_port_start).
func unprivilegedPorts(binds []PortBinding) error {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return nil
	}
	start, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil
	}
	for _, p := range binds {
		if p.HostPort != 0 && p.HostPort < start {
			return fmt.Errorf("host port %d is below net.ipv4.ip_unprivileged_port_start (%d), which rootless containers cannot bind: publish a port of %d or more, or lower the sysctl as root: %w", p.HostPort, start, start, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// bridgeAttachments give the container an address on each of its
// networks (eth0, eth1... in order), with one default route, through the
// first network that is not internal, and start the name servers of its
// user networks.
func (e *Engine) bridgeAttachments(c *Container) ([]netns.BridgeConfig, error) {
	var out []netns.BridgeConfig
	routed := false
	for i, ep := range c.Config.Network.Endpoints {
		b, network, err := e.bridgeAttachment(c, ep)
		if err != nil {
			return nil, err
		}
		b.Interface, b.NoDefaultRoute = "eth"+strconv.Itoa(i), routed
		routed = routed || !b.Internal
		out = append(out, b)
		if !network.Builtin() {
			if err := e.serveNames(network.ID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// bridgeAttachment gives the container an address on the network of ep:
// the default one (recorded in the database on first use) or a user
// network.
func (e *Engine) bridgeAttachment(c *Container, ep Endpoint) (netns.BridgeConfig, *Network, error) {
	network, err := e.lookupNetwork(context.Background(), ep.ref())
	if errdefs.IsNotFound(err) {
		return netns.BridgeConfig{}, nil, fmt.Errorf("a network of container %s was removed: recreate it, or disconnect the container from it with skiff network disconnect: %w", c.Name, errdefs.ErrNotFound)
	}
	if err != nil {
		return netns.BridgeConfig{}, nil, err
	}
	cfg := network.Config
	subnet, err := netip.ParsePrefix(cfg.Subnet)
	if err != nil {
		return netns.BridgeConfig{}, nil, fmt.Errorf("network %s: subnet: %w", network.Name, err)
	}
	gw, err := netip.ParseAddr(cfg.Gateway)
	if err != nil {
		return netns.BridgeConfig{}, nil, fmt.Errorf("network %s: gateway: %w", network.Name, err)
	}
	var pool netip.Prefix
	if cfg.IPRange != "" {
		pool, _ = netip.ParsePrefix(cfg.IPRange)
	}
	var want netip.Addr
	if ep.IPAddress != "" {
		if want, err = netip.ParseAddr(ep.IPAddress); err != nil {
			return netns.BridgeConfig{}, nil, invalid("invalid --ip %q: %v", ep.IPAddress, err)
		}
	}
	addr, err := e.db.AllocateAddress(context.Background(), network.ID, c.ID, subnet, pool, gw, want)
	if errdefs.IsConflict(err) || errdefs.IsResourceExhausted(err) {
		// Only then: the wanted address, or the last free ones, may be
		// held by a container that is gone or whose monitor was killed.
		e.reclaimAddresses(network.ID, c.ID)
		addr, err = e.db.AllocateAddress(context.Background(), network.ID, c.ID, subnet, pool, gw, want)
	}
	if err != nil {
		return netns.BridgeConfig{}, nil, fmt.Errorf("network %s: %w", network.Name, err)
	}
	b := network.bridgeConfig()
	b.ContainerID, b.Address, b.MAC = c.ID, addr.String(), ep.MacAddress
	return b, network, nil
}

// reclaimAddresses frees the addresses on network id that stopped
// containers still hold: those whose monitor was killed (reading one folds
// its death in, which releases them), and those of removed ones. An
// allocation that found no address calls it, not every start.
func (e *Engine) reclaimAddresses(id, self string) {
	addrs, err := e.db.NetworkAddresses(context.Background(), id)
	if err != nil {
		return
	}
	for cid := range addrs {
		if cid == self {
			continue
		}
		c, err := e.lookupContainer(cid)
		switch {
		case err == nil && !c.Running():
			e.releaseNetwork(c)
		case errdefs.IsNotFound(err):
			e.db.ReleaseNetwork(context.Background(), cid)
		}
	}
}

// sharedNetnsDir is the run directory of the shared network namespace of
// rootless user networks.
func (e *Engine) sharedNetnsDir() string { return filepath.Join(e.paths.RunRoot, "rootless-netns") }

// sharedNetnsConfig is how monitors start the shared namespace's holder.
func (e *Engine) sharedNetnsConfig() (*netns.SharedConfig, error) {
	opts, err := parseSlirpOptions(e.cfg.Network.RootlessNetnsOptions)
	if err != nil {
		return nil, fmt.Errorf("skiff.toml: network.rootless_netns_options: %w", err)
	}
	if opts.CIDR != "" {
		if _, err := netip.ParsePrefix(opts.CIDR); err != nil {
			return nil, invalid("skiff.toml: network.rootless_netns_options: cidr %q is not a CIDR", opts.CIDR)
		}
	}
	bin, err := runtime.MonitorBinary()
	if err != nil {
		return nil, err
	}
	return &netns.SharedConfig{Dir: e.sharedNetnsDir(), Exe: bin, Slirp: opts}, nil
}

// defaultNetwork is the rootful default network's row ("bridge"), laid
// out from skiff.toml's [network] bridge and subnet when it is first made.
func (e *Engine) defaultNetwork() (statedb.Network, error) {
	subnet, gw := defaultSubnet()
	if s := e.cfg.Network.Subnet; s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
			return statedb.Network{}, invalid("skiff.toml: network.subnet %q: use an IPv4 CIDR of /30 or larger", s)
		}
		subnet, gw = p.Masked().String(), p.Masked().Addr().Next().String()
	}
	cfg, _ := json.Marshal(NetworkLayout{Driver: "bridge", Bridge: firstNonEmpty(e.cfg.Network.Bridge, defaultBridge), Subnet: subnet, Gateway: gw})
	id := make([]byte, 32)
	rand.Read(id)
	return e.db.EnsureNetwork(context.Background(), statedb.Network{ID: hex.EncodeToString(id), Name: NetworkBridge, Created: time.Now(), Config: cfg})
}

// defaultSubnet is the first 172.N.0.0/16, N from 17, that overlaps no
// network of the host (Docker's docker0 takes 172.17.0.0/16 where dockerd
// runs).
func defaultSubnet() (subnet, gateway string) {
	host := hostPrefixes()
	for n := 17; n < 32; n++ {
		p := netip.MustParsePrefix(fmt.Sprintf("172.%d.0.0/16", n))
		if !slices.ContainsFunc(host, p.Overlaps) {
			return p.String(), p.Addr().Next().String()
		}
	}
	return "10.88.0.0/16", "10.88.0.1"
}

// releaseNetwork frees the container's host ports and addresses, and on
// the bridge the forwarding rules of its ports, which a killed monitor
// left behind (the monitor removes them itself when the container exits),
// and takes its names off its user networks' name servers.
func (e *Engine) releaseNetwork(c *Container) {
	n, onBridge := c.Config.Network, len(c.Config.Network.Endpoints) > 0
	publishes := len(n.Ports) > 0 || n.PublishAll
	if !onBridge && !publishes {
		return // nothing was allocated: no write on the clean-up of such a run
	}
	if onBridge && publishes && !e.paths.Rootless { // rootless ports have no rules: the monitor forwards them
		netns.RemovePortRules(c.ID)
	}
	if e.openDB() != nil {
		return
	}
	// Every address the container holds, those of networks it was
	// disconnected from since included.
	addrs, _ := e.db.ContainerAddresses(context.Background(), c.ID)
	e.db.ReleaseNetwork(context.Background(), c.ID)
	for id := range addrs {
		n, err := e.lookupNetwork(context.Background(), id)
		if err != nil {
			continue
		}
		if _, on := c.Config.Network.endpoint(n); on {
			e.networkEvent(context.Background(), n, "disconnect", c.ID) // a disconnect command recorded the others
		}
		if !n.Builtin() {
			e.writeNames(id)
		}
	}
}

// resolvOptions are the container's DNS settings for its resolv.conf.
func resolvOptions(cfg *ContainerConfig) netns.ResolvOptions {
	o := netns.ResolvOptions{HostNetwork: cfg.NetworkMode == NetworkHost,
		Nameservers: cfg.Network.DNS, Search: cfg.Network.DNSSearch, Options: cfg.Network.DNSOptions}
	if cfg.NetworkMode == NetworkSlirp {
		o.LoopbackResolver = netns.SlirpDNS
	}
	if s := cfg.Network.dnsServer(); s != "" && len(o.Nameservers) == 0 {
		// The network's server answers its containers' names and
		// forwards the rest to the host's resolvers.
		o.Nameservers = []string{s}
		o.Search = append([]string{netns.DNSDomain}, o.Search...)
	}
	return o
}

// dnsServer is the name server of the container's first user network
// ("" for none). It answers that network's names; other names it forwards.
func (cn ContainerNetwork) dnsServer() string {
	for _, ep := range cn.Endpoints {
		if ep.DNSServer != "" {
			return ep.DNSServer
		}
	}
	return ""
}

// checkHostPorts fails when a fixed host port of binds is held by another
// container or taken on the host: a run then creates nothing (a start
// checks again, for real, when it allocates).
func (e *Engine) checkHostPorts(binds []PortBinding) error {
	var fixed []PortBinding
	for _, b := range binds {
		if b.HostPort != 0 && b.HostPortEnd <= b.HostPort {
			fixed = append(fixed, b)
		}
	}
	if len(fixed) == 0 {
		return nil
	}
	if e.paths.Rootless {
		if err := unprivilegedPorts(fixed); err != nil {
			return err
		}
	}
	if err := e.openDB(); err != nil {
		return err
	}
	taken, err := e.livePorts()
	if err != nil {
		return err
	}
	for _, b := range fixed {
		ip := firstNonEmpty(b.HostIP, "0.0.0.0")
		if held(taken, nil, b.HostIP, b.HostPort, b.Protocol) {
			return fmt.Errorf("bind for %s:%d/%s failed: port is already allocated by another container: %w", ip, b.HostPort, b.Protocol, errdefs.ErrConflict)
		}
		if _, err := freePort(b.HostIP, b.Protocol, b.HostPort); err != nil {
			return fmt.Errorf("host port %s:%d/%s is already in use on the host: choose another port: %w", ip, b.HostPort, b.Protocol, errdefs.ErrConflict)
		}
	}
	return nil
}

// livePorts are the host ports of running containers. Those a container
// still holds after its monitor was killed (its exit never cleaned up) are
// freed on the way: such a port is free on the host already.
func (e *Engine) livePorts() (map[string][]statedb.PortAllocation, error) {
	all, err := e.db.AllPorts(context.Background())
	if err != nil {
		return nil, err
	}
	for id := range all {
		if c, err := e.lookupContainer(id); err == nil && !c.Running() {
			e.releaseNetwork(c)
			delete(all, id)
		}
	}
	return all, nil
}
