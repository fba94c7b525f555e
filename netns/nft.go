package netns

import (
	"encoding/binary"
	"net"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
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
//	}
//
// Everything but the ports chain is static: each Setup declares it again,
// flushing and refilling the static chains in the same transaction as its
// own additions, so concurrent monitors converge on one copy and a newer
// skiff replaces an older layout. What varies per network is set elements
// (adding an existing one is not an error); what varies per container is
// rules in ports, each carrying its container's ID as its comment, which is
// how RemovePortRules finds them without the monitor that added them.
// intra comes first in forward because with br_netfilter the traffic
// between two containers of one bridge passes the forward hook too.
const nftTable = "skiff"

var table = &nftables.Table{Family: nftables.TableFamilyIPv4, Name: nftTable}

// layout is the table's sets and chains, declared in a batch.
type layout struct {
	bridges, intra, internal, nat            *nftables.Set
	prerouting, output, postrouting, forward *nftables.Chain
	ports                                    *nftables.Chain
}

// portsChain is the ports chain, for reading and deleting its rules.
var portsChain = &nftables.Chain{Table: table, Name: "ports"}

// declare adds the table, its sets and chains to c's batch, and refills
// the static chains.
func declare(c *nftables.Conn) (*layout, error) {
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
	accept := nftables.ChainPolicyAccept
	l.ports = c.AddChain(portsChain)
	l.prerouting = c.AddChain(&nftables.Chain{Table: table, Name: "prerouting", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
	l.output = c.AddChain(&nftables.Chain{Table: table, Name: "output", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest})
	l.postrouting = c.AddChain(&nftables.Chain{Table: table, Name: "postrouting", Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource})
	l.forward = c.AddChain(&nftables.Chain{Table: table, Name: "forward", Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	l.fillStatic(c)
	return l, nil
}

// fillStatic replaces the rules of the static chains (see the table above).
func (l *layout) fillStatic(c *nftables.Conn) {
	for _, ch := range []*nftables.Chain{l.prerouting, l.output, l.postrouting, l.forward} {
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

func add(c *nftables.Conn, ch *nftables.Chain, exprs ...expr.Any) {
	c.AddRule(&nftables.Rule{Table: table, Chain: ch, Exprs: exprs})
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
