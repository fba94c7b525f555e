package netns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/containerd/errdefs"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// addRules declares what is missing of skiff's table, adds the networks
// of nets to its sets and publishes ports to the first one's address, in
// one transaction. With replace, rules a previous run of the same container
// left (its monitor was killed) go in the same transaction, so the
// container's ports never point two ways; a network attached to a running
// container (no ports) leaves its rules alone.
func addRules(nets []*bridgeNet, ports []PortMapping, replace bool) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	st, err := readState(c)
	if err != nil {
		return err
	}
	var stale []*nftables.Rule
	if replace {
		if stale, err = containerRules(c, nets[0].cfg.ContainerID); err != nil {
			return err
		}
	}
	if err := addRulesBatch(c, nets, ports, stale, st); err != nil {
		return fmt.Errorf("adding the container's nftables rules to table ip %s: %w", nftTable, err)
	}
	return nil
}

// addRulesBatch is addRules's transaction.
func addRulesBatch(c *nftables.Conn, nets []*bridgeNet, ports []PortMapping, stale []*nftables.Rule, st tableState) error {
	l, err := declare(c, st)
	if err != nil {
		return err
	}
	for _, b := range nets {
		for _, e := range l.bridgeElements(b.cfg.Name, b.subnet, b.cfg.Internal) {
			if err := c.SetAddElements(e.set, e.elems); err != nil {
				return err
			}
		}
	}
	for _, r := range stale {
		if err := c.DelRule(r); err != nil {
			return err
		}
	}
	comment := userdata.AppendString(nil, userdata.TypeComment, nets[0].cfg.ContainerID)
	for _, p := range ports {
		c.AddRule(&nftables.Rule{Table: table, Chain: l.ports, Exprs: dnat(p, nets[0].address), UserData: comment})
	}
	return c.Flush()
}

// dnat is the rule that sends HostIP:HostPort to address:ContainerPort.
func dnat(p PortMapping, address net.IP) []expr.Any {
	proto := byte(unix.IPPROTO_TCP)
	if p.Protocol == "udp" {
		proto = unix.IPPROTO_UDP
	}
	var e []expr.Any
	if ip := net.ParseIP(p.HostIP).To4(); ip != nil && !ip.IsUnspecified() {
		e = append(e, ipDaddr(1), cmpEq(1, ip))
	}
	return append(e,
		meta(expr.MetaKeyL4PROTO, 1), cmpEq(1, []byte{proto}),
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		cmpEq(1, binary.BigEndian.AppendUint16(nil, uint16(p.HostPort))),
		&expr.Immediate{Register: 1, Data: address.To4()},
		&expr.Immediate{Register: 2, Data: binary.BigEndian.AppendUint16(nil, uint16(p.ContainerPort))},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
}

// containerRules lists the rules of the ports chain that carry id (none
// when there is no table: the kernel's dump is empty).
func containerRules(c *nftables.Conn, id string) ([]*nftables.Rule, error) {
	rules, err := c.GetRules(table, portsChain)
	if err != nil {
		return nil, fmt.Errorf("listing nftables table ip %s: %w", nftTable, err)
	}
	var mine []*nftables.Rule
	for _, r := range rules {
		if s, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && s == id {
			mine = append(mine, r)
		}
	}
	return mine, nil
}

// RemovePortRules removes the published ports of container containerID
// from skiff's table. Network.Close calls it; the engine calls it when it
// cleans up after a monitor that was killed (its port reservations died
// with it, its rules did not). Removing what is not there is no error.
func RemovePortRules(containerID string) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	// A concurrent removal (the engine's and the monitor's) can delete a
	// listed rule first, failing the whole batch: list again.
	for try := 0; ; try++ {
		rules, err := containerRules(c, containerID)
		if err != nil || len(rules) == 0 {
			return err
		}
		for _, r := range rules {
			if err := c.DelRule(r); err != nil {
				return fmt.Errorf("nftables: %w", err)
			}
		}
		err = c.Flush()
		if err == nil || !errors.Is(err, unix.ENOENT) || try == 2 {
			if err != nil {
				return fmt.Errorf("removing the nftables rules of container %s: %w", containerID, err)
			}
			return nil
		}
	}
}

// RemoveBridge deletes a network's bridge and its elements in skiff's sets,
// for the engine when the network is removed (no container may be on it).
// What is already gone is no error.
func RemoveBridge(cfg BridgeConfig) error {
	_, subnet, err := net.ParseCIDR(cfg.Subnet)
	if err != nil || subnet.IP.To4() == nil {
		return fmt.Errorf("bridge %s: subnet %q is not an IPv4 CIDR: %w", cfg.Name, cfg.Subnet, errdefs.ErrInvalidArgument)
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	st, err := readState(c)
	if err != nil {
		return err
	}
	if !st.chains {
		return deleteLink(cfg.Name)
	}
	l := &layout{}
	for _, s := range []struct {
		name string
		dst  **nftables.Set
	}{{"bridges", &l.bridges}, {"intra", &l.intra}, {"internal", &l.internal}, {"nat", &l.nat}} {
		set, err := c.GetSetByName(table, s.name)
		if err != nil {
			return fmt.Errorf("nftables: set %s: %w", s.name, err)
		}
		*s.dst = set
	}
	// One batch per set: deleting an absent element fails its batch.
	for _, e := range l.bridgeElements(cfg.Name, subnet, cfg.Internal) {
		if err := c.SetDeleteElements(e.set, e.elems); err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("removing bridge %s from table ip %s: %w", cfg.Name, nftTable, err)
		}
	}
	return deleteLink(cfg.Name)
}
