//go:build !skiff_local

package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// DNSConfig is the name server of one user network: containers on the
// network ask it for each other's names, and it asks Upstream for the rest.
type DNSConfig struct {
	// Addr is where it listens, UDP and TCP: the network's gateway
	// address, port 53 unless one is given. It must be an address of the
	// network namespace StartDNS is called in.
	Addr string
	// HostsFile holds the network's names in /etc/hosts syntax, one
	// container a line: "10.89.0.5 web web.dns.skiff abc123def456". It is
	// checked on each query and read again when it changed; replace it
	// with a rename. A missing file is a network without names.
	HostsFile string
	// Subnet is the network's: reverse (PTR) lookups of its addresses are
	// answered here, an unknown one with NXDOMAIN, never forwarded.
	Subnet netip.Prefix
	// Upstream lists the resolvers ("host:port") other names are
	// forwarded to, tried in order over the protocol the query came on;
	// port 53 unless one is given. None: other names are REFUSED.
	Upstream []string
	// Timeout is how long one upstream may take to answer; 0: 2s.
	Timeout time.Duration
	// Peers, if set, is the directory of every network's names file
	// (Peers/<network>/names): a client on this network and others also
	// gets the names of its other networks, as Docker's embedded server
	// answers a container for all its networks. Its own network's win.
	Peers string
}

// dnsTimeout is a resolver's patience for one upstream by default: well
// inside the C library's 5 s per try, so the client hears SERVFAIL and
// not silence when the upstreams are down.
const dnsTimeout = 2 * time.Second

// DNSServer is a running name server; Close stops it.
type DNSServer struct {
	names    *namesFile
	peers    string
	peerMu   sync.Mutex
	peerFile map[string]*namesFile // by path, read again as they change
	subnet   netip.Prefix
	upstream []string
	timeout  time.Duration

	udp, tcp *dns.Server
	errs     chan error // what each listener's loop returned

	closeOnce sync.Once
	closeErr  error
}

// StartDNS listens on cfg.Addr and answers from then on, in goroutines of
// its own. The sockets are bound before it returns, in the network
// namespace of the calling thread; forwarded queries leave from the
// process's namespace.
func StartDNS(cfg DNSConfig) (*DNSServer, error) {
	if cfg.HostsFile == "" {
		return nil, errors.New("the network's name server needs a names file (DNSConfig.HostsFile)")
	}
	s := &DNSServer{
		names:    &namesFile{path: cfg.HostsFile},
		peers:    cfg.Peers,
		peerFile: map[string]*namesFile{},
		subnet:   cfg.Subnet.Masked(),
		upstream: make([]string, len(cfg.Upstream)),
		timeout:  cfg.Timeout,
		errs:     make(chan error, 2),
	}
	if s.timeout <= 0 {
		s.timeout = dnsTimeout
	}
	if _, err := s.names.current(); err != nil {
		return nil, err
	}
	for i, up := range cfg.Upstream {
		s.upstream[i] = withPort53(up)
	}
	addr := withPort53(cfg.Addr)
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, listenError(addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		return nil, listenError(addr, err)
	}
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: l, Handler: h}
	// Shutdown fails on a server whose loop has not begun, so Close
	// could not stop one started a moment before: wait for both.
	var started sync.WaitGroup
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started.Add(1)
		srv.NotifyStartedFunc = started.Done
		go func() { s.errs <- srv.ActivateAndServe() }()
	}
	started.Wait()
	return s, nil
}

// StartDNSIn is StartDNS with the sockets bound in the network namespace
// open on ns (forwarded queries still leave from the process's).
func StartDNSIn(ns *os.File, cfg DNSConfig) (s *DNSServer, err error) {
	err = inNetns(int(ns.Fd()), func() error {
		s, err = StartDNS(cfg)
		return err
	})
	return s, err
}

// withPort53 is addr ("host" or "host:port") with port 53 if it has none.
func withPort53(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return net.JoinHostPort(addr, "53")
	}
	return addr
}

func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("the network's name server: %s is in use (is another one running for this network?): %w", addr, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("the network's name server: %s is no address of this network namespace (set the gateway address on the bridge first): %w", addr, err)
	}
	return fmt.Errorf("the network's name server on %s: %w", addr, err)
}

// Close stops listening and waits for the queries in flight. It returns
// the error that stopped a listener early, if one did.
func (s *DNSServer) Close() error {
	s.closeOnce.Do(func() {
		// Shutdown only fails on a loop that already ended, whose error
		// comes through s.errs.
		s.udp.Shutdown()
		s.tcp.Shutdown()
		s.closeErr = errors.Join(<-s.errs, <-s.errs)
	})
	return s.closeErr
}

// serve answers one query. miekg/dns has already refused what is not a
// query with one question (NOTIMP, FORMERR).
func (s *DNSServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	proto := w.LocalAddr().Network()
	m := s.answer(req, proto, w.RemoteAddr())
	if proto == "udp" {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

func (s *DNSServer) answer(req *dns.Msg, proto string, client net.Addr) *dns.Msg {
	names, err := s.names.current()
	if err != nil {
		return s.failure(req, dns.RcodeServerFailure)
	}
	if s.peers != "" && req.Question[0].Qtype != dns.TypePTR {
		if _, ok := names.addrs[nameKey(req.Question[0].Name)]; !ok {
			names = s.withPeers(names, client)
		}
	}
	if m := s.local(names, req); m != nil {
		return m
	}
	return s.forward(req, proto)
}

func (s *DNSServer) failure(req *dns.Msg, rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	m.RecursionAvailable = len(s.upstream) > 0
	return m
}

// withPeers is names with those of the client's other networks: the
// networks whose names files give an address to the container that has
// the client's address here.
func (s *DNSServer) withPeers(names *dnsNames, client net.Addr) *dnsNames {
	ap, err := netip.ParseAddrPort(client.String())
	if err != nil {
		return names
	}
	owner, ok := names.owner[ap.Addr().Unmap()]
	if !ok {
		return names
	}
	dirs, err := os.ReadDir(s.peers)
	if err != nil {
		return names
	}
	s.peerMu.Lock()
	defer s.peerMu.Unlock()
	for _, d := range dirs {
		path := filepath.Join(s.peers, d.Name(), "names")
		if path == s.names.path {
			continue
		}
		f := s.peerFile[path]
		if f == nil {
			f = &namesFile{path: path}
			s.peerFile[path] = f
		}
		if other, err := f.current(); err == nil && other.owns(owner) {
			names = names.with(other)
		}
	}
	return names
}
