package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/netns"
)

// Network is one network as the engine sees it: a row of the networks
// table and its bridge layout.
type Network struct {
	ID      string
	Name    string
	Created time.Time
	Config  NetworkLayout
}

// NetworkLayout is a network's layout, kept as the row's JSON.
type NetworkLayout struct {
	Driver   string            `json:"driver"`
	Bridge   string            `json:"bridge"`
	Subnet   string            `json:"subnet"`
	Gateway  string            `json:"gateway"`
	IPRange  string            `json:"ip_range,omitempty"`
	Internal bool              `json:"internal,omitempty"`
	MTU      int               `json:"mtu,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Options  map[string]string `json:"options,omitempty"`
}

// Builtin reports the networks Docker calls predefined: bridge, host, none.
func (n *Network) Builtin() bool { return n.Name == NetworkBridge }

// NetworkCreateOptions are `network create`'s, as Docker's API takes them.
type NetworkCreateOptions struct {
	Name     string
	Driver   string // "" or bridge
	Subnet   string // CIDR; "" picks a free /24 of skiff.toml's subnet_pool (10.89.0.0/16)
	Gateway  string // "" for the subnet's first address
	IPRange  string // CIDR inside Subnet that addresses are given from
	Internal bool
	Labels   map[string]string
	Options  map[string]string // mtu, com.docker.network.driver.mtu, com.docker.network.bridge.name
}

// NetworkCreateResult names the new network.
type NetworkCreateResult struct {
	ID string
}

// NetworkCreate records a bridge network (the bridge itself is made when
// its first container starts: rootless, in the user's shared network
// namespace).
func (e *Engine) NetworkCreate(ctx context.Context, o NetworkCreateOptions) (NetworkCreateResult, error) {
	if !validName(o.Name, 1) {
		return NetworkCreateResult{}, invalid("invalid network name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", o.Name)
	}
	switch o.Name {
	case NetworkBridge, NetworkHost, NetworkNone, "podman", "default":
		return NetworkCreateResult{}, fmt.Errorf("network name %s is reserved for a predefined network: choose another: %w", o.Name, errdefs.ErrConflict)
	}
	if o.Driver != "" && o.Driver != "bridge" {
		return NetworkCreateResult{}, invalid("network driver %q is not supported: use bridge", o.Driver)
	}
	if err := e.openDB(); err != nil {
		return NetworkCreateResult{}, err
	}
	existing, err := e.networks(ctx)
	if err != nil {
		return NetworkCreateResult{}, err
	}
	cfg := NetworkLayout{Driver: "bridge", Internal: o.Internal, Labels: o.Labels, Options: o.Options}
	if err := networkOptions(&cfg, o.Options); err != nil {
		return NetworkCreateResult{}, err
	}
	subnet, err := e.chooseSubnet(o.Subnet, existing)
	if err != nil {
		return NetworkCreateResult{}, err
	}
	gw := subnet.Addr().Next()
	if o.Gateway != "" {
		if gw, err = netip.ParseAddr(o.Gateway); err != nil || !subnet.Contains(gw) || gw == subnet.Addr() {
			return NetworkCreateResult{}, invalid("invalid --gateway %q: use an address of subnet %s", o.Gateway, subnet)
		}
	}
	if o.IPRange != "" {
		r, err := netip.ParsePrefix(o.IPRange)
		if err != nil || !subnet.Contains(r.Addr()) || r.Bits() < subnet.Bits() {
			return NetworkCreateResult{}, invalid("invalid --ip-range %q: use a CIDR inside subnet %s", o.IPRange, subnet)
		}
		cfg.IPRange = r.Masked().String()
	}
	cfg.Subnet, cfg.Gateway = subnet.String(), gw.String()
	idb := make([]byte, 32)
	rand.Read(idb)
	id := hex.EncodeToString(idb)
	if cfg.Bridge == "" {
		cfg.Bridge = "br-" + id[:12] // Docker's name for a user network's bridge
	}
	b, _ := json.Marshal(cfg)
	if err := e.db.CreateNetwork(ctx, statedb.Network{ID: id, Name: o.Name, Created: time.Now().UTC(), Config: b}); err != nil {
		return NetworkCreateResult{}, err
	}
	e.networkEvent(ctx, &Network{ID: id, Name: o.Name, Config: cfg}, "create", "")
	return NetworkCreateResult{ID: id}, nil
}

// networkOptions reads Docker's bridge driver options.
func networkOptions(cfg *NetworkLayout, opts map[string]string) error {
	for k, v := range opts {
		switch k {
		case "mtu", "com.docker.network.driver.mtu":
			mtu, err := strconv.Atoi(v)
			if err != nil || mtu < 68 || mtu > 65535 {
				return invalid("invalid --opt %s=%q: use an MTU from 68 to 65535", k, v)
			}
			cfg.MTU = mtu
		case "com.docker.network.bridge.name":
			if len(v) == 0 || len(v) > 15 || strings.ContainsAny(v, "/ ") {
				return invalid("invalid --opt %s=%q: use a device name of 1 to 15 characters", k, v)
			}
			cfg.Bridge = v
		default:
			return invalid("unknown --opt %q for the bridge driver: use mtu or com.docker.network.bridge.name", k)
		}
	}
	return nil
}

// chooseSubnet checks a given subnet against the other networks and the
// host, or picks the first free 10.89.N.0/24.
func (e *Engine) chooseSubnet(given string, existing []*Network) (netip.Prefix, error) {
	var taken []netip.Prefix
	for _, n := range existing {
		if p, err := netip.ParsePrefix(n.Config.Subnet); err == nil {
			taken = append(taken, p)
		}
	}
	host := hostPrefixes()
	if e.paths.Rootless {
		// The bridges live in the shared namespace, whose only other
		// network is its way out's.
		out, err := e.sharedNetnsConfig()
		if err != nil {
			return netip.Prefix{}, err
		}
		host = []netip.Prefix{netip.MustParsePrefix(firstNonEmpty(out.Slirp.CIDR, netns.SlirpCIDR)).Masked()}
	}
	if given != "" {
		p, err := netip.ParsePrefix(given)
		if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
			return netip.Prefix{}, invalid("invalid --subnet %q: use an IPv4 CIDR of /30 or larger, e.g. 10.90.0.0/24", given)
		}
		p = p.Masked()
		for _, n := range existing {
			if q, err := netip.ParsePrefix(n.Config.Subnet); err == nil && q.Overlaps(p) {
				return netip.Prefix{}, fmt.Errorf("subnet %s overlaps with network %s (%s): choose another: %w", p, n.Name, q, errdefs.ErrConflict)
			}
		}
		if e.paths.Rootless && host[0].Overlaps(p) {
			return netip.Prefix{}, fmt.Errorf("subnet %s overlaps with %s, which rootless user networks reach the outside through: choose another: %w", p, host[0], errdefs.ErrConflict)
		}
		return p, nil
	}
	pool, err := netip.ParsePrefix(firstNonEmpty(e.cfg.Network.SubnetPool, "10.89.0.0/16"))
	if err != nil || !pool.Addr().Is4() || pool.Bits() > 24 {
		return netip.Prefix{}, invalid("skiff.toml: network.subnet_pool %q: use an IPv4 CIDR of /24 or larger", e.cfg.Network.SubnetPool)
	}
	pool = pool.Masked()
	for a := pool.Addr(); pool.Contains(a); {
		p := netip.PrefixFrom(a, 24)
		if !slices.ContainsFunc(taken, p.Overlaps) && !slices.ContainsFunc(host, p.Overlaps) {
			return p, nil
		}
		b := a.As4()
		if b[2] == 255 {
			break
		}
		b[2]++
		a = netip.AddrFrom4(b)
	}
	return netip.Prefix{}, fmt.Errorf("no free subnet is left in %s: give one with --subnet: %w", pool, errdefs.ErrResourceExhausted)
}

// networks are every network of the database, the default one included
// once it was used.
func (e *Engine) networks(ctx context.Context) ([]*Network, error) {
	rows, err := e.db.Networks(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Network
	for _, r := range rows {
		n := &Network{ID: r.ID, Name: r.Name, Created: r.Created}
		if err := json.Unmarshal(r.Config, &n.Config); err != nil {
			return nil, fmt.Errorf("network %s: %w", r.Name, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// lookupNetwork finds a network by name, full ID or unique ID prefix.
func (e *Engine) lookupNetwork(ctx context.Context, ref string) (*Network, error) {
	if err := e.openDB(); err != nil {
		return nil, err
	}
	if ref == "podman" {
		ref = NetworkBridge
	}
	all, err := e.networks(ctx)
	if err != nil {
		return nil, err
	}
	if ref == NetworkBridge && !slices.ContainsFunc(all, (*Network).Builtin) {
		// The default network is recorded on its first use (a write, once).
		row, err := e.defaultNetwork()
		if err != nil {
			return nil, err
		}
		n := &Network{ID: row.ID, Name: row.Name, Created: row.Created}
		return n, json.Unmarshal(row.Config, &n.Config)
	}
	var byPrefix []*Network
	for _, n := range all {
		if n.Name == ref || n.ID == ref {
			return n, nil
		}
		if len(ref) >= 1 && strings.HasPrefix(n.ID, ref) {
			byPrefix = append(byPrefix, n)
		}
	}
	switch len(byPrefix) {
	case 1:
		return byPrefix[0], nil
	case 0:
		return nil, fmt.Errorf("network %s not found: %w", ref, errdefs.ErrNotFound)
	}
	return nil, fmt.Errorf("network ID %s is ambiguous: give more of it: %w", ref, errdefs.ErrInvalidArgument)
}

// networkUsers are the containers configured on network n.
func (e *Engine) networkUsers(n *Network) ([]*Container, error) {
	all, err := e.listContainers()
	if err != nil {
		return nil, err
	}
	var out []*Container
	for _, c := range all {
		if _, on := c.Config.Network.endpoint(n); on {
			out = append(out, c)
		}
	}
	return out, nil
}

// NetworkRemoveOptions tune NetworkRemove.
type NetworkRemoveOptions struct {
	Force bool // Docker's -f: a network that does not exist is no error
}

// NetworkRemove removes a user network that no container uses, and its
// bridge.
func (e *Engine) NetworkRemove(ctx context.Context, ref string, o NetworkRemoveOptions) error {
	n, err := e.lookupNetwork(ctx, ref)
	if errdefs.IsNotFound(err) && o.Force {
		return nil
	}
	if err != nil {
		return err
	}
	if n.Builtin() {
		return fmt.Errorf("%s is a pre-defined network and cannot be removed: %w", n.Name, errdefs.ErrPermissionDenied)
	}
	users, err := e.networkUsers(n)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		var names []string
		for _, c := range users {
			names = append(names, c.Name)
		}
		return fmt.Errorf("network %s is in use by container(s) %s: remove them first: %w", n.Name, strings.Join(names, ", "), errdefs.ErrConflict)
	}
	if err := e.db.DeleteNetwork(ctx, n.ID); err != nil {
		return err
	}
	e.networkEvent(ctx, n, "destroy", "")
	return e.removeBridge(n)
}

// removeBridge removes n's bridge and its rules: rootless from the shared
// namespace, if it exists (with no holder there is no bridge either).
func (e *Engine) removeBridge(n *Network) error {
	if !e.paths.Rootless {
		return netns.RemoveBridge(n.bridgeConfig())
	}
	_, err := netns.InShared(e.sharedNetnsDir(), func() error { return netns.RemoveBridge(n.bridgeConfig()) })
	return err
}

// bridgeConfig is what the monitor and netns need of n.
func (n *Network) bridgeConfig() netns.BridgeConfig {
	return netns.BridgeConfig{Name: n.Config.Bridge, Subnet: n.Config.Subnet, Gateway: n.Config.Gateway,
		Internal: n.Config.Internal, MTU: n.Config.MTU}
}

// NetworkListOptions are `network ls`'s: Docker's filters (name, id,
// label, driver, type custom|builtin, dangling).
type NetworkListOptions struct {
	Filters []string
}

// NetworkListResult lists networks, oldest first.
type NetworkListResult struct {
	Networks []*Network
}

// NetworkList lists the networks; the default one always.
func (e *Engine) NetworkList(ctx context.Context, o NetworkListOptions) (NetworkListResult, error) {
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return NetworkListResult{}, err
	}
	match, err := e.networkFilterSpec().compile(f)
	if err != nil {
		return NetworkListResult{}, err
	}
	if _, err := e.lookupNetwork(ctx, NetworkBridge); err != nil {
		return NetworkListResult{}, err
	}
	all, err := e.networks(ctx)
	if err != nil {
		return NetworkListResult{}, err
	}
	var out []*Network
	for _, n := range all {
		if match(n) {
			out = append(out, n)
		}
	}
	return NetworkListResult{Networks: out}, nil
}

func (e *Engine) networkFilterSpec() filterSpec[*Network] {
	keys := labelKeys(func(n *Network) map[string]string { return n.Config.Labels })
	keys["name"] = filterKey[*Network]{match: func(v string) (func(*Network) bool, error) {
		return func(n *Network) bool { return strings.Contains(n.Name, v) }, nil
	}}
	keys["id"] = filterKey[*Network]{match: func(v string) (func(*Network) bool, error) {
		return func(n *Network) bool { return strings.HasPrefix(n.ID, v) }, nil
	}}
	keys["driver"] = filterKey[*Network]{match: func(v string) (func(*Network) bool, error) {
		return func(n *Network) bool { return n.Config.Driver == v }, nil
	}}
	keys["type"] = filterKey[*Network]{check: oneOf("custom", "builtin"), match: func(v string) (func(*Network) bool, error) {
		return func(n *Network) bool { return n.Builtin() == (v == "builtin") }, nil
	}}
	keys["dangling"] = boolKey(func(n *Network) bool {
		users, err := e.networkUsers(n)
		return err == nil && len(users) == 0 && !n.Builtin()
	})
	return filterSpec[*Network]{what: "networks", keys: keys}
}

// NetworkPruneResult names the networks removed.
type NetworkPruneResult struct {
	Removed []string
}

// NetworkPrune removes every user network no container uses (Docker's
// filters: label, until).
func (e *Engine) NetworkPrune(ctx context.Context, filters []string) (NetworkPruneResult, error) {
	f, err := ParseFilters(filters)
	if err != nil {
		return NetworkPruneResult{}, err
	}
	keys := labelKeys(func(n *Network) map[string]string { return n.Config.Labels })
	keys["until"] = untilKey(time.Now(), func(n *Network) time.Time { return n.Created })
	match, err := filterSpec[*Network]{what: "network prune", keys: keys}.compile(f)
	if err != nil {
		return NetworkPruneResult{}, err
	}
	if err := e.openDB(); err != nil {
		return NetworkPruneResult{}, err
	}
	all, err := e.networks(ctx)
	if err != nil {
		return NetworkPruneResult{}, err
	}
	var res NetworkPruneResult
	for _, n := range all {
		if n.Builtin() || !match(n) {
			continue
		}
		if users, err := e.networkUsers(n); err != nil || len(users) > 0 {
			continue
		}
		if err := e.NetworkRemove(ctx, n.ID, NetworkRemoveOptions{}); err != nil {
			return res, err
		}
		res.Removed = append(res.Removed, n.Name)
	}
	e.pruneEvent(ctx, EventNetwork, -1)
	return res, nil
}

// NetworkInspect is Docker's network inspect document.
type NetworkInspect struct {
	Name       string                             `json:"Name"`
	ID         string                             `json:"Id"`
	Created    time.Time                          `json:"Created"`
	Scope      string                             `json:"Scope"`
	Driver     string                             `json:"Driver"`
	EnableIPv6 bool                               `json:"EnableIPv6"`
	IPAM       NetworkIPAM                        `json:"IPAM"`
	Internal   bool                               `json:"Internal"`
	Attachable bool                               `json:"Attachable"`
	Ingress    bool                               `json:"Ingress"`
	ConfigOnly bool                               `json:"ConfigOnly"`
	Containers map[string]NetworkInspectContainer `json:"Containers"`
	Options    map[string]string                  `json:"Options"`
	Labels     map[string]string                  `json:"Labels"`
}

// NetworkIPAM is Docker's IPAM block.
type NetworkIPAM struct {
	Driver  string              `json:"Driver"`
	Options map[string]string   `json:"Options"`
	Config  []map[string]string `json:"Config"`
}

// NetworkInspectContainer is one running container on the network.
type NetworkInspectContainer struct {
	Name        string `json:"Name"`
	EndpointID  string `json:"EndpointID"`
	MacAddress  string `json:"MacAddress"`
	IPv4Address string `json:"IPv4Address"`
	IPv6Address string `json:"IPv6Address"`
}

// NetworkInspect describes a network and the containers that hold an
// address on it.
func (e *Engine) NetworkInspect(ctx context.Context, ref string) (NetworkInspect, error) {
	n, err := e.lookupNetwork(ctx, ref)
	if err != nil {
		return NetworkInspect{}, err
	}
	ipam := map[string]string{"Subnet": n.Config.Subnet, "Gateway": n.Config.Gateway}
	if n.Config.IPRange != "" {
		ipam["IPRange"] = n.Config.IPRange
	}
	out := NetworkInspect{Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local", Driver: n.Config.Driver,
		IPAM:     NetworkIPAM{Driver: "default", Options: map[string]string{}, Config: []map[string]string{ipam}},
		Internal: n.Config.Internal, Containers: map[string]NetworkInspectContainer{},
		Options: map[string]string{"com.docker.network.bridge.name": n.Config.Bridge}, Labels: map[string]string{}}
	for k, v := range n.Config.Options {
		out.Options[k] = v
	}
	for k, v := range n.Config.Labels {
		out.Labels[k] = v
	}
	addrs, err := e.db.NetworkAddresses(ctx, n.ID)
	if err != nil {
		return out, err
	}
	bits := strings.SplitN(n.Config.Subnet, "/", 2)
	for id, a := range addrs {
		c, err := e.lookupContainer(id)
		if err != nil {
			continue
		}
		addr := a.String()
		if len(bits) == 2 {
			addr += "/" + bits[1]
		}
		i, on := c.Config.Network.endpoint(n)
		if !on {
			continue // disconnected while its address was being released
		}
		out.Containers[id] = NetworkInspectContainer{Name: c.Name, EndpointID: endpointID(id, n.ID),
			MacAddress: endpointMAC(c.Config.Network.Endpoints[i], a), IPv4Address: addr}
	}
	return out, nil
}

// NetworkExists reports whether ref names a network.
func (e *Engine) NetworkExists(ctx context.Context, ref string) (bool, error) {
	_, err := e.lookupNetwork(ctx, ref)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// hostPrefixes are the host's own IPv4 networks (loopback aside), which no
// container network may overlap.
func hostPrefixes() []netip.Prefix {
	var out []netip.Prefix
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if p, err := netip.ParsePrefix(ipn.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
				out = append(out, p.Masked())
			}
		}
	}
	return out
}
