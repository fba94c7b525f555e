//go:build !skiff_nonet

package main

import (
	"encoding/json"
	"fmt"

	"github.com/skiff-engine/skiff/netns"
)

// This build, skiff-monitor, sets up containers' networks and serves the
// network helpers (dns.go, netns.go). The lean build (network_lean.go,
// the skiff_nonet tag) has none of the network's code.

// network is a container's network as set up here, torn down at the
// exit (netns.Network: its methods take a nil network).
type network = netns.Network

// setupNetwork sets up the network the engine described (a netns.Config
// in MonitorConfig.Network) for the init pid, which waits meanwhile.
func setupNetwork(raw []byte, pid int) (*network, error) {
	cfg, err := networkConfig(raw)
	if err != nil {
		return nil, err
	}
	return netns.Setup(cfg, pid)
}

// reattachable reports whether an idle monitor can leave the network and
// the resumed one take it back (netns.Reattachable).
func reattachable(raw []byte) bool {
	cfg, err := networkConfig(raw)
	return err == nil && netns.Reattachable(cfg)
}

// reattachNetwork takes over the network of a container whose monitor
// went idle.
func reattachNetwork(raw []byte) (*network, error) {
	cfg, err := networkConfig(raw)
	if err != nil {
		return nil, err
	}
	return netns.Reattach(cfg)
}

func networkConfig(raw []byte) (netns.Config, error) {
	var cfg netns.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("the monitor config's network: %w", err)
	}
	return cfg, nil
}

// takeNetwork is where the lean build hands a container with a network to
// this one; this build sets it up itself.
func takeNetwork(string, func()) error { return nil }

// runHelper runs the network helpers' commands; ok is false for others.
func runHelper(cmd, arg string) (code int, ok bool) {
	switch cmd {
	case "dns":
		return runDNS(arg), true
	case "netns":
		return runSharedNetns(arg), true
	}
	return 0, false
}
