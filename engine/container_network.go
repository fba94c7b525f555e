package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/netns"
)

// Port is a container port: Docker's "80/tcp".
type Port struct {
	Number   int    `json:"number"`
	Protocol string `json:"protocol"`
}

func (p Port) String() string { return strconv.Itoa(p.Number) + "/" + p.Protocol }

// PortBinding is one published port (-p, HostConfig.PortBindings).
type PortBinding struct {
	HostIP        string `json:"host_ip,omitempty"` // "" for every address
	HostPort      int    `json:"host_port,omitempty"`
	HostPortEnd   int    `json:"host_port_end,omitempty"` // > HostPort: any free port of HostPort..HostPortEnd
	ContainerPort int    `json:"container_port"`
	Protocol      string `json:"protocol"`
}

// HostGateway in ExtraHosts stands for the host, as seen from the
// container's network (Docker's "host-gateway").
const HostGateway = "host-gateway"

// The network modes (ContainerCreateOptions.NetworkMode, as Docker's
// HostConfig.NetworkMode). "" is the default: slirp4netns rootless, the
// bridge rootful.
const (
	NetworkNone      = "none"        // a private namespace with loopback only
	NetworkHost      = "host"        // the host's namespace
	NetworkBridge    = "bridge"      // the default bridge network (rootful; "podman" is an alias)
	NetworkSlirp     = "slirp4netns" // slirp4netns[:options]
	networkContainer = "container:"  // container:NAME|ID, another container's namespace
	networkPath      = "ns:"         // ns:PATH, a namespace file (podman's)
)

// ContainerNetwork is what create decided about a container's network
// (ContainerConfig.Network): the ports are bound, and addresses given, at
// each start.
type ContainerNetwork struct {
	// Endpoints are the container's bridge networks, in order (eth0,
	// eth1...): user networks, and rootful the default network. network
	// connect and disconnect change them. Empty on the other modes, and
	// after the last disconnect (loopback only, as Docker's).
	Endpoints  []Endpoint          `json:"endpoints"`
	Slirp      *netns.SlirpOptions `json:"slirp,omitempty"`
	Ports      []PortBinding       `json:"ports,omitempty"`
	Exposed    []Port              `json:"exposed,omitempty"` // the image's EXPOSE and --expose
	PublishAll bool                `json:"publish_all,omitempty"`
	DNS        []string            `json:"dns,omitempty"`
	DNSSearch  []string            `json:"dns_search,omitempty"`
	DNSOptions []string            `json:"dns_options,omitempty"`
	ExtraHosts []string            `json:"extra_hosts,omitempty"`
}

// Endpoint is the container's place on one bridge network.
type Endpoint struct {
	NetworkID  string   `json:"network_id,omitempty"` // "" for the default network
	Aliases    []string `json:"aliases,omitempty"`
	IPAddress  string   `json:"ip_address,omitempty"` // asked for (--ip); "" for any free one
	MacAddress string   `json:"mac_address,omitempty"`
	DNSServer  string   `json:"dns_server,omitempty"` // a user network's name server, its gateway
}

// ref names the endpoint's network for lookupNetwork.
func (ep Endpoint) ref() string { return firstNonEmpty(ep.NetworkID, NetworkBridge) }

// on reports whether the endpoint is on network n.
func (ep Endpoint) on(n *Network) bool {
	return ep.NetworkID == n.ID || (ep.NetworkID == "" && n.Builtin())
}

// endpoint is the container's endpoint on n, if any.
func (cn ContainerNetwork) endpoint(n *Network) (int, bool) {
	for i, ep := range cn.Endpoints {
		if ep.on(n) {
			return i, true
		}
	}
	return -1, false
}

// EndpointOptions are one more network of a container: Docker's
// --network name=NET,alias=A,ip=IP,mac-address=M and a NetworkingConfig
// entry.
type EndpointOptions struct {
	Network    string
	Aliases    []string
	IPAddress  string
	MacAddress string
}

// Docker's refusals of networks that cannot be combined.
const (
	errSharedNetwork = "container sharing network namespace with another container or host cannot be connected to any other network"
	errNoneNetwork   = "container cannot be connected to multiple networks with one of the networks in private (none) mode"
	errAliasDefault  = "network-scoped alias is supported only for containers in user defined networks"
)

