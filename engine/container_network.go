package engine

import (
	"context"
	"fmt"
	"net"
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
	NetworkID  string              `json:"network_id,omitempty"` // a user network's (the mode is its name)
	DNSServer  string              `json:"dns_server,omitempty"` // a user network's name server, its gateway
	Slirp      *netns.SlirpOptions `json:"slirp,omitempty"`
	Ports      []PortBinding       `json:"ports,omitempty"`
	Exposed    []Port              `json:"exposed,omitempty"` // the image's EXPOSE and --expose
	PublishAll bool                `json:"publish_all,omitempty"`
	DNS        []string            `json:"dns,omitempty"`
	DNSSearch  []string            `json:"dns_search,omitempty"`
	DNSOptions []string            `json:"dns_options,omitempty"`
	ExtraHosts []string            `json:"extra_hosts,omitempty"`
	Aliases    []string            `json:"aliases,omitempty"`
	IPAddress  string              `json:"ip_address,omitempty"`
	MacAddress string              `json:"mac_address,omitempty"`
}

// resolveNetwork turns the create options into the stored mode (with the
// container of container:NAME resolved to its ID) and network settings,
// refusing the combinations Docker refuses. imageExposed are the image's
// EXPOSE entries ("80/tcp").
func (e *Engine) resolveNetwork(o ContainerCreateOptions, imageExposed []string) (string, ContainerNetwork, error) {
	n := ContainerNetwork{Ports: slices.Clone(o.PortBindings), PublishAll: o.PublishAllPorts,
		DNS: o.DNS, DNSSearch: o.DNSSearch, DNSOptions: o.DNSOptions, ExtraHosts: o.ExtraHosts,
		Aliases: o.NetworkAliases, IPAddress: o.IPAddress, MacAddress: o.MacAddress}
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
	switch {
	case mode == NetworkNone, mode == NetworkHost:
		n.Ports, n.PublishAll = nil, false // Docker discards them: there is nothing to publish to
	case mode == NetworkBridge:
		if e.paths.Rootless {
			return "", n, fmt.Errorf("rootless containers reach the network through slirp4netns (the default): bridge networks arrive with user networks: %w", errdefs.ErrNotImplemented)
		}
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
		if len(n.DNS)+len(n.DNSSearch)+len(n.DNSOptions)+len(n.ExtraHosts) > 0 || o.Hostname != "" || n.MacAddress != "" {
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
		user, err := e.lookupNetwork(context.Background(), mode)
		if errdefs.IsNotFound(err) {
			return "", n, fmt.Errorf("network %s not found: create it with skiff network create, or use bridge, none, host, container:NAME or slirp4netns[:OPTIONS]: %w", mode, errdefs.ErrNotFound)
		}
		if err != nil {
			return "", n, err
		}
		mode, n.NetworkID, n.DNSServer = user.Name, user.ID, user.Config.Gateway
	}
	if (n.IPAddress != "" || n.MacAddress != "") && !n.onBridge(mode) {
		return "", n, invalid("--ip and --mac-address need the bridge network (rootful)")
	}
	if n.onBridge(mode) {
		// Refused here, not by the monitor at the first start: create and
		// run -d would leave a container that can never start.
		for _, b := range n.Ports {
			if ip := net.ParseIP(b.HostIP); b.HostIP != "" && ip.To4() == nil {
				return "", n, invalid("publishing on %s: the bridge network publishes on IPv4 host addresses only: use an IPv4 address, or none for all of them", b.HostIP)
			}
		}
	}
	return mode, n, nil
}

// onBridge: the container gets a veth on a bridge (the default network or
// a user network).
func (n ContainerNetwork) onBridge(mode string) bool {
	return mode == NetworkBridge || n.NetworkID != ""
}

func appendPort(ps []Port, p Port) []Port {
	if slices.Contains(ps, p) {
		return ps
	}
	return append(ps, p)
}

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
