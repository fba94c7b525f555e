package api

import (
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"

	"github.com/skiff-engine/skiff/engine"
)

func TestNetworkCreateOptions(t *testing.T) {
	yes := true
	ipam := &network.IPAM{Config: []network.IPAMConfig{ipamConfig("10.9.0.0/24", "10.9.0.1", "10.9.0.128/25")}}
	o, err := networkCreateOptions(network.CreateRequest{Name: "n", Driver: "bridge", Internal: true, IPAM: ipam, Labels: map[string]string{"a": "b"}})
	if err != nil || o.Name != "n" || o.Subnet != "10.9.0.0/24" || o.Gateway != "10.9.0.1" || o.IPRange != "10.9.0.128/25" || !o.Internal || o.Labels["a"] != "b" {
		t.Errorf("networkCreateOptions: %+v, %v", o, err)
	}
	for name, req := range map[string]network.CreateRequest{
		"no name":     {},
		"ipv6":        {Name: "n", EnableIPv6: &yes},
		"swarm scope": {Name: "n", Scope: "swarm"},
		"ingress":     {Name: "n", Ingress: true},
		"ipam driver": {Name: "n", IPAM: &network.IPAM{Driver: "dhcp"}},
		"two subnets": {Name: "n", IPAM: &network.IPAM{Config: []network.IPAMConfig{{}, {}}}},
	} {
		if _, err := networkCreateOptions(req); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: %v, want invalid argument", name, err)
		}
	}
}

func TestNetworkResponses(t *testing.T) {
	created := time.Unix(1700000000, 0).UTC()
	s := networkSummary(&engine.Network{ID: "id1", Name: "bridge", Created: created, Config: engine.NetworkLayout{
		Driver: "bridge", Bridge: "skiff0", Subnet: "10.88.0.0/16", Gateway: "10.88.0.1", Options: map[string]string{"mtu": "1400"}}})
	want := `{"Name":"bridge","Id":"id1","Created":"2023-11-14T22:13:20Z","Scope":"local","Driver":"bridge","EnableIPv4":true,"EnableIPv6":false,` +
		`"IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.88.0.0/16","Gateway":"10.88.0.1"}]},"Internal":false,"Attachable":false,` +
		`"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Options":{"com.docker.network.bridge.name":"skiff0","mtu":"1400"},"Labels":{}}`
	if got := mustJSON(s); got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
	in := networkInspectResponse(engine.NetworkInspect{Name: "n", ID: "id2", Scope: "local", Driver: "bridge",
		IPAM:       engine.NetworkIPAM{Driver: "default", Options: map[string]string{}, Config: []map[string]string{{"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.1"}}},
		Containers: map[string]engine.NetworkInspectContainer{"c1": {Name: "web", EndpointID: "ep", MacAddress: "02:42:0a:09:00:02", IPv4Address: "10.9.0.2/24"}}})
	got := mustJSON(in)
	for _, part := range []string{`"Containers":{"c1":{"Name":"web","EndpointID":"ep","MacAddress":"02:42:0a:09:00:02","IPv4Address":"10.9.0.2/24","IPv6Address":""}}`,
		`"Config":[{"Subnet":"10.9.0.0/24","Gateway":"10.9.0.1"}]`} {
		if !strings.Contains(got, part) {
			t.Errorf("inspect %s lacks %s", got, part)
		}
	}
}

func TestVolumeResponse(t *testing.T) {
	v := volumeResponse(engine.VolumeInspect{CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC), Driver: "local", Name: "v", Mountpoint: "/m", Scope: "local"})
	if got := mustJSON(v); got != `{"CreatedAt":"2024-01-02T03:04:05Z","Driver":"local","Labels":{},"Mountpoint":"/m","Name":"v","Options":{},"Scope":"local"}` {
		t.Errorf("volume: %s", got)
	}
}