// resolveNetwork turns the create options into the stored mode (with the
// container of container:NAME resolved to its ID) and network settings,
// refusing the combinations Docker refuses. imageExposed are the image's
// EXPOSE entries ("80/tcp").
func (e *Engine) resolveNetwork(o ContainerCreateOptions, imageExposed []string) (string, ContainerNetwork, error) {
	n := ContainerNetwork{Ports: slices.Clone(o.PortBindings), PublishAll: o.PublishAllPorts,
		DNS: o.DNS, DNSSearch: o.DNSSearch, DNSOptions: o.DNSOptions, ExtraHosts: o.ExtraHosts}
	for _, s := range imageExposed {
		num, proto, err := ParsePortProto(s)
		if err == nil && proto != "sctp" {
			n.Exposed = appendPort(n.Exposed, Port{num, proto})
		}
	}
	for _, p := range o.ExposedPorts {
		n.Exposed = appendPort(n.Exposed, p)
	}
	for _, b := range n.Ports {
		n.Exposed = appendPort(n.Exposed, Port{b.ContainerPort, b.Protocol})
	}
	mode := firstNonEmpty(o.NetworkMode, e.cfg.Network.Default)
	switch mode {
	case "", "default":
		mode = NetworkBridge
		if e.paths.Rootless {
			mode = NetworkSlirp
		}
	case "podman":
		mode = NetworkBridge
	}
	publishes := len(n.Ports) > 0 || n.PublishAll
	first := EndpointOptions{Network: mode, Aliases: o.NetworkAliases, IPAddress: o.IPAddress, MacAddress: o.MacAddress}
	switch {
	case mode == NetworkNone, mode == NetworkHost:
		n.Ports, n.PublishAll = nil, false // Docker discards them: there is nothing to publish to
	case mode == NetworkBridge:
		ep, _, err := e.newEndpoint(first)
		if err != nil {
			return "", n, err
		}
		n.Endpoints = append(n.Endpoints, ep)
	case mode == NetworkSlirp || strings.HasPrefix(mode, NetworkSlirp+":"):
		opts, err := parseSlirpOptions(strings.TrimPrefix(strings.TrimPrefix(mode, NetworkSlirp), ":"))
		if err != nil {
			return "", n, err
		}
		n.Slirp, mode = &opts, NetworkSlirp
	case strings.HasPrefix(mode, networkContainer):
		if publishes {
			return "", n, invalid("conflicting options: port publishing and the container type network mode")
		}
		if len(n.DNS)+len(n.DNSSearch)+len(n.DNSOptions)+len(n.ExtraHosts) > 0 || o.Hostname != "" || o.MacAddress != "" {
			return "", n, invalid("conflicting options: --dns, --add-host, --hostname and --mac-address cannot be set with the container type network mode")
		}
		target, err := e.lookupContainer(strings.TrimPrefix(mode, networkContainer))
		if err != nil {
			return "", n, fmt.Errorf("network mode %s: %w", mode, err)
		}
		mode = networkContainer + target.ID
	case strings.HasPrefix(mode, networkPath):
		p := strings.TrimPrefix(mode, networkPath)
		if _, err := os.Stat(p); err != nil {
			return "", n, invalid("network namespace %s: %v", p, err)
		}
	default:
		ep, name, err := e.newEndpoint(first)
		if err != nil {
			return "", n, err
		}
		mode, n.Endpoints = name, append(n.Endpoints, ep)
	}
	if (o.IPAddress != "" || o.MacAddress != "") && len(n.Endpoints) == 0 {
		return "", n, invalid("--ip and --mac-address need the bridge network: a user network, or rootful the default one")
	}
	if len(o.NetworkAliases) > 0 && len(n.Endpoints) == 0 {
		return "", n, invalid(errAliasDefault)
	}
	if len(n.Endpoints) > 0 && !e.paths.Rootless { // rootless, rootlesskit's driver publishes them
		// Refused here, not by the monitor at the first start: create and
		// run -d would leave a container that can never start.
		for _, b := range n.Ports {
			if ip := net.ParseIP(b.HostIP); b.HostIP != "" && ip.To4() == nil {
				return "", n, invalid("publishing on %s: the bridge network publishes on IPv4 host addresses only: use an IPv4 address, or none for all of them", b.HostIP)
			}
		}
	}
	if len(o.Networks) == 0 {
		return mode, n, nil
	}
	if err := combinable(mode, len(n.Endpoints) > 0); err != nil {
		return "", n, err
	}
	seen := map[string]bool{n.Endpoints[0].ref(): true}
	for _, eo := range o.Networks {
		if err := combinable(eo.Network, true); err != nil {
			return "", n, err
		}
		ep, _, err := e.newEndpoint(eo)
		if err != nil {
			return "", n, err
		}
		if seen[ep.ref()] {
			return "", n, invalid("network %q is specified multiple times", eo.Network)
		}
		seen[ep.ref()] = true
		n.Endpoints = append(n.Endpoints, ep)
	}
	return mode, n, nil
}

// combinable refuses, as Docker does, a mode that shares or lacks a
// network namespace among several networks.
func combinable(mode string, bridged bool) error {
	switch {
	case mode == NetworkNone:
		return invalid(errNoneNetwork)
	case mode == NetworkHost, strings.HasPrefix(mode, networkContainer), strings.HasPrefix(mode, networkPath):
		return invalid(errSharedNetwork)
	case mode == NetworkSlirp, strings.HasPrefix(mode, NetworkSlirp+":"):
		return invalid("slirp4netns cannot be combined with other networks: use user networks")
	case !bridged:
		return invalid("network mode %s cannot be combined with other networks", mode)
	}
	return nil
}

// NetworkNotFoundError is a container's network that does not exist (a
// NotFound).
type NetworkNotFoundError struct{ Name string }

