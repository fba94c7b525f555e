package main

import (
	"strings"
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestParseNetwork(t *testing.T) {
	tcp := func(ip string, host, end, ctr int) engine.PortBinding {
		return engine.PortBinding{HostIP: ip, HostPort: host, HostPortEnd: end, ContainerPort: ctr, Protocol: "tcp"}
	}
	tests := []struct {
		name string
		args []string
		want func(o *engine.ContainerCreateOptions)
		err  string // a part of the error
	}{
		{"mode", []string{"--net", "container:web", "img"}, func(o *engine.ContainerCreateOptions) { o.NetworkMode = "container:web" }, ""},
		{"container port only", []string{"-p", "80", "img"}, func(o *engine.ContainerCreateOptions) {
			o.PortBindings = []engine.PortBinding{tcp("", 0, 0, 80)}
		}, ""},
		{"host and container", []string{"-p", "8080:80", "-p", "127.0.0.1:9090:90/udp", "-p", "127.0.0.1::70", "img"}, func(o *engine.ContainerCreateOptions) {
			o.PortBindings = []engine.PortBinding{tcp("", 8080, 0, 80), {HostIP: "127.0.0.1", HostPort: 9090, ContainerPort: 90, Protocol: "udp"}, tcp("127.0.0.1", 0, 0, 70)}
		}, ""},
		{"ipv6", []string{"--publish", "[::1]:8080:80", "img"}, func(o *engine.ContainerCreateOptions) {
			o.PortBindings = []engine.PortBinding{tcp("::1", 8080, 0, 80)}
		}, ""},
		{"ranges", []string{"-p", "8000-8001:80-81", "-p", "90-91", "img"}, func(o *engine.ContainerCreateOptions) {
			o.PortBindings = []engine.PortBinding{tcp("", 8000, 0, 80), tcp("", 8001, 0, 81), tcp("", 0, 0, 90), tcp("", 0, 0, 91)}
		}, ""},
		{"host range for one port", []string{"-p", "8000-8010:80", "img"}, func(o *engine.ContainerCreateOptions) {
			o.PortBindings = []engine.PortBinding{tcp("", 8000, 8010, 80)}
		}, ""},
		{"expose and -P", []string{"--expose", "80", "--expose", "90-91/udp", "-P", "img"}, func(o *engine.ContainerCreateOptions) {
			o.ExposedPorts = []engine.Port{{Number: 80, Protocol: "tcp"}, {Number: 90, Protocol: "udp"}, {Number: 91, Protocol: "udp"}}
			o.PublishAllPorts = true
		}, ""},
		{"resolution", []string{"--dns", "10.1.1.1", "--dns-search", "example.org", "--dns-opt", "ndots:2", "--add-host", "db:10.0.0.5",
			"--add-host", "gw=host-gateway", "--add-host", "v6:[::1]", "--network-alias", "web", "--ip", "172.17.0.9", "--mac-address", "92:d0:c6:0a:29:33", "img"},
			func(o *engine.ContainerCreateOptions) {
				o.DNS, o.DNSSearch, o.DNSOptions = []string{"10.1.1.1"}, []string{"example.org"}, []string{"ndots:2"}
				o.ExtraHosts = []string{"db:10.0.0.5", "gw:host-gateway", "v6:::1"}
				o.NetworkAliases, o.IPAddress, o.MacAddress = []string{"web"}, "172.17.0.9", "92:d0:c6:0a:29:33"
			}, ""},
		{"several networks", []string{"--network", "front", "--network-alias", "www", "--ip", "10.89.0.9", "--network", "name=back,alias=db,alias=db2,ip=10.89.1.9,mac-address=02:42:0a:59:01:09", "--network", "third", "img"},
			func(o *engine.ContainerCreateOptions) {
				o.NetworkMode, o.NetworkAliases, o.IPAddress = "front", []string{"www"}, "10.89.0.9"
				o.Networks = []engine.EndpointOptions{{Network: "back", Aliases: []string{"db", "db2"}, IPAddress: "10.89.1.9", MacAddress: "02:42:0a:59:01:09"}, {Network: "third"}}
			}, ""},
		{"advanced first", []string{"--network", "name=front,alias=www,ip=10.89.0.9", "img"}, func(o *engine.ContainerCreateOptions) {
			o.NetworkMode, o.NetworkAliases, o.IPAddress = "front", []string{"www"}, "10.89.0.9"
		}, ""},
		{"alias twice", []string{"--network", "name=front,alias=www", "--network-alias", "w", "img"}, nil, "cannot specify both --network-alias and per-network alias"},
		{"ip twice", []string{"--network", "name=front,ip=10.89.0.9", "--ip", "10.89.0.8", "img"}, nil, "cannot specify both --ip and per-network IPv4 address"},
		{"unknown network option", []string{"--network", "name=front,driver-opt=x", "img"}, nil, `unknown option "driver-opt"`},
		{"network option without value", []string{"--network", "name=front,alias", "img"}, nil, `"alias" needs a value`},
		{"bad port", []string{"-p", "99999:80", "img"}, nil, `invalid port specification "99999:80"`},
		{"bad protocol", []string{"-p", "80/icmp", "img"}, nil, `unknown protocol "icmp"`},
		{"sctp", []string{"-p", "80/sctp", "img"}, nil, "sctp is not supported"},
		{"bad ip", []string{"-p", "1.2.3:80:80", "img"}, nil, `"1.2.3" is not an IP address`},
		{"too many colons", []string{"-p", "::1:80:80", "img"}, nil, "an IPv6 address goes in brackets"},
		{"ranges differ", []string{"-p", "8000-8002:80-81", "img"}, nil, "the host and container ranges differ in length"},
		{"reversed range", []string{"-p", "81-80", "img"}, nil, "range 81-80 ends before it starts"},
		{"empty", []string{"-p", "", "img"}, nil, `invalid port specification ""`},
		{"bad expose", []string{"--expose", "x", "img"}, nil, `invalid --expose "x"`},
		{"bad add-host", []string{"--add-host", "db", "img"}, nil, `invalid --add-host "db"`},
		{"bad add-host ip", []string{"--add-host", "db:nowhere", "img"}, nil, `invalid --add-host "db:nowhere"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCreate(t, tt.args...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := engine.ContainerCreateOptions{Image: "img", Pull: "missing"}
			tt.want(&want)
			if !sameOptions(o, want) {
				t.Errorf("\n got %+v\nwant %+v", o, want)
			}
		})
	}
}
