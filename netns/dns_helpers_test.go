package netns

import (
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The name server tests listen on 127.0.0.1 (or on an address of a network
// namespace of their own) and forward only to resolvers they run there.

// listenBoth binds one port of 127.0.0.1 for UDP and TCP, as a name server
// needs.
func listenBoth(t *testing.T) (net.PacketConn, net.Listener) {
	for range 20 {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		pc.Close()
	}
	t.Fatal("no port of 127.0.0.1 is free for both UDP and TCP")
	return nil, nil
}

// freeAddr is a port of 127.0.0.1 free for UDP and TCP a moment ago.
func freeAddr(t *testing.T) string {
	pc, l := listenBoth(t)
	defer pc.Close()
	defer l.Close()
	return pc.LocalAddr().String()
}

// writeNames replaces the names file as a writer should: by a rename.
func writeNames(t *testing.T, path, content string) {
	tmp := filepath.Join(filepath.Dir(path), ".names.tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// startTestDNS starts the server under test on a free port of 127.0.0.1
// unless cfg names an address, and stops it when the test ends.
func startTestDNS(t *testing.T, cfg DNSConfig) string {
	if cfg.Addr == "" {
		cfg.Addr = freeAddr(t)
	}
	s, err := StartDNS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return cfg.Addr
}

// ask sends one question and checks the answer is to it.
func ask(t *testing.T, proto, addr, name string, qtype uint16) (*dns.Msg, error) {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	c := &dns.Client{Net: proto, Timeout: 3 * time.Second}
	r, _, err := c.Exchange(q, addr)
	if err != nil {
		return nil, err
	}
	if r.Id != q.Id || !r.Response || len(r.Question) != 1 || r.Question[0] != q.Question[0] {
		t.Errorf("%s %s over %s: the answer is not to the question: %v", name, dns.TypeToString[qtype], proto, r)
	}
	return r, nil
}

// values are the answer's records as text (addresses, PTR names), and
// each one's TTL must be 0.
func values(t *testing.T, r *dns.Msg) []string {
	t.Helper()
	var out []string
	for _, rr := range r.Answer {
		if rr.Header().Ttl != 0 {
			t.Errorf("%s: TTL %d, want 0", rr, rr.Header().Ttl)
		}
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		case *dns.PTR:
			out = append(out, rr.Ptr)
		default:
			out = append(out, rr.String())
		}
	}
	return out
}

// upstream is a resolver the test runs on 127.0.0.1: example.test is
// 192.0.2.10 (TTL 300), every other name NXDOMAIN. It counts the queries
// it got by protocol. It listens on addr, or on a free port of 127.0.0.1
// if addr is "".
type upstream struct {
	addr     string
	udp, tcp atomic.Int32
}

func startUpstream(t *testing.T, addr string) *upstream {
	u := &upstream{}
	var pc net.PacketConn
	var l net.Listener
	if addr == "" {
		pc, l = listenBoth(t)
	} else {
		var err error
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", addr); err != nil {
			t.Fatal(err)
		}
	}
	u.addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		if w.LocalAddr().Network() == "udp" {
			u.udp.Add(1)
		} else {
			u.tcp.Add(1)
		}
		m := new(dns.Msg)
		m.SetReply(req)
		m.RecursionAvailable = true
		if q := req.Question[0]; q.Name == "example.test." && q.Qtype == dns.TypeA {
			rr, _ := dns.NewRR("example.test. 300 IN A 192.0.2.10")
			m.Answer = []dns.RR{rr}
		} else {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return u
}

// silent is a resolver that takes queries and never answers: UDP datagrams
// are read and dropped, TCP connections accepted and left hanging.
func silent(t *testing.T) string {
	pc, l := listenBoth(t)
	t.Cleanup(func() { pc.Close(); l.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return pc.LocalAddr().String()
}

// median and p99 of durations, which it sorts.
func percentiles(d []time.Duration) (median, p99 time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2], d[len(d)*99/100]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}
