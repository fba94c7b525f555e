package api

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/storage"
)

// Engine results become moby's response types field by field, so the
// JSON keys and shapes are the types' (Docker's), whatever the engine's
// own documents carry.

// containerSummary is one entry of GET /containers/json, from the list's
// record of c alone (no inspect): ports are its published ports and
// networks its NetworkSettings.Networks (ContainerListResult's); size is
// nil unless asked for.
func containerSummary(c *engine.Container, ports []engine.PortMapping, networks map[string]any, size *engine.ContainerSize) container.Summary {
	s := container.Summary{
		ID: c.ID, Names: []string{"/" + c.Name}, Image: c.ImageRef(),
		ImageID: "sha256:" + c.ImageID, Command: c.Command(), Created: c.Created.Unix(),
		Ports: []container.PortSummary{}, Labels: c.Config.Labels, State: container.ContainerState(dockerState(c)),
		Status: c.Status(), Mounts: mountPoints(c.InspectMounts()),
		NetworkSettings: &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{}},
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.HostConfig.NetworkMode = dockerNetworkMode(c.Config.NetworkMode)
	if size != nil {
		s.SizeRw, s.SizeRootFs = size.RW, size.RootFS
	}
	if h := c.Health(); h != nil {
		s.Health = &container.HealthSummary{Status: container.HealthStatus(h.Status), FailingStreak: h.FailingStreak}
	}
	for _, p := range ports {
		ps := container.PortSummary{PrivatePort: uint16(p.ContainerPort), PublicPort: uint16(p.HostPort), Type: p.Proto}
		ps.IP, _ = netip.ParseAddr(firstNonEmpty(p.HostIP, "0.0.0.0"))
		s.Ports = append(s.Ports, ps)
	}
	for _, p := range c.Config.Network.Exposed { // exposed, not published: the port alone, as Docker's
		if !slices.ContainsFunc(ports, func(m engine.PortMapping) bool { return m.ContainerPort == p.Number && m.Proto == p.Protocol }) {
			s.Ports = append(s.Ports, container.PortSummary{PrivatePort: uint16(p.Number), Type: p.Protocol})
		}
	}
	if b, err := json.Marshal(networks); err == nil {
		json.Unmarshal(b, &s.NetworkSettings.Networks)
	}
	return s
}

// dockerNetworkMode is HostConfig.NetworkMode as Docker shows it: the
// engine's default ("") is Docker's bridge.
func dockerNetworkMode(mode string) string {
	if mode == "" {
		return engine.NetworkBridge
	}
	return mode
}

func mountPoints(ms []engine.InspectMount) []container.MountPoint {
	out := []container.MountPoint{}
	for _, m := range ms {
		out = append(out, container.MountPoint{Type: mount.Type(m.Type), Name: m.Name, Source: m.Source, Destination: m.Destination,
			Driver: m.Driver, Mode: m.Mode, RW: m.RW, Propagation: mount.Propagation(m.Propagation)})
	}
	return out
}

// networkSettings reads the engine's NetworkSettings document (Docker's
// keys already) into moby's type.
func networkSettings(doc map[string]any) (*container.NetworkSettings, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var ns container.NetworkSettings
	if err := json.Unmarshal(b, &ns); err != nil {
		return nil, fmt.Errorf("network settings: %w", err)
	}
	if ns.Networks == nil {
		ns.Networks = map[string]*network.EndpointSettings{}
	}
	return &ns, nil
}

