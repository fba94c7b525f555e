package api

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"

	"github.com/skiff-engine/skiff/engine"
)

// Network endpoints: bridge networks only; the default one is Docker's
// "bridge".
func (s *Server) networkRoutes() {
	m := s.mux
	m.HandleFunc("GET /networks", s.networkList)
	m.HandleFunc("POST /networks/create", s.networkCreate)
	m.HandleFunc("POST /networks/prune", s.networkPrune)
	m.HandleFunc("GET /networks/{id}", s.networkInspect)
	m.HandleFunc("DELETE /networks/{id}", s.networkRemove)
	m.HandleFunc("POST /networks/{id}/connect", s.networkConnect)
	m.HandleFunc("POST /networks/{id}/disconnect", s.networkDisconnect)
}

func (s *Server) networkList(w http.ResponseWriter, r *http.Request) {
	filters, err := filterArgs(r.URL.Query().Get("filters"))
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.NetworkList(r.Context(), engine.NetworkListOptions{Filters: filters})
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]network.Summary, 0, len(res.Networks))
	for _, n := range res.Networks {
		out = append(out, network.Summary{Network: networkSummary(n)})
	}
	writeJSON(w, http.StatusOK, out)
}

// networkInspect is GET /networks/{id}; verbose and scope change nothing
// (no swarm).
func (s *Server) networkInspect(w http.ResponseWriter, r *http.Request) {
	in, err := s.e.NetworkInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, networkInspectResponse(in))
}

// networkCreate is POST /networks/create: 201 {"Id","Warning"}. A name
// in use is a 409 whatever CheckDuplicate says (API 1.44 dropped it).
func (s *Server) networkCreate(w http.ResponseWriter, r *http.Request) {
	var req network.CreateRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	o, err := networkCreateOptions(req)
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.NetworkCreate(r.Context(), o)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, network.CreateResponse{ID: res.ID})
}

// networkCreateOptions maps Docker's request onto the engine's options,
// refusing what a skiff bridge cannot be.
func networkCreateOptions(req network.CreateRequest) (engine.NetworkCreateOptions, error) {
	o := engine.NetworkCreateOptions{Name: req.Name, Driver: req.Driver, Internal: req.Internal, Labels: req.Labels, Options: req.Options}
	switch {
	case req.Name == "":
		return o, fmt.Errorf("a network needs a name: %w", errdefs.ErrInvalidArgument)
	case req.EnableIPv6 != nil && *req.EnableIPv6:
		return o, fmt.Errorf("network %s: IPv6 is not supported: %w", req.Name, errdefs.ErrInvalidArgument)
	case req.Scope != "" && req.Scope != "local":
		return o, fmt.Errorf("network %s: scope %q is not supported: use local: %w", req.Name, req.Scope, errdefs.ErrInvalidArgument)
	case req.ConfigOnly || req.ConfigFrom != nil || req.Ingress:
		return o, fmt.Errorf("network %s: config-only and ingress networks are swarm's: %w", req.Name, errdefs.ErrInvalidArgument)
	}
	if ipam := req.IPAM; ipam != nil {
		if ipam.Driver != "" && ipam.Driver != "default" {
			return o, fmt.Errorf("network %s: IPAM driver %q is not supported: use default: %w", req.Name, ipam.Driver, errdefs.ErrInvalidArgument)
		}
		if len(ipam.Config) > 1 {
			return o, fmt.Errorf("network %s: one IPAM config (subnet) at most: %w", req.Name, errdefs.ErrInvalidArgument)
		}
		if len(ipam.Config) == 1 {
			c := ipam.Config[0]
			if c.Subnet.IsValid() {
				o.Subnet = c.Subnet.String()
			}
			if c.Gateway.IsValid() {
				o.Gateway = c.Gateway.String()
			}
			if c.IPRange.IsValid() {
				o.IPRange = c.IPRange.String()
			}
		}
	}
	return o, nil
}

func (s *Server) networkRemove(w http.ResponseWriter, r *http.Request) {
	if err := s.e.NetworkRemove(r.Context(), r.PathValue("id"), engine.NetworkRemoveOptions{}); err != nil {
		writeError(w, err)
		return
	}
	noContent(w)
}

