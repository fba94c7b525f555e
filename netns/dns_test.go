package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"
)

const testNames = `# the names of a user network
10.89.0.5 web web.dns.skiff abc123def456 www
10.89.0.6 DB.dns.skiff. db 0123456789ab
fd00::6 db
not-an-address nobody
10.89.0.7
`

// TestDNSNames looks names up as a container's resolver does: by name,
// short ID and alias, in any case, with and without the search domain.
func TestDNSNames(t *testing.T) {
	names := filepath.Join(t.TempDir(), "names")
	writeNames(t, names, testNames)
	addr := startTestDNS(t, DNSConfig{HostsFile: names, Subnet: netip.MustParsePrefix("10.89.0.0/24")})

	tests := []struct {
		name  string
		qtype uint16
		rcode int
		want  []string
	}{
		{"web.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.5"}},
		{"web.dns.skiff.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.5"}},
		{"WeB.DNS.Skiff.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.5"}},
		{"abc123def456.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.5"}},
		{"www.dns.skiff.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.5"}},
		{"db.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.6"}},
		{"0123456789AB.dns.skiff.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.6"}},
		{"web.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"db.dns.skiff.", dns.TypeAAAA, dns.RcodeSuccess, []string{"fd00::6"}},
		{"web.", dns.TypeMX, dns.RcodeSuccess, nil},
		{"5.0.89.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"web.dns.skiff."}},
		{"6.0.89.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"db.dns.skiff."}},
		{"9.0.89.10.in-addr.arpa.", dns.TypePTR, dns.RcodeNameError, nil},
		{"nosuch.dns.skiff.", dns.TypeA, dns.RcodeNameError, nil},
		{"dns.skiff.", dns.TypeA, dns.RcodeNameError, nil},
		{"nobody.", dns.TypeA, dns.RcodeRefused, nil}, // its line did not parse: not ours, and no upstream
		{"example.test.", dns.TypeA, dns.RcodeRefused, nil},
		{"1.0.0.127.in-addr.arpa.", dns.TypePTR, dns.RcodeRefused, nil},
	}
	for _, proto := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(proto+"/"+tt.name+"/"+dns.TypeToString[tt.qtype], func(t *testing.T) {
				r, err := ask(t, proto, addr, tt.name, tt.qtype)
				if err != nil {
					t.Fatal(err)
				}
				if r.Rcode != tt.rcode {
					t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode])
				}
				if local := tt.rcode != dns.RcodeRefused; r.Authoritative != local {
					t.Errorf("authoritative %v, want %v", r.Authoritative, local)
				}
				if got := values(t, r); !slices.Equal(got, tt.want) {
					t.Errorf("answer %q, want %q", got, tt.want)
				}
				for _, rr := range r.Answer {
					if rr.Header().Name != tt.name {
						t.Errorf("record for %q, asked %q", rr.Header().Name, tt.name)
					}
				}
			})
		}
	}
}

