package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/netns"
)

// network connect and disconnect change a container's endpoints
// (ContainerNetwork.Endpoints) under its lock. A stopped container gets
// them at its next start. A running one also gets (or loses) the veth at
// once: this process, root, reaches the container's namespace through
// /proc/<pid>/ns/net and the bridge in its own, gives the address from the
// database, and rewrites the network's names file, so the name resolves
// and the address answers before the command returns.

// NetworkConnectOptions are `network connect`'s, as Docker's
// EndpointSettings take them.
type NetworkConnectOptions struct {
	Aliases    []string
	IPAddress  string // "" for a free one
	MacAddress string
}

// NetworkConnect puts container ctr on network net.
func (e *Engine) NetworkConnect(ctx context.Context, net, ctr string, o NetworkConnectOptions) error {
	n, err := e.lookupNetwork(ctx, net)
	if err != nil {
		return err
	}
	c, unlock, err := e.lockedState(ctr)
	if err != nil {
		return err
	}
	defer unlock()
	if err := connectable(c); err != nil {
		return err
	}
	if _, on := c.Config.Network.endpoint(n); on {
		return fmt.Errorf("endpoint with name %s already exists in network %s: %w", c.Name, n.Name, errdefs.ErrConflict)
	}
	name := n.Name
	if n.Builtin() {
		name = NetworkBridge
	}
	ep, _, err := e.newEndpoint(EndpointOptions{Network: name, Aliases: o.Aliases, IPAddress: o.IPAddress, MacAddress: o.MacAddress})
	if err != nil {
		return err
	}
	before := c.Config.Network
	c.Config.Network.Endpoints = append(slices.Clone(before.Endpoints), ep)
	running := c.Running() && c.State.Pid > 0
	if running {
		if err := e.attachEndpoint(c, ep); err != nil {
			return err
		}
	}
	if err := e.saveNetwork(c, before); err != nil {
		if running {
			e.detachEndpoint(c, n)
		}
		return err
	}
	e.networkEvent(ctx, n, "connect", c.ID)
	if running && !n.Builtin() {
		return e.serveNames(n.ID)
	}
	return nil
}

// connectable refuses, as Docker does, a container whose network
// namespace is the host's, another container's, or none.
func connectable(c *Container) error {
	mode := c.Config.NetworkMode
	switch {
	case mode == NetworkNone:
		return invalid(errNoneNetwork)
	case mode == NetworkHost, strings.HasPrefix(mode, networkContainer), strings.HasPrefix(mode, networkPath):
		return invalid(errSharedNetwork)
	case mode == NetworkSlirp:
		return invalid("container %s reaches the network through slirp4netns, which cannot be combined with other networks", c.Name)
	}
	return nil
}

// attachEndpoint gives running c an address on ep's network and its veth
// there. The default route stays where it is, unless c has none.
func (e *Engine) attachEndpoint(c *Container, ep Endpoint) error {
	b, network, err := e.bridgeAttachment(c, ep)
	if err != nil {
		return err
	}
	for _, other := range c.Config.Network.Endpoints[:len(c.Config.Network.Endpoints)-1] {
		if n, err := e.lookupNetwork(context.Background(), other.ref()); err == nil && !n.Config.Internal {
			b.NoDefaultRoute = true
		}
	}
	if err := e.inBridgeNetns(func() error { _, err := netns.AttachBridge(b, c.State.Pid); return err }); err != nil {
		e.db.ReleaseAddress(context.Background(), network.ID, c.ID)
		return fmt.Errorf("connecting container %s to network %s: %w", c.Name, network.Name, err)
	}
	return nil
}

// detachEndpoint removes running c's veth on n and frees its address
// there.
func (e *Engine) detachEndpoint(c *Container, n *Network) error {
	addrs, err := e.db.ContainerAddresses(context.Background(), c.ID)
	if err != nil {
		return err
	}
	a, ok := addrs[n.ID]
	if !ok {
		return nil // never attached (it was connected while stopped, then started without it)
	}
	b := n.bridgeConfig()
	b.ContainerID, b.Address = c.ID, a.String()
	if err := e.inBridgeNetns(func() error { return netns.DetachBridge(b, c.State.Pid) }); err != nil {
		return fmt.Errorf("disconnecting container %s from network %s: %w", c.Name, n.Name, err)
	}
	return e.db.ReleaseAddress(context.Background(), n.ID, c.ID)
}

// saveNetwork stores c's network settings, and rewrites its resolv.conf
// when its name server changed (in place: the container has the file
// bind-mounted, and a rename would leave it the old one).
func (e *Engine) saveNetwork(c *Container, before ContainerNetwork) error {
	b, err := json.Marshal(c.Config)
	if err != nil {
		return err
	}
	if err := e.db.SetConfig(context.Background(), c.ID, b); err != nil {
		return err
	}
	if before.dnsServer() == c.Config.Network.dnsServer() {
		return nil
	}
	resolv := netns.ResolvConf(netns.HostResolvConf(), resolvOptions(&c.Config))
	return os.WriteFile(c.ResolvConfFile(), resolv, 0o644)
}

// NetworkDisconnectOptions tune NetworkDisconnect.
type NetworkDisconnectOptions struct {
	Force bool // Docker's -f: also a network that no longer exists, by ID
}

// NetworkDisconnect takes container ctr off network net.
func (e *Engine) NetworkDisconnect(ctx context.Context, net, ctr string, o NetworkDisconnectOptions) error {
	n, err := e.lookupNetwork(ctx, net)
	if errdefs.IsNotFound(err) && o.Force {
		n = &Network{ID: net, Name: net} // a removed network the container still names
	} else if err != nil {
		return err
	}
	c, unlock, err := e.lockedState(ctr)
	if err != nil {
		return err
	}
	defer unlock()
	if c.Config.NetworkMode == NetworkHost && net == NetworkHost {
		return invalid("container cannot be disconnected from host network or connected to host network")
	}
	i, on := c.Config.Network.endpoint(n)
	if !on {
		return fmt.Errorf("container %s is not connected to network %s: %w", c.Name, n.Name, errdefs.ErrFailedPrecondition)
	}
	before := c.Config.Network
	if c.Running() && c.State.Pid > 0 && n.Config.Bridge != "" {
		if err := e.detachEndpoint(c, n); err != nil {
			return err
		}
	}
	c.Config.Network.Endpoints = slices.Delete(slices.Clone(before.Endpoints), i, i+1)
	if err := e.saveNetwork(c, before); err != nil {
		return err
	}
	e.networkEvent(ctx, n, "disconnect", c.ID)
	if !n.Builtin() && n.Config.Bridge != "" {
		return e.writeNames(n.ID)
	}
	return nil
}

// inBridgeNetns runs fn where the bridges are: the current namespace
// rootful, the shared namespace of rootless user networks rootless (which
// runs while a container on a user network runs: its monitor holds it).
func (e *Engine) inBridgeNetns(fn func() error) error {
	if !e.paths.Rootless {
		return fn()
	}
	ok, err := netns.InShared(e.sharedNetnsDir(), fn)
	if !ok {
		return fmt.Errorf("the shared network namespace of rootless user networks is not running: restart the container: %w", errdefs.ErrFailedPrecondition)
	}
	return err
}
