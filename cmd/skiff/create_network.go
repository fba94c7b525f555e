package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Network flags: the mode, published and exposed ports, name resolution.
// -p is Docker's [ip:][hostPort:]containerPort[/protocol] with ranges.

func networkFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "network", Aliases: []string{"net"}, Usage: "connect a container to a network (bridge, none, host, container:NAME, slirp4netns[:OPTIONS], a user network, or name=NET,alias=A,ip=IP,mac-address=M); repeat for more bridge networks"},
		&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a container's port to the host ([ip:][hostPort:]containerPort[/protocol])"},
		&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish every exposed port to a random host port"},
		&cli.StringSliceFlag{Name: "expose", Usage: "expose a port or a range of ports (port[-port][/protocol])"},
		&cli.StringSliceFlag{Name: "dns", Usage: "set custom DNS servers"},
		&cli.StringSliceFlag{Name: "dns-search", Usage: "set custom DNS search domains"},
		&cli.StringSliceFlag{Name: "dns-option", Aliases: []string{"dns-opt"}, Usage: "set DNS options"},
		&cli.StringSliceFlag{Name: "add-host", Usage: "add a custom host-to-IP mapping (host:ip; ip host-gateway: the host)"},
		&cli.StringSliceFlag{Name: "network-alias", Usage: "add a network-scoped alias for the container"},
		&cli.StringFlag{Name: "ip", Usage: "IPv4 address (e.g., 172.30.100.104)"},
		&cli.StringFlag{Name: "mac-address", Usage: "container MAC address (e.g., 92:d0:c6:0a:29:33)"},
	}
}

func parseNetworkFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	if err := parseNetworks(c, o); err != nil {
		return err
	}
	for _, spec := range c.StringSlice("publish") {
		b, err := parsePublish(spec)
		if err != nil {
			return err
		}
		o.PortBindings = append(o.PortBindings, b...)
	}
	o.PublishAllPorts = c.Bool("publish-all")
	for _, spec := range c.StringSlice("expose") {
		ports, err := parseExpose(spec)
		if err != nil {
			return err
		}
		o.ExposedPorts = append(o.ExposedPorts, ports...)
	}
	o.DNS = c.StringSlice("dns")
	o.DNSSearch = c.StringSlice("dns-search")
	o.DNSOptions = c.StringSlice("dns-option")
	for _, h := range c.StringSlice("add-host") {
		eh, err := parseAddHost(h)
		if err != nil {
			return err
		}
		o.ExtraHosts = append(o.ExtraHosts, eh)
	}
	return nil
}

// parseNetworks reads the --network flags: the first is the mode, each
// further one a network more. --network-alias, --ip and --mac-address
// apply to the first, as Docker's, and conflict with its own alias=, ip=
// and mac-address=.
func parseNetworks(c *cli.Context, o *engine.ContainerCreateOptions) error {
	for i, spec := range c.StringSlice("network") {
		ep, err := parseNetworkSpec(spec)
		if err != nil {
			return err
		}
		if i > 0 {
			o.Networks = append(o.Networks, ep)
			continue
		}
		o.NetworkMode, o.NetworkAliases, o.IPAddress, o.MacAddress = ep.Network, ep.Aliases, ep.IPAddress, ep.MacAddress
	}
	for _, f := range []struct {
		flag, what string
		dst        *string
	}{{"ip", "IPv4 address", &o.IPAddress}, {"mac-address", "MAC address", &o.MacAddress}} {
		if v := c.String(f.flag); v != "" {
			if *f.dst != "" {
				return fmt.Errorf("conflicting options: cannot specify both --%s and per-network %s", f.flag, f.what)
			}
			*f.dst = v
		}
	}
	if aliases := c.StringSlice("network-alias"); len(aliases) > 0 {
		if len(o.NetworkAliases) > 0 {
			return fmt.Errorf("conflicting options: cannot specify both --network-alias and per-network alias")
		}
		o.NetworkAliases = aliases
	}
	return nil
}

// parseNetworkSpec reads one --network: a name (or mode), or Docker's
// name=NET[,alias=A...][,ip=IP][,mac-address=M].
func parseNetworkSpec(spec string) (engine.EndpointOptions, error) {
	if !strings.HasPrefix(spec, "name=") {
		return engine.EndpointOptions{Network: spec}, nil
	}
	var ep engine.EndpointOptions
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return ep, fmt.Errorf("invalid --network %q: %q needs a value: use name=NET,alias=A,ip=IP,mac-address=M", spec, kv)
		}
		switch strings.ToLower(k) {
		case "name":
			ep.Network = v
		case "alias":
			ep.Aliases = append(ep.Aliases, v)
		case "ip":
			ep.IPAddress = v
		case "mac-address":
			ep.MacAddress = v
		default:
			return ep, fmt.Errorf("invalid --network %q: unknown option %q: use name, alias, ip or mac-address", spec, k)
		}
	}
	return ep, nil
}