// TestDNSReload changes the names file under a running server, as connect
// and disconnect do: the next query sees the change.
func TestDNSReload(t *testing.T) {
	names := filepath.Join(t.TempDir(), "names")
	writeNames(t, names, "10.89.0.5 web\n")
	addr := startTestDNS(t, DNSConfig{HostsFile: names})
	lookup := func(name string) (int, []string) {
		t.Helper()
		r, err := ask(t, "udp", addr, name, dns.TypeA)
		if err != nil {
			t.Fatal(err)
		}
		return r.Rcode, values(t, r)
	}
	check := func(step, name string, rcode int, want ...string) {
		t.Helper()
		if got, ans := lookup(name); got != rcode || !slices.Equal(ans, want) {
			t.Errorf("%s: %s: %s %q, want %s %q", step, name, dns.RcodeToString[got], ans, dns.RcodeToString[rcode], want)
		}
	}
	check("before", "api.dns.skiff.", dns.RcodeNameError)
	writeNames(t, names, "10.89.0.5 web\n10.89.0.7 api\n")
	check("connected", "api.dns.skiff.", dns.RcodeSuccess, "10.89.0.7")
	check("connected", "web.dns.skiff.", dns.RcodeSuccess, "10.89.0.5")
	writeNames(t, names, "10.89.0.7 api\n")
	check("disconnected", "web.dns.skiff.", dns.RcodeNameError)
	check("disconnected", "api.dns.skiff.", dns.RcodeSuccess, "10.89.0.7")
	// Written in place, not renamed: the size differs, so it shows.
	if err := os.WriteFile(names, []byte("10.89.0.17 api\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("rewritten", "api.dns.skiff.", dns.RcodeSuccess, "10.89.0.17")
	if err := os.Remove(names); err != nil {
		t.Fatal(err)
	}
	check("removed", "api.dns.skiff.", dns.RcodeNameError)
	writeNames(t, names, "10.89.0.8 api\n")
	check("back", "api.dns.skiff.", dns.RcodeSuccess, "10.89.0.8")
}

// TestDNSForward sends other names to the upstream resolvers in order,
// over the protocol the query came on, and never sends them the network's
// own names.
func TestDNSForward(t *testing.T) {
	names := filepath.Join(t.TempDir(), "names")
	writeNames(t, names, "10.89.0.5 web\n")
	up := startUpstream(t, "")
	closed := freeAddr(t) // nothing listens there: refused at once
	addr := startTestDNS(t, DNSConfig{HostsFile: names, Upstream: []string{closed, up.addr}})

	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			before := up.udp.Load() + up.tcp.Load()
			r, err := ask(t, proto, addr, "example.test.", dns.TypeA)
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.10" || r.Answer[0].Header().Ttl != 300 {
				t.Errorf("example.test: %v", r)
			}
			if r.Authoritative {
				t.Error("a forwarded answer is marked authoritative")
			}
			for _, name := range []string{"nosuch.test.", "nosuch."} {
				if r, err := ask(t, proto, addr, name, dns.TypeA); err != nil || r.Rcode != dns.RcodeNameError {
					t.Errorf("%s: %v %v, want NXDOMAIN from upstream", name, r, err)
				}
			}
			if r, err := ask(t, proto, addr, "web.", dns.TypeA); err != nil || len(r.Answer) != 1 {
				t.Errorf("web: %v %v", r, err)
			}
			if got := up.udp.Load() + up.tcp.Load() - before; got != 3 {
				t.Errorf("upstream got %d queries, want 3 (none for web)", got)
			}
		})
	}
	if up.udp.Load() != 3 || up.tcp.Load() != 3 {
		t.Errorf("upstream got %d over UDP and %d over TCP, want 3 and 3", up.udp.Load(), up.tcp.Load())
	}
}

// TestDNSUpstreamDown answers SERVFAIL when no upstream answers: within
// the timeout for one that is silent, at once for one that refuses.
func TestDNSUpstreamDown(t *testing.T) {
	names := filepath.Join(t.TempDir(), "names")
	writeNames(t, names, "10.89.0.5 web\n")
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name     string
		upstream []string
		min, max time.Duration
	}{
		{"silent", []string{silent(t)}, timeout, timeout + 700*time.Millisecond},
		{"refused", []string{freeAddr(t)}, 0, 200 * time.Millisecond},
		{"both", []string{freeAddr(t), silent(t)}, timeout, timeout + 700*time.Millisecond},
	}
	for _, tt := range tests {
		addr := startTestDNS(t, DNSConfig{HostsFile: names, Upstream: tt.upstream, Timeout: timeout})
		for _, proto := range []string{"udp", "tcp"} {
			t.Run(tt.name+"/"+proto, func(t *testing.T) {
				start := time.Now()
				r, err := ask(t, proto, addr, "example.test.", dns.TypeA)
				took := time.Since(start)
				if err != nil {
					t.Fatal(err)
				}
				if r.Rcode != dns.RcodeServerFailure {
					t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
				}
				if took < tt.min || took > tt.max {
					t.Errorf("answered in %v, want %v to %v", took, tt.min, tt.max)
				}
				if r, err := ask(t, proto, addr, "web.", dns.TypeA); err != nil || len(r.Answer) != 1 {
					t.Errorf("web with the upstream down: %v %v", r, err)
				}
			})
		}
	}
}

