package netns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// skiff's rules live in one nftables table of its own, ip skiff, created on
// demand; no other table is read or written. In nft syntax:
//
//	table ip skiff {
//	  set bridges  { type ifname }                    every skiff bridge
//	  set intra    { type ifname . ifname }           bridge . bridge, for each
//	  set internal { type ifname }                    bridges of internal networks
//	  set nat      { type ipv4_addr; flags interval } subnets of the others
//
//	  chain prerouting  { type nat hook prerouting priority dstnat
//	    fib daddr type local jump ports }
//	  chain output      { type nat hook output priority dstnat
//	    fib daddr type local jump ports }
//	  chain ports {                                   one rule per published port
//	    [ip daddr HOSTIP] meta l4proto tcp th dport 8080 dnat to 10.88.0.2:80 comment "ID" }
//	  chain postrouting { type nat hook postrouting priority srcnat
//	    ip saddr @nat oifname != @bridges masquerade
//	    oifname @bridges ip saddr 127.0.0.0/8 masquerade }
//	  chain forward     { type filter hook forward priority filter; policy accept
//	    iifname . oifname @intra accept
//	    iifname @internal drop
//	    oifname @internal drop
//	    iifname @bridges oifname @bridges drop }
//	  chain input       { type filter hook input priority filter; policy accept
//	    iifname @internal meta l4proto udp th dport 53 accept   the network's DNS
//	    iifname @internal meta l4proto tcp th dport 53 accept
//	    iifname @internal drop }                               nor the host itself
//	}
//
// Everything but the ports chain is static: the first Setup creates it,
// and one that finds an older layout (its static rules carry a layout
// version as their comment) replaces it, in the same transaction as its
// own additions, so concurrent monitors converge on one copy. Otherwise a
// Setup only adds: declaring an existing chain again or deleting a rule
// costs the kernel's commit an RCU grace period (some 10 ms), adding
// costs nothing like it. What varies per network is set elements (adding
// an existing one is no error); what varies per container is rules in
// ports, each carrying its container's ID as its comment, which is how
// RemovePortRules finds them without the monitor that added them. intra
// comes first in forward because with br_netfilter the traffic between
// two containers of one bridge passes the forward hook too.
const (
	nftTable      = "skiff"
	layoutVersion = "skiff layout 2" // change with the static rules
)

var table = &nftables.Table{Family: nftables.TableFamilyIPv4, Name: nftTable}

// layout is the table's sets and chains, declared in a batch.
type layout struct {
	bridges, intra, internal, nat            *nftables.Set
	prerouting, output, postrouting, forward *nftables.Chain
	input                                    *nftables.Chain
	ports                                    *nftables.Chain
}

// The chains Setup reads: ports for a container's rules, forward for the
// layout's version.
var (
	portsChain   = &nftables.Chain{Table: table, Name: "ports"}
	forwardChain = &nftables.Chain{Table: table, Name: "forward"}
)

// tableState is what a Setup found of skiff's table.
type tableState struct {
	chains  bool // the table, and so its chains, exist
	current bool // and its static rules are of layoutVersion
}

// readState reads whether the table exists, and the layout's version off
// its forward chain. The table and its chains are created in one
// transaction: one exists when the other does.
func readState(c *nftables.Conn) (tableState, error) {
	if _, err := c.ListTableOfFamily(nftTable, table.Family); errors.Is(err, unix.ENOENT) {
		return tableState{}, nil
	} else if err != nil {
		return tableState{}, fmt.Errorf("reading nftables table ip %s: %w", nftTable, err)
	}
	rules, err := c.GetRules(table, forwardChain)
	if err != nil {
		return tableState{}, fmt.Errorf("listing nftables table ip %s: %w", nftTable, err)
	}
	st := tableState{chains: true, current: len(rules) > 0}
	for _, r := range rules {
		if v, _ := userdata.GetString(r.UserData, userdata.TypeComment); v != layoutVersion {
			st.current = false
		}
	}
	return st, nil
}

