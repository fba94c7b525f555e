//go:build !skiff_local

package netns

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// resolvConfPath is where the host's resolvers are listed.
const resolvConfPath = "/etc/resolv.conf"

// hostResolver is the first nameserver of the resolv.conf at path, as
// libslirp forwards 10.0.2.3 to, read for each new flow so that a changed
// file (a laptop on another network) takes effect; 127.0.0.1 when it lists
// none, as the C library does. The monitor is in the host's network
// namespace, so a loopback resolver (systemd-resolved's 127.0.0.53) works.
func hostResolver(path string) (netip.AddrPort, error) {
	f, err := os.Open(path)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("the host's resolvers: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue
		}
		if a, err := netip.ParseAddr(fields[1]); err == nil {
			return netip.AddrPortFrom(a, 53), nil
		}
	}
	return netip.MustParseAddrPort("127.0.0.1:53"), sc.Err()
}