// TestDNSConcurrent asks 100 questions at once, local and forwarded, over
// UDP and TCP, while the names file is being replaced.
func TestDNSConcurrent(t *testing.T) {
	names := filepath.Join(t.TempDir(), "names")
	writeNames(t, names, "10.89.0.5 web\n")
	up := startUpstream(t, "")
	addr := startTestDNS(t, DNSConfig{HostsFile: names, Upstream: []string{up.addr}})

	done := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			tmp := names + ".w"
			os.WriteFile(tmp, fmt.Appendf(nil, "10.89.0.5 web\n10.89.0.%d other%d\n", 10+i%200, i), 0o644)
			os.Rename(tmp, names)
			time.Sleep(time.Millisecond)
		}
	})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		proto := []string{"udp", "tcp"}[i%2]
		name, want := "web.dns.skiff.", "10.89.0.5"
		if i%4 >= 2 {
			name, want = "example.test.", "192.0.2.10"
		}
		wg.Go(func() {
			r, err := ask(t, proto, addr, name, dns.TypeA)
			if err == nil && (r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != want) {
				err = fmt.Errorf("answer %v", r)
			}
			if err != nil {
				errs <- fmt.Errorf("query %d, %s over %s: %w", i, name, proto, err)
			}
		})
	}
	wg.Wait()
	close(done)
	writer.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestDNSLookupTime measures what issue 8 sets a goal for: a lookup of a
// container name, ≤ 2 ms. Over UDP on loopback, one question at a time,
// and as a Go program resolves a name (A and AAAA at once).
func TestDNSLookupTime(t *testing.T) {
	names := filepath.Join(t.TempDir(), "names")
	var b strings.Builder
	for i := range 250 { // a busy network
		fmt.Fprintf(&b, "10.89.%d.%d c%d c%d.dns.skiff %012x\n", i/250, 2+i%250, i, i, i)
	}
	b.WriteString("10.89.1.5 web web.dns.skiff abc123def456\n")
	writeNames(t, names, b.String())
	addr := startTestDNS(t, DNSConfig{HostsFile: names, Upstream: []string{startUpstream(t, "").addr}})

	const n = 500
	c := &dns.Client{Timeout: time.Second}
	q := new(dns.Msg)
	q.SetQuestion("web.dns.skiff.", dns.TypeA)
	exchange := make([]time.Duration, n)
	for i := range exchange {
		start := time.Now()
		r, _, err := c.Exchange(q, addr)
		exchange[i] = time.Since(start)
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("web: %v %v", r, err)
		}
	}
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	lookup := make([]time.Duration, n)
	for i := range lookup {
		start := time.Now()
		got, err := res.LookupHost(context.Background(), "web.")
		lookup[i] = time.Since(start)
		if err != nil || !slices.Equal(got, []string{"10.89.1.5"}) {
			t.Fatalf("LookupHost web: %v %v", got, err)
		}
	}
	em, e99 := percentiles(exchange)
	lm, l99 := percentiles(lookup)
	t.Logf("one A question over UDP: median %s, p99 %s (%d lookups)", ms(em), ms(e99), n)
	t.Logf("Go's resolver, A and AAAA: median %s, p99 %s (%d lookups)", ms(lm), ms(l99), n)
	if em > 2*time.Millisecond || lm > 2*time.Millisecond {
		t.Errorf("a lookup takes more than the 2 ms goal")
	}
}

// TestDNSStartErrors: what cannot work fails at StartDNS, in one line.
func TestDNSStartErrors(t *testing.T) {
	names := filepath.Join(t.TempDir(), "names")
	writeNames(t, names, "10.89.0.5 web\n")
	if _, err := StartDNS(DNSConfig{Addr: freeAddr(t)}); err == nil || !strings.Contains(err.Error(), "HostsFile") {
		t.Errorf("no names file: %v", err)
	}
	addr := startTestDNS(t, DNSConfig{HostsFile: names})
	if s, err := StartDNS(DNSConfig{Addr: addr, HostsFile: names}); err == nil || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "in use") {
		if s != nil {
			s.Close()
		}
		t.Errorf("a second server on %s: %v", addr, err)
	}
}

