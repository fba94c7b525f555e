//go:build !skiff_local

package netns

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// local answers what the network's names decide: its containers' names,
// anything under DNSDomain, and reverse lookups of the subnet. nil: the
// question is for the upstream resolvers.
func (s *DNSServer) local(names *dnsNames, req *dns.Msg) *dns.Msg {
	q := req.Question[0]
	if q.Qclass != dns.ClassINET {
		return nil
	}
	if q.Qtype == dns.TypePTR {
		a, ok := reverseAddr(q.Name)
		if !ok {
			return nil
		}
		if name, ok := names.names[a]; ok {
			m := s.reply(req)
			m.Answer = []dns.RR{&dns.PTR{Hdr: rrHeader(q), Ptr: name}}
			return m
		}
		if s.subnet.IsValid() && s.subnet.Contains(a) {
			return s.nxdomain(req)
		}
		return nil
	}
	addrs, ok := names.addrs[nameKey(q.Name)]
	if !ok {
		if inDomain(q.Name) {
			return s.nxdomain(req)
		}
		return nil
	}
	// A known name without an address of the asked type is NOERROR with
	// no answer, not NXDOMAIN: a resolver that asks A and AAAA at once
	// keeps the A record instead of giving the name up.
	m := s.reply(req)
	for _, a := range addrs {
		switch {
		case q.Qtype == dns.TypeA && a.Is4():
			m.Answer = append(m.Answer, &dns.A{Hdr: rrHeader(q), A: a.AsSlice()})
		case q.Qtype == dns.TypeAAAA && a.Is6():
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: rrHeader(q), AAAA: a.AsSlice()})
		}
	}
	return m
}

// reply is an authoritative answer to req. Names come and go as
// containers do, so nothing is to be cached: TTL 0.
func (s *DNSServer) reply(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = len(s.upstream) > 0
	return m
}

func (s *DNSServer) nxdomain(req *dns.Msg) *dns.Msg {
	m := s.reply(req)
	m.Rcode = dns.RcodeNameError
	return m
}

// rrHeader names the record as the question did, case included (0x20
// randomisation checks it).
func rrHeader(q dns.Question) dns.RR_Header {
	return dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 0}
}

// inDomain reports whether name is DNSDomain or under it.
func inDomain(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	return name == DNSDomain || strings.HasSuffix(name, "."+DNSDomain)
}

// ptrName is the name a reverse lookup of an address gives: the first one
// its line lists, in the search domain when it has no domain of its own.
func ptrName(name string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if !strings.Contains(name, ".") {
		name += "." + DNSDomain
	}
	return name + "."
}

// reverseAddr is the IPv4 address a name under in-addr.arpa stands for.
// User networks are IPv4; ip6.arpa questions go upstream.
func reverseAddr(name string) (netip.Addr, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa")
	if !ok {
		return netip.Addr{}, false
	}
	labels := strings.Split(rest, ".")
	if len(labels) != 4 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(labels[3] + "." + labels[2] + "." + labels[1] + "." + labels[0])
	return a, err == nil
}