// containerInspectResponse is GET /containers/{id}/json.
func containerInspectResponse(in engine.ContainerInspect) (container.InspectResponse, error) {
	ns, err := networkSettings(in.NetworkSettings)
	if err != nil {
		return container.InspectResponse{}, err
	}
	st := in.State
	out := container.InspectResponse{
		ID: in.ID, Created: in.Created, Path: in.Path, Args: nonNil(in.Args), Image: in.Image,
		ResolvConfPath: in.ResolvConfPath, HostnamePath: in.HostnamePath, HostsPath: in.HostsPath, LogPath: in.LogPath,
		Name: in.Name, RestartCount: in.RestartCount, Driver: in.Driver, Platform: in.Platform, ExecIDs: nil,
		SizeRw: in.SizeRw, SizeRootFs: in.SizeRootFs, Mounts: mountPoints(in.Mounts), NetworkSettings: ns,
		State: &container.State{Status: container.ContainerState(st.Status), Running: st.Running, Paused: st.Paused,
			Restarting: st.Restarting, OOMKilled: st.OOMKilled, Dead: st.Dead, Pid: st.Pid, ExitCode: st.ExitCode,
			Error: st.Error, StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, Health: health(st.Health)},
		HostConfig: inspectHostConfig(in.HostConfig),
	}
	c := in.Config
	out.Config = &container.Config{Hostname: c.Hostname, User: c.User, Tty: c.Tty, OpenStdin: c.OpenStdin, StdinOnce: c.StdinOnce, Env: c.Env,
		Cmd: c.Cmd, Image: c.Image, WorkingDir: c.WorkingDir, Entrypoint: c.Entrypoint, Labels: c.Labels, StopSignal: c.StopSignal}
	if c.StopTimeout != 0 {
		t := c.StopTimeout
		out.Config.StopTimeout = &t
	}
	if h := c.Healthcheck; h != nil {
		out.Config.Healthcheck = &container.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	if ns.Ports != nil {
		out.Config.ExposedPorts = network.PortSet{}
		for p := range ns.Ports {
			out.Config.ExposedPorts[p] = struct{}{}
		}
	}
	return out, nil
}

func inspectHostConfig(h engine.InspectHostConfig) *container.HostConfig {
	hc := &container.HostConfig{Binds: h.Binds, NetworkMode: container.NetworkMode(dockerNetworkMode(h.NetworkMode)),
		AutoRemove: h.AutoRemove, Privileged: h.Privileged, ReadonlyRootfs: h.ReadonlyRootfs, CapAdd: h.CapAdd, CapDrop: h.CapDrop,
		Tmpfs: h.Tmpfs, GroupAdd: h.GroupAdd, SecurityOpt: h.SecurityOpt, Init: h.Init,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyMode(h.RestartPolicy.Name), MaximumRetryCount: h.RestartPolicy.MaximumRetryCount}}
	hc.Memory, hc.NanoCPUs = h.Memory, h.NanoCpus
	hc.DNSOptions, hc.DNSSearch, hc.ExtraHosts = h.DnsOptions, h.DnsSearch, h.ExtraHosts
	hc.IpcMode, hc.PidMode, hc.UTSMode = container.IpcMode(h.IpcMode), container.PidMode(h.PidMode), container.UTSMode(h.UTSMode)
	hc.ShmSize, hc.Sysctls, hc.OomScoreAdj = h.ShmSize, h.Sysctls, h.OomScoreAdj
	hc.CPUShares, hc.CpusetCpus, hc.CpusetMems = h.CpuShares, h.CpusetCpus, h.CpusetMems
	hc.MemoryReservation, hc.MemorySwap, hc.MemorySwappiness = h.MemoryReservation, h.MemorySwap, h.MemorySwappiness
	oomKillDisable := h.OomKillDisable
	hc.OomKillDisable = &oomKillDisable
	for _, d := range h.Devices {
		hc.Devices = append(hc.Devices, container.DeviceMapping{PathOnHost: d.PathOnHost, PathInContainer: d.PathInContainer, CgroupPermissions: d.CgroupPermissions})
	}
	if h.Dns != nil {
		hc.DNS = []netip.Addr{}
	}
	for _, a := range h.Dns {
		if ip, err := netip.ParseAddr(a); err == nil {
			hc.DNS = append(hc.DNS, ip)
		}
	}
	if h.PidsLimit != 0 {
		p := h.PidsLimit
		hc.PidsLimit = &p
	}
	for _, u := range h.Ulimits {
		hc.Ulimits = append(hc.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	hc.LogConfig.Type, _ = h.LogConfig["Type"].(string)
	hc.LogConfig.Config = map[string]string{}
	switch cfg := h.LogConfig["Config"].(type) {
	case map[string]string:
		hc.LogConfig.Config = cfg
	case map[string]any:
		for k, v := range cfg {
			hc.LogConfig.Config[k] = fmt.Sprint(v)
		}
	}
	return hc
}

func health(h *engine.Health) *container.Health {
	if h == nil {
		return nil
	}
	out := &container.Health{Status: container.HealthStatus(h.Status), FailingStreak: h.FailingStreak, Log: []*container.HealthcheckResult{}}
	for _, r := range h.Log {
		out.Log = append(out.Log, &container.HealthcheckResult{Start: r.Start, End: r.End, ExitCode: r.ExitCode, Output: r.Output})
	}
	return out
}

// containerCreateResponse is POST /containers/create's answer.
func containerCreateResponse(r engine.ContainerCreateResult) container.CreateResponse {
	return container.CreateResponse{ID: r.ID, Warnings: nonNil(r.Warnings)}
}

// containerWaitResponse is POST /containers/{id}/wait's body; err is the
// wait's failure after the 200 went out (Docker's Error.Message).
func containerWaitResponse(r engine.ContainerWaitResult, err error) container.WaitResponse {
	out := container.WaitResponse{StatusCode: int64(r.ExitCode)}
	if err != nil {
		out.Error = &container.WaitExitError{Message: err.Error()}
	}
	return out
}

// containerTopResponse is GET /containers/{id}/top.
func containerTopResponse(r engine.TopResult) container.TopResponse {
	return container.TopResponse{Titles: nonNil(r.Titles), Processes: nonNil(r.Processes)}
}

// containerChanges is GET /containers/{id}/changes: Docker's kinds 0
// (modified), 1 (added), 2 (deleted).
func containerChanges(r engine.ContainerDiffResult) ([]container.FilesystemChange, error) {
	out := []container.FilesystemChange{}
	for _, c := range r.Changes {
		k, err := changeKind(c)
		if err != nil {
			return nil, err
		}
		out = append(out, container.FilesystemChange{Kind: k, Path: c.Path})
	}
	return out, nil
}

func changeKind(c storage.Change) (container.ChangeType, error) {
	switch c.Kind {
	case "C":
		return container.ChangeModify, nil
	case "A":
		return container.ChangeAdd, nil
	case "D":
		return container.ChangeDelete, nil
	}
	return 0, fmt.Errorf("change of %s: unknown kind %q", c.Path, c.Kind)
}

// containerPruneReport is POST /containers/prune's answer.
func containerPruneReport(r engine.ContainerPruneResult) container.PruneReport {
	return container.PruneReport{ContainersDeleted: nonNil(r.Removed), SpaceReclaimed: uint64(max(r.SpaceReclaimed, 0))}
}

// nonNil is s, or an empty slice: Docker answers [] where skiff has none.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
