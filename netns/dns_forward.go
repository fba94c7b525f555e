//go:build !skiff_local

package netns

import "github.com/miekg/dns"

// forward asks the upstream resolvers in order, over proto (udp or tcp),
// and relays the first answer that is not a failure: a resolver that
// cannot answer (SERVFAIL, REFUSED) or does not answer in time is passed
// over, as the C library passes over a nameserver. All of them failing
// gives SERVFAIL (or the last one's failure), within len(Upstream)
// timeouts, so a client hears it before its own timeout.
func (s *DNSServer) forward(req *dns.Msg, proto string) *dns.Msg {
	if len(s.upstream) == 0 {
		return s.failure(req, dns.RcodeRefused)
	}
	c := &dns.Client{Net: proto, Timeout: s.timeout}
	var failed *dns.Msg
	for _, up := range s.upstream {
		r, _, err := c.Exchange(req, up)
		if err != nil {
			continue
		}
		if r.Rcode == dns.RcodeServerFailure || r.Rcode == dns.RcodeRefused {
			failed = r
			continue
		}
		r.Compress = true
		return r
	}
	if failed != nil {
		return failed
	}
	return s.failure(req, dns.RcodeServerFailure)
}