// TestDNSInNetns runs the server as a user network does: on the gateway
// address of a bridge, port 53, in a network namespace the test creates,
// forwarding to a resolver on that namespace's loopback, port 53; the C library's
// resolver (getent, in a mount namespace where /etc/resolv.conf names the
// server) finds containers by name through the search domain.
func TestDNSInNetns(t *testing.T) {
	if !inOwnNetns(t) {
		return
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		t.Fatal(err)
	}
	if _, err := StartDNS(DNSConfig{Addr: "10.89.0.1", HostsFile: "/nonexistent"}); err == nil || !strings.Contains(err.Error(), "no address of this network namespace") {
		t.Errorf("before the gateway address exists: %v", err)
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "skiff-dns0"}}
	if err := netlink.LinkAdd(br); err != nil {
		t.Fatal(err)
	}
	gw, _ := netlink.ParseAddr("10.89.0.1/24")
	if err := netlink.AddrAdd(br, gw); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}
	names := filepath.Join(t.TempDir(), "names")
	writeNames(t, names, "10.89.0.5 web web.dns.skiff abc123def456\n")
	startUpstream(t, "127.0.0.1:53") // given without a port below
	startTestDNS(t, DNSConfig{Addr: "10.89.0.1", HostsFile: names, Subnet: netip.MustParsePrefix("10.89.0.0/24"), Upstream: []string{"127.0.0.1"}})
	for _, proto := range []string{"udp", "tcp"} {
		for name, want := range map[string]string{"web.": "10.89.0.5", "abc123def456.dns.skiff.": "10.89.0.5", "example.test.": "192.0.2.10"} {
			r, err := ask(t, proto, "10.89.0.1:53", name, dns.TypeA)
			if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != want {
				t.Errorf("%s over %s to 10.89.0.1:53: %v %v", name, proto, r, err)
			}
		}
	}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 10.89.0.1\nsearch dns.skiff\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"web": "10.89.0.5", "ABC123DEF456": "10.89.0.5", "example.test": "192.0.2.10", "nosuch": ""} {
		out, err := exec.Command("unshare", "--mount", "sh", "-c", `mount --bind "$1" /etc/resolv.conf && exec getent hosts "$2"`, "sh", resolv, name).CombinedOutput()
		if got := strings.Fields(string(out)); want == "" && (err == nil || len(got) != 0) || want != "" && (err != nil || len(got) == 0 || got[0] != want) {
			t.Errorf("getent hosts %s: %q %v, want %q", name, out, err, want)
		}
	}
}

// TestDNSPeers: a client on this network and another gets the other's
// names too (its own network's first), and a client on this network only
// does not.
func TestDNSPeers(t *testing.T) {
	dir := t.TempDir()
	for net, body := range map[string]string{
		"a": "127.0.0.5\tweb2 aaaaaaaaaaaa\n127.0.0.6\tloner bbbbbbbbbbbb\n127.0.0.7\tboth cccccccccccc\n",
		"b": "10.90.0.3\tweb1 dddddddddddd db\n10.90.0.4\tweb2 aaaaaaaaaaaa\n10.90.0.7\tboth cccccccccccc\n",
	} {
		if err := os.Mkdir(filepath.Join(dir, net), 0o755); err != nil {
			t.Fatal(err)
		}
		writeNames(t, filepath.Join(dir, net, "names"), body)
	}
	addr := startTestDNS(t, DNSConfig{HostsFile: filepath.Join(dir, "a", "names"), Peers: dir})
	from := func(src, name string) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		c := &dns.Client{Net: "udp", Timeout: 3 * time.Second,
			Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(src)}}}
		r, _, err := c.Exchange(q, addr)
		if err != nil {
			t.Fatalf("%s from %s: %v", name, src, err)
		}
		return r
	}
	for _, tc := range []struct {
		src, name string
		rcode     int
		want      []string
	}{
		{"127.0.0.5", "web1.", dns.RcodeSuccess, []string{"10.90.0.3"}}, // web2 is on b too
		{"127.0.0.5", "db.dns.skiff.", dns.RcodeSuccess, []string{"10.90.0.3"}},
		{"127.0.0.5", "both.", dns.RcodeSuccess, []string{"127.0.0.7"}}, // its own network's address first
		{"127.0.0.6", "web1.", dns.RcodeRefused, nil},                   // loner is not on b: not ours, no upstream
		{"127.0.0.6", "db.dns.skiff.", dns.RcodeNameError, nil},
		{"127.0.0.9", "web1.", dns.RcodeRefused, nil}, // no container of the network
	} {
		r := from(tc.src, tc.name)
		if r.Rcode != tc.rcode || !slices.Equal(values(t, r), tc.want) {
			t.Errorf("%s from %s: %s %v, want %s %v", tc.name, tc.src, dns.RcodeToString[r.Rcode], values(t, r), dns.RcodeToString[tc.rcode], tc.want)
		}
	}
}
