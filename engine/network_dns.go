package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/skiff-engine/skiff/netns"
	"github.com/skiff-engine/skiff/runtime"
)

// A user network's names are served by one `skiff-monitor dns` per
// network, on its gateway's port 53, in the namespace of its bridge. The
// engine keeps the names file (the running containers' addresses, names,
// short IDs and aliases) and starts the server with the network's first
// container; the server exits once the file stays empty (the network's
// last container stopped). Files: <run root>/networks/<id>/{names,dns.json,dns.pid}.

func (e *Engine) networkRunDir(id string) string {
	return filepath.Join(e.paths.RunRoot, "networks", id)
}

// serveNames rewrites network id's names file and makes sure its server
// runs.
func (e *Engine) serveNames(id string) error {
	if err := e.writeNames(id); err != nil {
		return err
	}
	dir := e.networkRunDir(id)
	pidFile := filepath.Join(dir, "dns.pid")
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && dnsServerAlive(pid, dir) {
			return nil
		}
	}
	n, err := e.lookupNetwork(context.Background(), id)
	if err != nil {
		return err
	}
	subnet, _ := netip.ParsePrefix(n.Config.Subnet)
	cfg := runtime.DNSConfig{Addr: n.Config.Gateway, HostsFile: filepath.Join(dir, "names"), Subnet: subnet,
		Upstream: hostNameservers(), PidFile: pidFile, Peers: filepath.Join(e.paths.RunRoot, "networks")}
	if e.paths.Rootless {
		cfg.SharedNetns = e.sharedNetnsDir()
	}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "dns.json")
	if err := runtime.WriteFileAtomic(cfgFile, b, 0o600, false); err != nil {
		return err
	}
	bin, err := runtime.MonitorBinary()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "dns", cfgFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("network %s: starting its name server: %w", n.Name, err)
	}
	return cmd.Process.Release()
}

// dnsServerAlive: pid is a skiff-monitor dns of this network directory.
func dnsServerAlive(pid int, dir string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(b, []byte("\x00dns\x00")) && bytes.Contains(b, []byte(dir))
}

// writeNames writes network id's names file: one line per running
// container with an address on it.
func (e *Engine) writeNames(id string) error {
	addrs, err := e.db.NetworkAddresses(context.Background(), id)
	if err != nil {
		return err
	}
	var lines []string
	for cid, a := range addrs {
		c, err := e.lookupContainer(cid)
		if err != nil || !c.Running() {
			continue
		}
		i, on := c.Config.Network.endpoint(&Network{ID: id})
		if !on {
			continue
		}
		names := append([]string{c.Name, c.ShortID()}, c.Config.Network.Endpoints[i].Aliases...)
		lines = append(lines, a.String()+"\t"+strings.Join(names, " "))
	}
	sort.Strings(lines)
	dir := e.networkRunDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	body := strings.Join(lines, "\n")
	if body != "" {
		body += "\n"
	}
	return runtime.WriteFileAtomic(filepath.Join(dir, "names"), []byte(body), 0o644, false)
}

// hostNameservers are the host's resolvers, which the name server (in the
// host's namespace) forwards to as they are, loopback ones included.
func hostNameservers() []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(netns.HostResolvConf()))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	return out
}
