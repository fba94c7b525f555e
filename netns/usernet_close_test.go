package netns

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// TestUsernetRelease: Release frees a published port at once (a restart
// binds it again) and leaves the veth pair to the background; Wait returns
// once it is gone.
func TestUsernetRelease(t *testing.T) {
	pid := targetNS(t)
	serveTCPInNS(t, pid, 8080)
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := PortMapping{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8080, Protocol: "tcp"}
	n := setupUser(t, Config{Mode: ModeSlirp4netns, Ports: []PortMapping{p}}, pid)
	if got := nsLinks(t, pid); got != "lo skiffnet0 tap0" {
		t.Fatalf("the namespace's devices: %q, want lo skiffnet0 tap0", got)
	}
	if err := n.Release(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the published port right after Release: %v", err)
	}
	ln.Close()
	returnsSoon(t, "Wait", n.Wait)
	if got := nsLinks(t, pid); got != "lo" {
		t.Errorf("after Wait the namespace has %q, want lo alone", got)
	}
}

// TestUsernetCloseAfterContainer: Close returns, and deletes the pair,
// whatever the container did to its end (with CAP_NET_ADMIN): renamed
// (the stack's end is deleted by its index, not a name), or deleted.
func TestUsernetCloseAfterContainer(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"renamed", func() error {
			tap, err := netlink.LinkByName(usernetDevice)
			if err == nil {
				err = netlink.LinkSetDown(tap)
			}
			if err == nil {
				err = netlink.LinkSetName(tap, "eth7")
			}
			if err == nil {
				err = netlink.LinkSetUp(tap)
			}
			return err
		}},
		{"deleted", func() error { return deleteLink(usernetDevice) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pid := targetNS(t)
			n := setupUser(t, Config{Mode: ModeSlirp4netns}, pid)
			if err := inNS(t, pid, tc.do); err != nil {
				t.Fatal(err)
			}
			returnsSoon(t, "Close", n.Close)
			if got := nsLinks(t, pid); got != "lo" {
				t.Errorf("after Close the namespace has %q, want lo alone", got)
			}
		})
	}
}

// returnsSoon fails the test if fn fails or hangs.
func returnsSoon(t *testing.T, what string, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("%s hangs", what)
	}
}

// nsLinks names the devices of the namespace of pid, sorted by index.
func nsLinks(t *testing.T, pid int) string {
	t.Helper()
	var names string
	err := inNS(t, pid, func() error {
		ifs, err := net.Interfaces()
		for _, ifc := range ifs {
			if names != "" {
				names += " "
			}
			names += ifc.Name
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}
