package netns

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/containerd/errdefs"
)

// The network modes a container's monitor sets up (Config.Mode). The
// others need no monitor: none (a private namespace with loopback only),
// host, and container:ID (another container's namespace).
const (
	ModeSlirp4netns = "slirp4netns" // rootless: a tap device to slirp4netns's user-mode stack
	ModeBridge      = "bridge"      // rootful: a veth on a bridge of the host
)

// slirp4netns's fixed layout inside the container's namespace.
const (
	SlirpCIDR    = "10.0.2.0/24"
	SlirpAddress = "10.0.2.100"
	SlirpGateway = "10.0.2.2" // the host's loopback with AllowHostLoopback
	SlirpDNS     = "10.0.2.3"
	SlirpMTU     = 65520
)

// PortMapping is one published port: HostIP:HostPort on the host reaches
// ContainerPort in the container.
type PortMapping struct {
	HostIP        string `json:"host_ip,omitempty"` // "" for every address
	HostPort      int    `json:"host_port"`
	ContainerPort int    `json:"container_port"`
	Protocol      string `json:"protocol"` // tcp or udp
}

func (p PortMapping) String() string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return ip + ":" + strconv.Itoa(p.HostPort) + "->" + strconv.Itoa(p.ContainerPort) + "/" + p.Protocol
}

// SlirpOptions are podman's slirp4netns options.
type SlirpOptions struct {
	MTU               int    `json:"mtu,omitempty"`  // 0: SlirpMTU
	CIDR              string `json:"cidr,omitempty"` // "": SlirpCIDR
	AllowHostLoopback bool   `json:"allow_host_loopback,omitempty"`
	EnableIPv6        bool   `json:"enable_ipv6,omitempty"`
	OutboundAddr      string `json:"outbound_addr,omitempty"`
	PortHandler       string `json:"port_handler,omitempty"` // rootlesskit (default) or slirp4netns

	// upstreamDNS ("host:port") replaces the host's resolver behind
	// SlirpDNS in the user-mode network, for tests that run their own.
	upstreamDNS string
}

// BridgeConfig places a container on a bridge of the host (rootful).
type BridgeConfig struct {
	// ContainerID names the container's veth on the host and marks its
	// nftables rules, so both can be removed by ID after a kill -9.
	ContainerID string `json:"container_id"`
	Name        string `json:"name"`               // the bridge device, skiff0 for the default network
	Subnet      string `json:"subnet"`             // CIDR, e.g. 10.88.0.0/16
	Gateway     string `json:"gateway"`            // the bridge's address in Subnet
	Address     string `json:"address"`            // the container's address in Subnet
	MAC         string `json:"mac,omitempty"`      // "" for a random one
	Internal    bool   `json:"internal,omitempty"` // no route out, no NAT
	MTU         int    `json:"mtu,omitempty"`
	// Interface is the container's end of the veth: eth0, eth1... in the
	// order of Config.Bridges when "" (AttachBridge: the lowest free ethN).
	Interface string `json:"interface,omitempty"`
	// NoDefaultRoute: the container routes only this network's subnet
	// through it. A container on several networks has one default route,
	// through the first one that is not internal (Docker's choice).
	NoDefaultRoute bool `json:"no_default_route,omitempty"`
}

// Config is what a container's monitor sets up once the container's init
// exists, before it runs its command, and tears down when it exits.
type Config struct {
	Mode  string        `json:"mode"`
	Slirp *SlirpOptions `json:"slirp,omitempty"`
	// Bridges are the container's networks in ModeBridge, one veth each;
	// published ports reach the first one's address.
	Bridges []BridgeConfig `json:"bridges,omitempty"`
	// Shared, rootless, puts the Bridges in the user's shared network
	// namespace instead of the current one (shared.go).
	Shared *SharedConfig `json:"shared,omitempty"`
	Ports  []PortMapping `json:"ports,omitempty"`
	// StateDir holds sockets of the network's helpers (the container's
	// run directory).
	StateDir string `json:"state_dir"`
}

// Network is a container's network as set up; Close tears it down.
type Network struct {
	closers []func() error
	// late undo what lives only in this run's network namespace (the
	// user-mode network's veth pair and stack): nothing a next start of
	// the container meets, so Release leaves them to the background.
	late []func() error
	done chan error // the background's result, set by Release
}

// Close undoes what Setup did, last first, and returns once all of it is
// undone.
func (n *Network) Close() error {
	err := n.Release()
	return errors.Join(err, n.Wait())
}

// Release undoes at once what a next start of the container could meet:
// published ports' listeners, the helpers' sockets in StateDir and
// slirp4netns. The rest (deleting the user-mode network's veth pair,
// stopping its stack), some 25 ms of the kernel's waiting, goes on in the
// background until Wait. A monitor that dies meanwhile leaves nothing:
// its sockets close with it and the namespace's devices go with the
// namespace.
func (n *Network) Release() error {
	if n == nil {
		return nil
	}
	err := undo(n.closers)
	n.closers = nil
	if len(n.late) > 0 {
		late, done := n.late, make(chan error, 1)
		n.late, n.done = nil, done
		go func() { done <- undo(late) }()
	}
	return err
}

// Wait waits for what Release left to the background.
func (n *Network) Wait() error {
	if n == nil || n.done == nil {
		return nil
	}
	err := <-n.done
	n.done = nil
	return err
}

// undo runs closers last first.
func undo(closers []func() error) error {
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	return errors.Join(errs...)
}

func (n *Network) onClose(f func() error) { n.closers = append(n.closers, f) }

// onCloseLate registers an undo of what only this run's namespace holds
// (see late). They run after every onClose one.
func (n *Network) onCloseLate(f func() error) { n.late = append(n.late, f) }

// Reattachable reports that the Network that Setup made of cfg can be
// rebuilt by Reattach in another process: a rootful bridge network without
// published ports, whose undo steps (the nftables rules named after the
// container, its veths named after it too) need nothing of the process
// that set them up. Port reservations, port forwarders, slirp4netns and
// the rootless shared namespace are held by that process.
func Reattachable(cfg Config) bool {
	return cfg.Mode == ModeBridge && cfg.Shared == nil && len(cfg.Ports) == 0 && len(cfg.Bridges) > 0
}

// Reattach is the Network Setup made of cfg in another process (the
// monitor before an execve), for Release and Wait; cfg must be
// Reattachable. The undo steps are setupBridge's, in its order.
func Reattach(cfg Config) (*Network, error) {
	if !Reattachable(cfg) {
		return nil, fmt.Errorf("network mode %s with these options cannot be taken over: %w", cfg.Mode, errdefs.ErrInvalidArgument)
	}
	n := &Network{}
	var id string
	for i := range cfg.Bridges {
		bc := cfg.Bridges[i]
		if bc.Interface == "" {
			bc.Interface = "eth" + strconv.Itoa(i)
		}
		veth := vethName(bc.ContainerID, bc.Interface)
		n.onClose(func() error { return deleteLink(veth) })
		if i == 0 {
			id = bc.ContainerID
		}
	}
	n.onClose(func() error { return RemovePortRules(id) })
	return n, nil
}
