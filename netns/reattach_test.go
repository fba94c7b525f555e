package netns

import (
	"testing"

	"github.com/containerd/errdefs"
)

// Only a rootful bridge network without published ports can be taken over
// by another process; its undo steps are one per veth and the rules.
func TestReattach(t *testing.T) {
	bridge := []BridgeConfig{{ContainerID: "abc", Name: "skiff0"}, {ContainerID: "abc", Name: "br1"}}
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"bridge", Config{Mode: ModeBridge, Bridges: bridge}, true},
		{"bridge with ports", Config{Mode: ModeBridge, Bridges: bridge, Ports: []PortMapping{{HostPort: 8080, ContainerPort: 80}}}, false},
		{"rootless shared namespace", Config{Mode: ModeBridge, Bridges: bridge, Shared: &SharedConfig{}}, false},
		{"slirp4netns", Config{Mode: ModeSlirp4netns}, false},
		{"no bridge", Config{Mode: ModeBridge}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Reattachable(tc.cfg); got != tc.ok {
				t.Fatalf("Reattachable: %v, want %v", got, tc.ok)
			}
			n, err := Reattach(tc.cfg)
			if !tc.ok {
				if !errdefs.IsInvalidArgument(err) || n != nil {
					t.Errorf("Reattach: %v, %v; want an InvalidArgument error", n, err)
				}
				return
			}
			if err != nil || len(n.closers) != len(tc.cfg.Bridges)+1 || len(n.late) != 0 {
				t.Errorf("Reattach: %v, %d undo steps; want %d", err, len(n.closers), len(tc.cfg.Bridges)+1)
			}
		})
	}
}