const publishSyntax = "use [ip:][hostPort:]containerPort[/protocol], ports and ranges from 1 to 65535, protocol tcp or udp"

// parsePublish reads one -p as Docker does: "80", "8080:80", "127.0.0.1:8080:80",
// "127.0.0.1::80", "[::1]:8080:80", ranges ("8000-8001:80-81", or a host
// range for one container port: any free port of it), "/udp".
func parsePublish(spec string) ([]engine.PortBinding, error) {
	bad := func(why string) error {
		if why != "" {
			why = ": " + why
		}
		return fmt.Errorf("invalid port specification %q%s: %s", spec, why, publishSyntax)
	}
	rest, proto, err := splitProto(spec)
	if err != nil {
		return nil, bad(err.Error())
	}
	var ip, hostPart, ctrPart string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]:")
		if end < 0 {
			return nil, bad("an IPv6 address needs a port after its closing bracket")
		}
		ip, rest = rest[1:end], rest[end+2:]
		var ok bool
		if hostPart, ctrPart, ok = strings.Cut(rest, ":"); !ok {
			return nil, bad("")
		}
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			ctrPart = parts[0]
		case 2:
			hostPart, ctrPart = parts[0], parts[1]
		case 3:
			ip, hostPart, ctrPart = parts[0], parts[1], parts[2]
		default:
			return nil, bad("an IPv6 address goes in brackets")
		}
	}
	if ip != "" && net.ParseIP(ip) == nil {
		return nil, bad(fmt.Sprintf("%q is not an IP address", ip))
	}
	c0, c1, err := portRange(ctrPart)
	if err != nil {
		return nil, bad(err.Error())
	}
	var h0, h1 int
	if hostPart != "" {
		if h0, h1, err = portRange(hostPart); err != nil {
			return nil, bad(err.Error())
		}
	}
	var out []engine.PortBinding
	switch {
	case hostPart == "":
		for p := c0; p <= c1; p++ {
			out = append(out, engine.PortBinding{HostIP: ip, ContainerPort: p, Protocol: proto})
		}
	case c0 == c1 && h1 > h0:
		out = append(out, engine.PortBinding{HostIP: ip, HostPort: h0, HostPortEnd: h1, ContainerPort: c0, Protocol: proto})
	case h1-h0 == c1-c0:
		for i := 0; i <= c1-c0; i++ {
			out = append(out, engine.PortBinding{HostIP: ip, HostPort: h0 + i, ContainerPort: c0 + i, Protocol: proto})
		}
	default:
		return nil, bad("the host and container ranges differ in length")
	}
	return out, nil
}

// parseExpose reads --expose port[-port][/protocol].
func parseExpose(spec string) ([]engine.Port, error) {
	rest, proto, err := splitProto(spec)
	if err == nil {
		var p0, p1 int
		if p0, p1, err = portRange(rest); err == nil {
			var out []engine.Port
			for p := p0; p <= p1; p++ {
				out = append(out, engine.Port{Number: p, Protocol: proto})
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("invalid --expose %q: %v: use port[-port][/protocol]", spec, err)
}

func splitProto(spec string) (rest, proto string, err error) {
	rest, proto, ok := strings.Cut(spec, "/")
	if !ok {
		return rest, "tcp", nil
	}
	switch proto = strings.ToLower(proto); proto {
	case "tcp", "udp":
		return rest, proto, nil
	case "sctp":
		return "", "", fmt.Errorf("sctp is not supported")
	}
	return "", "", fmt.Errorf("unknown protocol %q", proto)
}

// portRange reads "80" or "8000-8010".
func portRange(s string) (int, int, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	p0, err := portNumber(lo)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return p0, p0, nil
	}
	p1, err := portNumber(hi)
	if err != nil {
		return 0, 0, err
	}
	if p1 < p0 {
		return 0, 0, fmt.Errorf("range %s ends before it starts", s)
	}
	return p0, p1, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port from 1 to 65535", s)
	}
	return n, nil
}

// parseAddHost reads --add-host NAME:IP (Docker's; NAME=IP as podman and
// newer Docker take it too): engine.ParseExtraHost.
func parseAddHost(s string) (string, error) {
	eh, ok := engine.ParseExtraHost(s)
	if !ok {
		return "", fmt.Errorf("invalid --add-host %q: use host:ip (ip an IPv4 or IPv6 address, or host-gateway)", s)
	}
	return eh, nil
}