func (s *Server) networkConnect(w http.ResponseWriter, r *http.Request) {
	var req network.ConnectRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Container == "" {
		writeError(w, fmt.Errorf("connect needs a container: %w", errdefs.ErrInvalidArgument))
		return
	}
	var o engine.NetworkConnectOptions
	if ep := req.EndpointConfig; ep != nil {
		o.Aliases = ep.Aliases
		if ep.IPAMConfig != nil && ep.IPAMConfig.IPv4Address.IsValid() {
			o.IPAddress = ep.IPAMConfig.IPv4Address.String()
		}
		if len(ep.MacAddress) > 0 {
			o.MacAddress = ep.MacAddress.String()
		}
	}
	if err := s.e.NetworkConnect(r.Context(), r.PathValue("id"), req.Container, o); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) networkDisconnect(w http.ResponseWriter, r *http.Request) {
	var req network.DisconnectRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Container == "" {
		writeError(w, fmt.Errorf("disconnect needs a container: %w", errdefs.ErrInvalidArgument))
		return
	}
	if err := s.e.NetworkDisconnect(r.Context(), r.PathValue("id"), req.Container, engine.NetworkDisconnectOptions{Force: req.Force}); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) networkPrune(w http.ResponseWriter, r *http.Request) {
	filters, err := filterArgs(r.URL.Query().Get("filters"))
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.NetworkPrune(r.Context(), filters)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, network.PruneReport{NetworksDeleted: nonNil(res.Removed)})
}

// networkSummary is one network of GET /networks.
func networkSummary(n *engine.Network) network.Network {
	c := n.Config
	out := network.Network{Name: n.Name, ID: n.ID, Created: n.Created, Scope: "local", Driver: c.Driver, EnableIPv4: true,
		IPAM:     network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{ipamConfig(c.Subnet, c.Gateway, c.IPRange)}},
		Internal: c.Internal, Options: map[string]string{"com.docker.network.bridge.name": c.Bridge}, Labels: map[string]string{}}
	for k, v := range c.Options {
		out.Options[k] = v
	}
	for k, v := range c.Labels {
		out.Labels[k] = v
	}
	return out
}

func ipamConfig(subnet, gateway, ipRange string) network.IPAMConfig {
	var ic network.IPAMConfig
	ic.Subnet, _ = netip.ParsePrefix(subnet)
	ic.Gateway, _ = netip.ParseAddr(gateway)
	ic.IPRange, _ = netip.ParsePrefix(ipRange)
	return ic
}

// networkInspectResponse is GET /networks/{id}: the network and each
// container holding an address on it.
func networkInspectResponse(in engine.NetworkInspect) network.Inspect {
	out := network.Inspect{Network: network.Network{Name: in.Name, ID: in.ID, Created: in.Created, Scope: in.Scope,
		Driver: in.Driver, EnableIPv4: true, EnableIPv6: in.EnableIPv6, Internal: in.Internal, Attachable: in.Attachable,
		Ingress: in.Ingress, ConfigOnly: in.ConfigOnly, Options: in.Options, Labels: in.Labels,
		IPAM: network.IPAM{Driver: in.IPAM.Driver, Options: in.IPAM.Options, Config: []network.IPAMConfig{}}},
		Containers: map[string]network.EndpointResource{}}
	for _, c := range in.IPAM.Config {
		out.IPAM.Config = append(out.IPAM.Config, ipamConfig(c["Subnet"], c["Gateway"], c["IPRange"]))
	}
	for id, c := range in.Containers {
		ep := network.EndpointResource{Name: c.Name, EndpointID: c.EndpointID}
		if mac, err := net.ParseMAC(c.MacAddress); err == nil {
			ep.MacAddress = network.HardwareAddr(mac)
		}
		ep.IPv4Address, _ = netip.ParsePrefix(c.IPv4Address)
		ep.IPv6Address, _ = netip.ParsePrefix(c.IPv6Address)
		out.Containers[id] = ep
	}
	return out
}