func (e *NetworkNotFoundError) Error() string {
	return "network " + e.Name + " not found: create it with skiff network create, or use bridge, none, host, container:NAME or slirp4netns[:OPTIONS]"
}

func (e *NetworkNotFoundError) Unwrap() error { return errdefs.ErrNotFound }

// newEndpoint checks one bridge-type network of a container: the default
// one or a user network, with its settings. name is the network's (bridge
// for the default one, however it was named).
func (e *Engine) newEndpoint(o EndpointOptions) (ep Endpoint, name string, err error) {
	ep = Endpoint{Aliases: o.Aliases, IPAddress: o.IPAddress, MacAddress: o.MacAddress}
	if o.IPAddress != "" {
		if a, err := netip.ParseAddr(o.IPAddress); err != nil || !a.Is4() {
			return ep, "", invalid("invalid IPv4 address %q for network %s", o.IPAddress, o.Network)
		}
	}
	if o.MacAddress != "" {
		if _, err := net.ParseMAC(o.MacAddress); err != nil {
			return ep, "", invalid("invalid MAC address %s", o.MacAddress)
		}
	}
	// The default network by its names needs no lookup (create's hot
	// path); by its ID it is found below.
	byName := o.Network == NetworkBridge || o.Network == "podman"
	var user *Network
	if !byName {
		user, err = e.lookupNetwork(context.Background(), o.Network)
	}
	if errdefs.IsNotFound(err) {
		return ep, "", &NetworkNotFoundError{Name: o.Network}
	}
	if err != nil {
		return ep, "", err
	}
	if byName || user.Builtin() {
		switch {
		case e.paths.Rootless:
			return ep, "", invalid(errRootlessBridge)
		case len(o.Aliases) > 0:
			return ep, "", invalid(errAliasDefault)
		}
		return ep, NetworkBridge, nil
	}
	if o.IPAddress != "" {
		if p, err := netip.ParsePrefix(user.Config.Subnet); err == nil && !p.Contains(netip.MustParseAddr(o.IPAddress)) {
			return ep, "", invalid("invalid IPv4 address %s: network %s has subnet %s", o.IPAddress, user.Name, p)
		}
	}
	ep.NetworkID, ep.DNSServer = user.ID, user.Config.Gateway
	return ep, user.Name, nil
}

func appendPort(ps []Port, p Port) []Port {
	if slices.Contains(ps, p) {
		return ps
	}
	return append(ps, p)
}

// errRootlessBridge refuses the default bridge network rootless.
const errRootlessBridge = "the default bridge network is rootful only: rootless containers reach the network through slirp4netns (the default), or a user network (skiff network create NAME, then --network NAME)"

// parseSlirpOptions reads podman's slirp4netns:OPTION=VALUE,...
func parseSlirpOptions(s string) (netns.SlirpOptions, error) {
	var o netns.SlirpOptions
	if s == "" {
		return o, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(kv, "=")
		b := func() (bool, error) {
			switch v {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return false, invalid("slirp4netns option %s=%q: use true or false", k, v)
		}
		var err error
		switch k {
		case "allow_host_loopback":
			o.AllowHostLoopback, err = b()
		case "enable_ipv6":
			o.EnableIPv6, err = b()
		case "mtu":
			if o.MTU, err = strconv.Atoi(v); err != nil || o.MTU < 68 || o.MTU > 65521 {
				err = invalid("slirp4netns option mtu=%q: use a number from 68 to 65521", v)
			}
		case "cidr":
			o.CIDR = v
		case "outbound_addr":
			o.OutboundAddr = v
		case "port_handler":
			if v != "rootlesskit" && v != "slirp4netns" {
				err = invalid("slirp4netns option port_handler=%q: use rootlesskit or slirp4netns", v)
			}
			o.PortHandler = v
		default:
			err = invalid("unknown slirp4netns option %q: use allow_host_loopback, mtu, cidr, enable_ipv6, outbound_addr or port_handler", k)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

// specNetNS is the runtime's namespace for a stored mode at create: the
// host's, a path, or a private one (which the monitor connects for
// slirp4netns and the bridge; a container: mode gets its target's at
// each start).
func specNetNS(mode string) string {
	switch {
	case mode == NetworkHost:
		return NetworkHost
	case strings.HasPrefix(mode, networkPath):
		return strings.TrimPrefix(mode, networkPath)
	}
	return NetworkNone
}

// ParseExtraHost reads one extra /etc/hosts entry, NAME:ADDRESS or
// NAME=ADDRESS (an IPv6 address may be bracketed; HostGateway is the host),
// as --add-host and HostConfig.ExtraHosts give it, into ExtraHosts' form.
// ok is false for anything else; the caller says so in its own words.
func ParseExtraHost(s string) (entry string, ok bool) {
	name, ip, ok := strings.Cut(s, "=")
	if !ok {
		name, ip, ok = strings.Cut(s, ":")
	}
	ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n#") || (ip != HostGateway && net.ParseIP(ip) == nil) {
		return "", false
	}
	return name + ":" + ip, true
}
