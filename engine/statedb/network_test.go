package statedb

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func withNetwork(t *testing.T, d *DB) Network {
	t.Helper()
	n, err := d.EnsureNetwork(context.Background(), Network{ID: "net1", Name: "bridge", Created: time.Now(), Config: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnsureNetworkKeepsTheFirst(t *testing.T) {
	d := open(t)
	withNetwork(t, d)
	n, err := d.EnsureNetwork(context.Background(), Network{ID: "other", Name: "bridge", Created: time.Now(), Config: []byte(`{}`)})
	if err != nil || n.ID != "net1" {
		t.Fatalf("second ensure: %+v %v", n, err)
	}
}

// Separate handles, as separate processes would have: every address is
// given once, none is the network, gateway or broadcast address, and the
// last allocation finds the subnet full.
func TestAllocateAddressConcurrent(t *testing.T) {
	d := open(t)
	withNetwork(t, d)
	subnet := netip.MustParsePrefix("10.9.0.0/27") // 30 hosts, minus the gateway
	gw := netip.MustParseAddr("10.9.0.1")
	var mu sync.Mutex
	got := map[netip.Addr]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 30; i++ {
		id := fmt.Sprintf("c%02d", i)
		if err := d.CreateContainer(context.Background(), row(id, "n"+id)); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := Open(context.Background(), d.Path())
			if err != nil {
				errs <- err
				return
			}
			defer h.Close()
			a, err := h.AllocateAddress(context.Background(), "net1", id, subnet, netip.Prefix{}, gw, netip.Addr{})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if other, dup := got[a]; dup {
				errs <- fmt.Errorf("%s given to %s and %s", a, other, id)
			}
			got[a] = id
		}()
	}
	wg.Wait()
	close(errs)
	full := 0
	for err := range errs {
		if errdefs.IsResourceExhausted(err) {
			full++
			continue
		}
		t.Error(err)
	}
	if len(got) != 29 || full != 1 {
		t.Fatalf("%d addresses given, %d refused as full; want 29 and 1", len(got), full)
	}
	for _, bad := range []string{"10.9.0.0", "10.9.0.1", "10.9.0.31"} {
		if _, ok := got[netip.MustParseAddr(bad)]; ok {
			t.Errorf("%s was given", bad)
		}
	}
}

func TestAllocateWantedAddress(t *testing.T) {
	d := open(t)
	withNetwork(t, d)
	subnet, gw := netip.MustParsePrefix("10.9.0.0/24"), netip.MustParseAddr("10.9.0.1")
	for _, id := range []string{"a", "b"} {
		if err := d.CreateContainer(context.Background(), row(id, "n"+id)); err != nil {
			t.Fatal(err)
		}
	}
	want := netip.MustParseAddr("10.9.0.50")
	if a, err := d.AllocateAddress(context.Background(), "net1", "a", subnet, netip.Prefix{}, gw, want); err != nil || a != want {
		t.Fatalf("want %s: %s %v", want, a, err)
	}
	if _, err := d.AllocateAddress(context.Background(), "net1", "b", subnet, netip.Prefix{}, gw, want); !errdefs.IsConflict(err) {
		t.Fatalf("taken address: %v", err)
	}
	for _, bad := range []string{"10.9.0.1", "10.9.1.5", "10.9.0.255"} {
		if _, err := d.AllocateAddress(context.Background(), "net1", "b", subnet, netip.Prefix{}, gw, netip.MustParseAddr(bad)); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// Allocating again replaces the container's own address.
	if a, err := d.AllocateAddress(context.Background(), "net1", "a", subnet, netip.Prefix{}, gw, want); err != nil || a != want {
		t.Fatalf("a container's own stale address: %s %v", a, err)
	}
	if err := d.ReleaseNetwork(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if a, err := d.AllocateAddress(context.Background(), "net1", "b", subnet, netip.Prefix{}, gw, want); err != nil || a != want {
		t.Fatalf("after release: %s %v", a, err)
	}
}

func TestAllocatePortsConflicts(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := d.CreateContainer(ctx, row(id, "n"+id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AllocatePorts(ctx, "a", []PortAllocation{{HostIP: "127.0.0.1", HostPort: 8080, Protocol: "tcp", ContainerPort: 80}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p  PortAllocation
		ok bool
	}{
		{PortAllocation{HostIP: "127.0.0.1", HostPort: 8080, Protocol: "tcp", ContainerPort: 80}, false},
		{PortAllocation{HostIP: "", HostPort: 8080, Protocol: "tcp", ContainerPort: 80}, false}, // every address includes 127.0.0.1
		{PortAllocation{HostIP: "127.0.0.2", HostPort: 8080, Protocol: "tcp", ContainerPort: 80}, true},
		{PortAllocation{HostIP: "127.0.0.1", HostPort: 8080, Protocol: "udp", ContainerPort: 80}, true},
	} {
		err := d.AllocatePorts(ctx, "b", []PortAllocation{tc.p, {HostPort: 9999, Protocol: "tcp", ContainerPort: 1}})
		if tc.ok != (err == nil) || (err != nil && !errdefs.IsConflict(err)) {
			t.Errorf("%+v: %v", tc.p, err)
		}
		if err == nil {
			d.ReleaseNetwork(ctx, "b")
		} else if ps, _ := d.ContainerPorts(ctx, "b"); len(ps) != 0 {
			t.Errorf("a refused allocation kept %v", ps) // all or none
		}
	}
	// A second allocation of a replaces its first, its own port included.
	if err := d.AllocatePorts(ctx, "a", []PortAllocation{{HostIP: "127.0.0.1", HostPort: 8080, Protocol: "tcp", ContainerPort: 80}}); err != nil {
		t.Fatalf("a container's own stale port: %v", err)
	}
	all, err := d.AllPorts(ctx)
	if err != nil || len(all["a"]) != 1 || all["a"][0].HostPort != 8080 {
		t.Fatalf("all ports: %v %v", all, err)
	}
	if err := d.DeleteContainer(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if ps, _ := d.ContainerPorts(ctx, "a"); len(ps) != 0 {
		t.Errorf("a removed container keeps its ports: %v", ps)
	}
}

func TestAllocateInPool(t *testing.T) {
	d := open(t)
	withNetwork(t, d)
	if err := d.CreateContainer(context.Background(), row("a", "na")); err != nil {
		t.Fatal(err)
	}
	subnet, pool := netip.MustParsePrefix("10.9.0.0/24"), netip.MustParsePrefix("10.9.0.128/25")
	a, err := d.AllocateAddress(context.Background(), "net1", "a", subnet, pool, netip.MustParseAddr("10.9.0.1"), netip.Addr{})
	if err != nil || a != netip.MustParseAddr("10.9.0.128") {
		t.Fatalf("first of the pool: %s %v", a, err)
	}
}

func TestCreateNetworkNameTaken(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	if err := d.CreateNetwork(ctx, Network{ID: "n1", Name: "web", Created: time.Now(), Config: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateNetwork(ctx, Network{ID: "n2", Name: "web", Created: time.Now(), Config: []byte(`{}`)}); !errdefs.IsConflict(err) {
		t.Fatalf("second network named web: %v", err)
	}
	if ns, err := d.Networks(ctx); err != nil || len(ns) != 1 {
		t.Fatalf("networks: %v %v", ns, err)
	}
	if err := d.DeleteNetwork(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if ns, _ := d.Networks(ctx); len(ns) != 0 {
		t.Fatalf("after delete: %v", ns)
	}
}