// declare adds to c's batch what st says is missing of the table, and
// names the rest.
func declare(c *nftables.Conn, st tableState) (*layout, error) {
	c.AddTable(table)
	l := &layout{
		bridges:  &nftables.Set{Table: table, Name: "bridges", KeyType: nftables.TypeIFName},
		intra:    &nftables.Set{Table: table, Name: "intra", KeyType: nftables.MustConcatSetType(nftables.TypeIFName, nftables.TypeIFName)},
		internal: &nftables.Set{Table: table, Name: "internal", KeyType: nftables.TypeIFName},
		nat:      &nftables.Set{Table: table, Name: "nat", KeyType: nftables.TypeIPAddr, Interval: true},
	}
	for _, s := range []*nftables.Set{l.bridges, l.intra, l.internal, l.nat} {
		if err := c.AddSet(s, nil); err != nil {
			return nil, err
		}
	}
	chain := func(ch *nftables.Chain) *nftables.Chain {
		if st.chains && st.current {
			return ch
		}
		return c.AddChain(ch) // an older layout may lack it
	}
	accept := nftables.ChainPolicyAccept
	l.ports = chain(portsChain)
	l.prerouting = chain(&nftables.Chain{Table: table, Name: "prerouting", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
	l.output = chain(&nftables.Chain{Table: table, Name: "output", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest})
	l.postrouting = chain(&nftables.Chain{Table: table, Name: "postrouting", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	l.forward = chain(&nftables.Chain{Table: table, Name: forwardChain.Name, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	l.input = chain(&nftables.Chain{Table: table, Name: "input", Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	if !st.current {
		l.fillStatic(c)
	}
	return l, nil
}

// fillStatic replaces the rules of the static chains (see the table above).
func (l *layout) fillStatic(c *nftables.Conn) {
	for _, ch := range []*nftables.Chain{l.prerouting, l.output, l.postrouting, l.forward, l.input} {
		c.FlushChain(ch)
	}
	toLocal := []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		cmpEq(1, binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)),
		&expr.Verdict{Kind: expr.VerdictJump, Chain: l.ports.Name},
	}
	add(c, l.prerouting, toLocal...)
	add(c, l.output, toLocal...)
	add(c, l.postrouting, ipSaddr(1), lookup(1, l.nat, false),
		meta(expr.MetaKeyOIFNAME, 1), lookup(1, l.bridges, true), &expr.Masq{})
	add(c, l.postrouting, meta(expr.MetaKeyOIFNAME, 1), lookup(1, l.bridges, false),
		ipSaddr(1), &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
		cmpEq(1, []byte{127, 0, 0, 0}), &expr.Masq{})
	add(c, l.forward, meta(expr.MetaKeyIIFNAME, 1), meta(expr.MetaKeyOIFNAME, 2), lookup(1, l.intra, false),
		&expr.Verdict{Kind: expr.VerdictAccept})
	add(c, l.forward, meta(expr.MetaKeyIIFNAME, 1), lookup(1, l.internal, false), &expr.Verdict{Kind: expr.VerdictDrop})
	add(c, l.forward, meta(expr.MetaKeyOIFNAME, 1), lookup(1, l.internal, false), &expr.Verdict{Kind: expr.VerdictDrop})
	add(c, l.forward, meta(expr.MetaKeyIIFNAME, 1), lookup(1, l.bridges, false),
		meta(expr.MetaKeyOIFNAME, 1), lookup(1, l.bridges, false), &expr.Verdict{Kind: expr.VerdictDrop})
	for _, proto := range []byte{unix.IPPROTO_UDP, unix.IPPROTO_TCP} {
		add(c, l.input, meta(expr.MetaKeyIIFNAME, 1), lookup(1, l.internal, false),
			meta(expr.MetaKeyL4PROTO, 1), cmpEq(1, []byte{proto}),
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			cmpEq(1, binary.BigEndian.AppendUint16(nil, 53)), &expr.Verdict{Kind: expr.VerdictAccept})
	}
	add(c, l.input, meta(expr.MetaKeyIIFNAME, 1), lookup(1, l.internal, false), &expr.Verdict{Kind: expr.VerdictDrop})
}

// setElems are elements of one set.
type setElems struct {
	set   *nftables.Set
	elems []nftables.SetElement
}

// bridgeElements are the set elements of one network.
func (l *layout) bridgeElements(name string, subnet *net.IPNet, internal bool) []setElems {
	dev := ifname(name)
	own := setElems{l.nat, subnetInterval(subnet)}
	if internal {
		own = setElems{l.internal, []nftables.SetElement{{Key: dev}}}
	}
	return []setElems{
		{l.bridges, []nftables.SetElement{{Key: dev}}},
		{l.intra, []nftables.SetElement{{Key: append(append([]byte{}, dev...), dev...)}}},
		own,
	}
}

// add adds a static rule.
func add(c *nftables.Conn, ch *nftables.Chain, exprs ...expr.Any) {
	c.AddRule(&nftables.Rule{Table: table, Chain: ch, Exprs: exprs,
		UserData: userdata.AppendString(nil, userdata.TypeComment, layoutVersion)})
}

func meta(key expr.MetaKey, reg uint32) expr.Any { return &expr.Meta{Key: key, Register: reg} }

func cmpEq(reg uint32, data []byte) expr.Any {
	return &expr.Cmp{Op: expr.CmpOpEq, Register: reg, Data: data}
}

func lookup(reg uint32, s *nftables.Set, invert bool) expr.Any {
	return &expr.Lookup{SourceRegister: reg, SetName: s.Name, SetID: s.ID, Invert: invert}
}

func ipSaddr(reg uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}
}

func ipDaddr(reg uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4}
}

// ifname is a device name as the kernel compares it: IFNAMSIZ bytes,
// zero-padded.
func ifname(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// subnetInterval is subnet as the elements of an interval set: its first
// address, and the one after its last as the interval's end.
func subnetInterval(subnet *net.IPNet) []nftables.SetElement {
	first := binary.BigEndian.Uint32(subnet.IP.To4())
	last := first | ^binary.BigEndian.Uint32(net.IP(subnet.Mask).To4())
	elems := []nftables.SetElement{{Key: binary.BigEndian.AppendUint32(nil, first)}}
	if last != ^uint32(0) {
		elems = append(elems, nftables.SetElement{Key: binary.BigEndian.AppendUint32(nil, last+1), IntervalEnd: true})
	}
	return elems
}
