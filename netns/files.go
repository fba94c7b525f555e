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
	"strings"
)

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

// ResolvConf is the container's /etc/resolv.conf, derived from the host's as
// Docker does: loopback nameservers cannot be reached from a private network
// namespace, so they are dropped (and public resolvers used if none is left)
// unless the container shares the host's network.
func ResolvConf(host []byte, hostNetwork bool) []byte {
	if hostNetwork {
		return host
	}
	var out bytes.Buffer
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && isLoopback(f[1]) {
			continue
		}
		if len(f) >= 2 && f[0] == "nameserver" {
			servers++
		}
		out.WriteString(line + "\n")
	}
	if servers == 0 {
		out.WriteString("nameserver 8.8.8.8\nnameserver 8.8.4.4\n")
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
