// Package netns owns container networking: network namespaces, slirp4netns
// and port forwarding (rootless), bridges, and the files that tell a
// container who it is on the network: /etc/hosts, /etc/resolv.conf,
// /etc/hostname.
package netns

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
)

// DNSDomain is the search domain of user networks: web and web.dns.skiff
// name the same container.
const DNSDomain = "dns.skiff"

// HostsFile is the container's /etc/hosts: loopback names and its hostname.
func HostsFile(hostname string, extra []string) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	if hostname != "" {
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", hostname)
	}
	return b.Bytes()
}

// ResolvOptions shape a container's /etc/resolv.conf (Docker's --dns,
// --dns-search, --dns-option).
type ResolvOptions struct {
	HostNetwork bool     // the host's namespace: its file as it is, unless overridden
	Nameservers []string // replace the host's
	Search      []string // replace the host's search domains
	Options     []string // replace the host's options
	// LoopbackResolver replaces the host's loopback nameservers, which a
	// private namespace cannot reach (slirp4netns's 10.0.2.3 forwards to
	// them); "" drops them, as Docker does.
	LoopbackResolver string
}

// ResolvConf is the container's /etc/resolv.conf, derived from the host's
// as Docker does: loopback nameservers cannot be reached from a private
// network namespace, so they are replaced or dropped (and public resolvers
// used if none is left) unless the container shares the host's network.
func ResolvConf(host []byte, o ResolvOptions) []byte {
	var servers, search, options, other []string
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "nameserver":
			servers = append(servers, f[1])
		case len(f) >= 2 && (f[0] == "search" || f[0] == "domain"):
			search = append(search, f[1:]...)
		case len(f) >= 2 && f[0] == "options":
			options = append(options, f[1:]...)
		case len(f) > 0 && !strings.HasPrefix(f[0], "#") && !strings.HasPrefix(f[0], ";"):
			other = append(other, line)
		}
	}
	if len(o.Nameservers) > 0 {
		servers = o.Nameservers
	} else if !o.HostNetwork {
		var kept []string
		for _, s := range servers {
			if isLoopback(s) {
				if o.LoopbackResolver == "" || slices.Contains(kept, o.LoopbackResolver) {
					continue
				}
				s = o.LoopbackResolver
			}
			kept = append(kept, s)
		}
		if servers = kept; len(servers) == 0 {
			servers = []string{"8.8.8.8", "8.8.4.4"}
		}
	}
	if len(o.Search) > 0 {
		search = o.Search
	}
	if len(o.Options) > 0 {
		options = o.Options
	}
	var out bytes.Buffer
	if len(search) > 0 {
		fmt.Fprintf(&out, "search %s\n", strings.Join(search, " "))
	}
	for _, s := range servers {
		fmt.Fprintf(&out, "nameserver %s\n", s)
	}
	if len(options) > 0 {
		fmt.Fprintf(&out, "options %s\n", strings.Join(options, " "))
	}
	for _, l := range other {
		out.WriteString(l + "\n")
	}
	return out.Bytes()
}

func isLoopback(addr string) bool {
	return strings.HasPrefix(addr, "127.") || addr == "::1"
}

// HostResolvConf reads the host's resolver configuration; an absent file is
// an empty one.
func HostResolvConf() []byte {
	b, _ := os.ReadFile("/etc/resolv.conf")
	return b
}
