//go:build !skiff_nonet

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/netns"
	"github.com/skiff-engine/skiff/runtime"
)

// dnsIdleChecks: the server exits after this many checks, a second apart,
// that found no container in its names file.
const dnsIdleChecks = 3

// runDNS serves a user network's names (runtime.DNSConfig) on its
// gateway until the network has no running container left. The engine
// starts it with a container's start; the bridge (and so the gateway's
// address) may appear a moment later, made by that container's monitor,
// so binding is retried for a few seconds.
func runDNS(path string) int {
	b, err := os.ReadFile(path)
	var cfg runtime.DNSConfig
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "skiff-monitor dns: %v\n", err)
		return 125
	}
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGQUIT)
	srv, ino, err := startDNS(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "skiff-monitor dns: %v\n", err)
		return 125
	}
	defer func() { srv.Close() }()
	os.WriteFile(cfg.PidFile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
	defer os.Remove(cfg.PidFile)
	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for idle := 0; idle < dnsIdleChecks; {
		select {
		case <-term:
			return 0
		case <-tick.C:
		}
		if hasNames(cfg.HostsFile) {
			idle = 0
		} else {
			idle++
		}
		if cfg.SharedNetns != "" {
			// The shared namespace was made anew (its holder exited with
			// its last container a moment before another started): serve
			// in the new one.
			if now := netns.SharedInode(cfg.SharedNetns); now != 0 && now != ino {
				srv.Close()
				if srv, ino, err = startDNS(cfg); err != nil {
					fmt.Fprintf(os.Stderr, "skiff-monitor dns: %v\n", err)
					return 125
				}
			}
		}
	}
	return 0
}

// startDNS binds the server, retrying for a few seconds: the gateway's
// address appears with the network's bridge, which the first container's
// monitor makes (rootless, in the shared namespace, which that monitor may
// have to start first). ino is the shared namespace's, rootless.
func startDNS(cfg runtime.DNSConfig) (srv *netns.DNSServer, ino uint64, err error) {
	dc := netns.DNSConfig{Addr: cfg.Addr, HostsFile: cfg.HostsFile, Subnet: cfg.Subnet, Upstream: cfg.Upstream, Peers: cfg.Peers}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if cfg.SharedNetns == "" {
			srv, err = netns.StartDNS(dc)
		} else {
			var ns *os.File
			if ns, err = netns.OpenShared(cfg.SharedNetns); err == nil {
				srv, err = netns.StartDNSIn(ns, dc)
				ino = netns.NamespaceInode(ns)
				ns.Close()
			}
		}
		if err == nil || time.Now().After(deadline) {
			return srv, ino, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hasNames reports whether the names file has an entry.
func hasNames(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			return true
		}
	}
	return false
}
