package api

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine"
)

// Docker's container create body (Config, HostConfig, NetworkingConfig)
// becomes the typed options the command line fills: the same values for
// the same meaning. The syntax Docker's JSON still carries as strings
// (Binds, Tmpfs, LogConfig.Config) is read by the engine's functions the
// CLI uses too; the rules on the values (ranges, names, paths, merging
// with the image) are the engine's and runtime's, checked at
// ContainerCreate. A field skiff cannot honour is refused when set, naming
// the field; a zero value is ignored.

// containerCreateOptions maps POST /containers/create?name=NAME onto
// engine.ContainerCreateOptions. apiVersion is the request's (the
// negotiated one, "" for the newest).
func containerCreateOptions(name string, req *container.CreateRequest, apiVersion string) (engine.ContainerCreateOptions, error) {
	cfg := req.Config
	if cfg == nil {
		cfg = &container.Config{}
	}
	hc := req.HostConfig
	if hc == nil {
		hc = &container.HostConfig{}
	}
	// Docker's API never pulls at create: a missing image is a 404.
	o := engine.ContainerCreateOptions{Name: name, Pull: "never"}
	for _, step := range []func(*engine.ContainerCreateOptions, *container.Config, *container.HostConfig) error{
		processOptions, mountOptions, securityOptions, resourceOptions, hostOptions,
	} {
		if err := step(&o, cfg, hc); err != nil {
			return engine.ContainerCreateOptions{}, err
		}
	}
	if err := networkOptions(&o, cfg, hc, req.NetworkingConfig, apiVersion); err != nil {
		return engine.ContainerCreateOptions{}, err
	}
	return o, nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}

// unsupported is Docker's 400 for a field skiff has no way to honour.
func unsupported(field string) error {
	return invalidf("%s is not supported by skiff", field)
}

// refuseSet refuses the first field whose value is set.
func refuseSet(fields map[string]bool) error {
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		if fields[f] {
			return unsupported(f)
		}
	}
	return nil
}

// processOptions: the command, its environment, user and terminal.
// AttachStdin/Stdout/Stderr describe the client's attach, which it makes
// itself (StdinOnce is kept: it tells what the attach's end of input does);
// ArgsEscaped, Shell and OnBuild are Windows' and the builder's.
func processOptions(o *engine.ContainerCreateOptions, cfg *container.Config, hc *container.HostConfig) error {
	o.Image = cfg.Image
	o.Kernel.Domainname = cfg.Domainname
	o.Cmd = slices.Clone(cfg.Cmd)
	switch {
	case len(cfg.Entrypoint) == 1 && cfg.Entrypoint[0] == "":
		// Docker's [""]: no entrypoint, and not the image's CMD either.
		o.Entrypoint, o.EntrypointSet = nil, true
	case len(cfg.Entrypoint) > 0:
		o.Entrypoint, o.EntrypointSet = slices.Clone(cfg.Entrypoint), true
	}
	o.Env = slices.Clone(cfg.Env)
	o.Labels = maps.Clone(cfg.Labels)
	o.WorkingDir = cfg.WorkingDir
	o.User = cfg.User
	o.Hostname = cfg.Hostname
	o.Tty = cfg.Tty
	o.OpenStdin = cfg.OpenStdin
	o.StdinOnce = cfg.StdinOnce
	o.StopSignal = cfg.StopSignal
	if cfg.StopTimeout != nil {
		t := *cfg.StopTimeout
		o.StopTimeout = &t
	}
	if h := cfg.Healthcheck; h != nil {
		// Docker's durations are nanoseconds, as time.Duration's; NONE,
		// CMD and CMD-SHELL are the engine's merge to read.
		o.Healthcheck = &engine.Healthcheck{Test: slices.Clone(h.Test), Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries}
	}
	o.GroupAdd = slices.Clone(hc.GroupAdd)
	o.Init = hc.Init != nil && *hc.Init
	o.AutoRemove = hc.AutoRemove
	o.RestartPolicy = engine.RestartPolicy{Name: string(hc.RestartPolicy.Name), MaximumRetryCount: hc.RestartPolicy.MaximumRetryCount}
	// The policy's rules (names, counts, auto-remove) are
	// runtime.CheckRestartPolicy's, for the CLI's --restart too.
	o.LogConfig = engine.ContainerLogConfig{Type: hc.LogConfig.Type}
	for _, k := range slices.Sorted(maps.Keys(hc.LogConfig.Config)) {
		if err := engine.SetLogOption(&o.LogConfig, k, hc.LogConfig.Config[k]); err != nil {
			return invalidf("HostConfig.LogConfig.Config: %v", err)
		}
	}
	return nil
}

// mountOptions: Binds (-v's syntax), Mounts, Tmpfs and Config.Volumes, in
// Docker's order; VolumesFrom as the CLI's --volumes-from.
func mountOptions(o *engine.ContainerCreateOptions, cfg *container.Config, hc *container.HostConfig) error {
	if err := refuseSet(map[string]bool{
		"HostConfig.VolumeDriver": hc.VolumeDriver != "" && hc.VolumeDriver != "local",
		"HostConfig.StorageOpt":   len(hc.StorageOpt) > 0,
	}); err != nil {
		return err
	}
	for _, b := range hc.Binds {
		m, ok := engine.ParseVolume(b)
		if !ok {
			return invalidf("invalid volume specification: '%s'", b)
		}
		o.Mounts = append(o.Mounts, m)
	}
	for _, m := range hc.Mounts {
		em, err := apiMount(m)
		if err != nil {
			return err
		}
		o.Mounts = append(o.Mounts, em)
	}
	for _, dst := range slices.Sorted(maps.Keys(hc.Tmpfs)) {
		o.Mounts = append(o.Mounts, engine.ParseTmpfs(dst, hc.Tmpfs[dst]))
	}
	for _, dst := range slices.Sorted(maps.Keys(cfg.Volumes)) {
		if !slices.ContainsFunc(o.Mounts, func(m engine.Mount) bool { return m.Destination == dst }) {
			o.Mounts = append(o.Mounts, engine.Mount{Type: "volume", Destination: dst})
		}
	}
	o.VolumesFrom = slices.Clone(hc.VolumesFrom)
	o.ReadonlyRootfs = hc.ReadonlyRootfs
	return nil
}

// apiMount is one of HostConfig.Mounts, with Docker's messages for a
// mount of the wrong shape.
func apiMount(m mount.Mount) (engine.Mount, error) {
	bad := func(why string) error {
		return invalidf("invalid mount config for type %q: %s", m.Type, why)
	}
	em := engine.Mount{Type: string(m.Type), Destination: m.Target, ReadOnly: m.ReadOnly}
	if m.Target == "" {
		return em, bad("field Target must not be empty")
	}
	if m.ClusterOptions != nil || m.ImageOptions != nil {
		return em, bad("only bind, volume and tmpfs mounts are supported")
	}
	for _, other := range []struct {
		set  bool
		kind string
	}{{m.BindOptions != nil, "bind"}, {m.VolumeOptions != nil, "volume"}, {m.TmpfsOptions != nil, "tmpfs"}} {
		if other.set && other.kind != string(m.Type) {
			return em, bad(fmt.Sprintf("field %sOptions must not be specified", strings.ToUpper(other.kind[:1])+other.kind[1:]))
		}
	}
	switch m.Type {
	case mount.TypeBind:
		if m.Source == "" {
			return em, bad("field Source must not be empty")
		}
		em.Source = m.Source
		if b := m.BindOptions; b != nil {
			if b.CreateMountpoint || b.ReadOnlyNonRecursive || b.ReadOnlyForceRecursive {
				return em, bad("BindOptions.CreateMountpoint, ReadOnlyNonRecursive and ReadOnlyForceRecursive are not supported by skiff")
			}
			if b.Propagation != "" {
				em.Options = append(em.Options, string(b.Propagation))
			}
			if b.NonRecursive {
				em.Options = append(em.Options, "bind")
			}
		}
	case mount.TypeVolume:
		em.Name = m.Source
		if v := m.VolumeOptions; v != nil {
			if v.Subpath != "" || len(v.Labels) > 0 {
				return em, bad("VolumeOptions.Subpath and Labels are not supported by skiff")
			}
			em.NoCopy = v.NoCopy
			if d := v.DriverConfig; d != nil {
				if d.Name != "" && d.Name != "local" {
					return em, bad(fmt.Sprintf("volume driver %q: only local", d.Name))
				}
				em.VolumeOptions = maps.Clone(d.Options)
			}
			if em.Name == "" && len(em.VolumeOptions) > 0 {
				return em, bad("VolumeOptions.DriverConfig.Options need a named volume: give Source")
			}
		}
	case mount.TypeTmpfs:
		if m.Source != "" {
			return em, bad("field Source must not be specified")
		}
		if t := m.TmpfsOptions; t != nil {
			if t.SizeBytes < 0 {
				return em, bad("TmpfsOptions.SizeBytes must not be negative")
			}
			if t.SizeBytes > 0 {
				em.Options = append(em.Options, "size="+strconv.FormatInt(t.SizeBytes, 10))
			}
			if t.Mode != 0 {
				em.Options = append(em.Options, "mode="+strconv.FormatUint(uint64(t.Mode.Perm()|t.Mode&0o7000), 8))
			}
			for _, opt := range t.Options {
				switch len(opt) {
				case 1:
					em.Options = append(em.Options, opt[0])
				case 2:
					em.Options = append(em.Options, opt[0]+"="+opt[1])
				default:
					return em, bad(fmt.Sprintf("TmpfsOptions.Options %q: give [flag] or [key, value]", opt))
				}
			}
		}
	default:
		return em, invalidf("invalid mount config for type %q: mount type unknown", m.Type)
	}
	return em, nil
}

// securityOptions: Docker's SecurityOpt as the docker CLI sends it (a
// seccomp profile inline, not a file name), capabilities, privileged, and
// MaskedPaths/ReadonlyPaths emptied (--security-opt systempaths=unconfined).
func securityOptions(o *engine.ContainerCreateOptions, _ *container.Config, hc *container.HostConfig) error {
	o.Privileged = hc.Privileged
	o.CapAdd = slices.Clone(hc.CapAdd)
	o.CapDrop = slices.Clone(hc.CapDrop)
	for _, opt := range hc.SecurityOpt {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":")
		}
		s := &o.Security
		switch {
		case k == "no-new-privileges" && (v == "" || v == "true"):
			s.NoNewPrivileges = true
		case k == "no-new-privileges" && v == "false":
			s.NoNewPrivileges = false
		case k == "seccomp" && v == "unconfined":
			s.Seccomp, s.SeccompProfile = v, nil
		case k == "seccomp" && v != "":
			s.Seccomp, s.SeccompProfile = "", []byte(v)
		case k == "label" && v != "":
			s.Label = append(s.Label, v)
		case k == "apparmor" && v != "":
			s.AppArmor = v
		case k == "unmask" && v != "":
			s.Unmask = append(s.Unmask, strings.Split(v, ":")...)
		default:
			return invalidf("invalid --security-opt: %q", opt)
		}
	}
	masked, readonly := hc.MaskedPaths != nil, hc.ReadonlyPaths != nil
	switch {
	case len(hc.MaskedPaths) > 0 || len(hc.ReadonlyPaths) > 0:
		return unsupported("HostConfig.MaskedPaths and ReadonlyPaths other than empty")
	case masked || readonly:
		o.Security.Unmask = append(o.Security.Unmask, "ALL")
	}
	return nil
}

// unhonoured are the Resources fields skiff has no way to honour, each
// with whether r sets it (create and update refuse those set; update
// refuses more, see updateOptions).
func unhonoured(r container.Resources) map[string]bool {
	return map[string]bool{
		"CgroupParent":         r.CgroupParent != "",
		"BlkioWeight":          r.BlkioWeight != 0,
		"BlkioWeightDevice":    len(r.BlkioWeightDevice) > 0,
		"BlkioDeviceReadBps":   len(r.BlkioDeviceReadBps) > 0,
		"BlkioDeviceWriteBps":  len(r.BlkioDeviceWriteBps) > 0,
		"BlkioDeviceReadIOps":  len(r.BlkioDeviceReadIOps) > 0,
		"BlkioDeviceWriteIOps": len(r.BlkioDeviceWriteIOps) > 0,
		"CpuRealtimePeriod":    r.CPURealtimePeriod != 0,
		"CpuRealtimeRuntime":   r.CPURealtimeRuntime != 0,
		"DeviceCgroupRules":    len(r.DeviceCgroupRules) > 0,
		"DeviceRequests":       len(r.DeviceRequests) > 0,
		"CpuCount":             r.CPUCount != 0,
		"CpuPercent":           r.CPUPercent != 0,
		"IOMaximumIOps":        r.IOMaximumIOps != 0,
		"IOMaximumBandwidth":   r.IOMaximumBandwidth != 0,
	}
}

// resourceOptions: HostConfig's Resources. CpuQuota (with CpuPeriod) is
// the --cpus the CLI gives, as nano-CPUs.
func resourceOptions(o *engine.ContainerCreateOptions, _ *container.Config, hc *container.HostConfig) error {
	r := hc.Resources
	refused := map[string]bool{}
	for f, set := range unhonoured(r) {
		refused["HostConfig."+f] = set
	}
	if err := refuseSet(refused); err != nil {
		return err
	}
	for _, d := range r.Devices {
		o.Kernel.Devices = append(o.Kernel.Devices, engine.Device{Path: d.PathOnHost, ContainerPath: d.PathInContainer, Permissions: d.CgroupPermissions})
	}
	o.Resources.Memory = r.Memory
	o.Resources.CPUShares, o.Resources.CpusetCpus, o.Resources.CpusetMems = r.CPUShares, r.CpusetCpus, r.CpusetMems
	o.Resources.MemoryReservation, o.Resources.MemorySwap = r.MemoryReservation, r.MemorySwap
	if r.MemorySwappiness != nil && *r.MemorySwappiness != -1 {
		v := *r.MemorySwappiness
		o.Resources.MemorySwappiness = &v
	}
	o.Resources.OomKillDisable = r.OomKillDisable != nil && *r.OomKillDisable
	n, err := nanoCPUs(r)
	if err != nil {
		return err
	}
	o.Resources.NanoCPUs = n
	if r.PidsLimit != nil {
		o.Resources.PidsLimit = *r.PidsLimit
	}
	for _, u := range r.Ulimits {
		if u == nil {
			continue
		}
		soft, err := rlimit(u.Name, u.Soft)
		if err != nil {
			return err
		}
		hard, err := rlimit(u.Name, u.Hard)
		if err != nil {
			return err
		}
		o.Resources.Ulimits = append(o.Resources.Ulimits, engine.Ulimit{Name: strings.ToLower(u.Name), Soft: soft, Hard: hard})
	}
	return nil
}

// nanoCPUs is the CPU limit of r as nano-CPUs: NanoCpus, or CpuQuota
// (with CpuPeriod) as the CLI's --cpus sends it.
func nanoCPUs(r container.Resources) (int64, error) {
	if r.CPUQuota != 0 || r.CPUPeriod != 0 {
		// Docker's own refusals of the two ways at once.
		if r.NanoCPUs != 0 && r.CPUPeriod != 0 {
			return 0, invalidf("Conflicting options: Nano CPUs and CPU Period cannot both be set")
		}
		if r.NanoCPUs != 0 && r.CPUQuota != 0 {
			return 0, invalidf("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
		}
		if r.CPUQuota < 0 || r.CPUPeriod < 0 {
			return 0, invalidf("CPU cfs quota and period cannot be negative")
		}
		if r.CPUQuota == 0 {
			return 0, unsupported("HostConfig.CpuPeriod without CpuQuota")
		}
		return engine.NanoCPUsFromQuota(r.CPUQuota, r.CPUPeriod)
	}
	return r.NanoCPUs, nil
}

// rlimit is one ulimit value; -1 is unlimited, as the CLI's.
func rlimit(name string, v int64) (uint64, error) {
	switch {
	case v == -1:
		return unix.RLIM_INFINITY, nil
	case v < 0:
		return 0, invalidf("invalid ulimit %s: %d is not a limit, -1 (unlimited) or more", name, v)
	}
	return uint64(v), nil
}

// hostOptions: the namespaces Docker shares with the host, and the kernel
// settings it tunes (their rules are runtime's). A namespace of another
// container (container:NAME) is not supported for IPC and PID.
func hostOptions(o *engine.ContainerCreateOptions, _ *container.Config, hc *container.HostConfig) error {
	private := func(mode string, defaults ...string) bool {
		return mode != "" && !slices.Contains(defaults, mode)
	}
	if err := refuseSet(map[string]bool{
		"HostConfig.IpcMode":      private(string(hc.IpcMode), "private", "shareable", "host"),
		"HostConfig.PidMode":      private(string(hc.PidMode), "private", "host"),
		"HostConfig.UTSMode":      private(string(hc.UTSMode), "private", "host"),
		"HostConfig.UsernsMode":   private(string(hc.UsernsMode)),
		"HostConfig.CgroupnsMode": private(string(hc.CgroupnsMode), "private"),
		"HostConfig.Cgroup":       hc.Cgroup != "",
		"HostConfig.Runtime":      private(hc.Runtime, "runc"),
		"HostConfig.Umask":        hc.Umask != nil,
		"HostConfig.Annotations":  len(hc.Annotations) > 0,
		"HostConfig.Isolation":    private(string(hc.Isolation), "default"),
	}); err != nil {
		return err
	}
	host := func(mode string) string {
		if mode == "host" {
			return mode
		}
		return ""
	}
	k := &o.Kernel
	k.IPCMode, k.PIDMode, k.UTSMode = host(string(hc.IpcMode)), host(string(hc.PidMode)), host(string(hc.UTSMode))
	k.ShmSize = hc.ShmSize
	k.Sysctls = maps.Clone(hc.Sysctls)
	k.OomScoreAdj = hc.OomScoreAdj
	return nil
}

// networkOptions: the network mode and its endpoints, ports, DNS and
// hosts. NetworkMode "default" (and none given) is the engine's default
// network, which rootful is Docker's bridge.
func networkOptions(o *engine.ContainerCreateOptions, cfg *container.Config, hc *container.HostConfig, nc *network.NetworkingConfig, apiVersion string) error {
	if len(hc.Links) > 0 {
		return unsupported("HostConfig.Links (put the containers on a user network, where they find each other by name)")
	}
	mode := string(hc.NetworkMode)
	if mode == "default" {
		mode = ""
	}
	if cfg.NetworkDisabled {
		if mode != "" && mode != engine.NetworkNone {
			return invalidf("Config.NetworkDisabled conflicts with HostConfig.NetworkMode %q", mode)
		}
		mode = engine.NetworkNone
	}
	o.NetworkMode = mode
	if nc != nil && len(nc.EndpointsConfig) > 0 {
		names := slices.Sorted(maps.Keys(nc.EndpointsConfig))
		if len(names) > 1 && versionBefore(apiVersion, "1.44") {
			return invalidf("Container cannot be connected to network endpoints: %s", strings.Join(names, ", "))
		}
		// The first network's entry is NetworkMode's; on the default
		// network the docker CLI keys it "default" (with --network-alias,
		// --ip...). A client that names networks here alone puts the
		// container on the first of them.
		isDefault := func(n string) bool { return n == "default" || n == engine.NetworkBridge }
		primary := mode
		if primary == "" && !slices.ContainsFunc(names, isDefault) {
			primary = names[0]
			o.NetworkMode = primary
		}
		for _, n := range names {
			ep, err := endpointOptions(n, nc.EndpointsConfig[n])
			if err != nil {
				return err
			}
			if n == primary || (primary == "" && isDefault(n)) {
				o.NetworkAliases, o.IPAddress, o.MacAddress = ep.Aliases, ep.IPAddress, ep.MacAddress
				continue
			}
			o.Networks = append(o.Networks, ep)
		}
	}
	for _, p := range slices.SortedFunc(maps.Keys(cfg.ExposedPorts), comparePorts) {
		ep, err := enginePort(p)
		if err != nil {
			return err
		}
		o.ExposedPorts = append(o.ExposedPorts, ep)
	}
	for _, p := range slices.SortedFunc(maps.Keys(hc.PortBindings), comparePorts) {
		ep, err := enginePort(p)
		if err != nil {
			return err
		}
		for _, b := range hc.PortBindings[p] {
			pb := engine.PortBinding{ContainerPort: ep.Number, Protocol: ep.Protocol}
			if b.HostIP.IsValid() { // as -p gives it: 0.0.0.0 is IPv4's every address, none is every one
				pb.HostIP = b.HostIP.String()
			}
			if b.HostPort != "" {
				if pb.HostPort, pb.HostPortEnd, err = hostPorts(b.HostPort); err != nil {
					return err
				}
			}
			o.PortBindings = append(o.PortBindings, pb)
		}
	}
	o.PublishAllPorts = hc.PublishAllPorts
	for _, a := range hc.DNS {
		o.DNS = append(o.DNS, a.String())
	}
	o.DNSSearch = slices.Clone(hc.DNSSearch)
	o.DNSOptions = slices.Clone(hc.DNSOptions)
	for _, h := range hc.ExtraHosts {
		eh, ok := engine.ParseExtraHost(h)
		if !ok {
			return invalidf("invalid extra host %q: use host:ip (ip an IPv4 or IPv6 address, or host-gateway)", h)
		}
		o.ExtraHosts = append(o.ExtraHosts, eh)
	}
	return nil
}

// endpointOptions is one NetworkingConfig.EndpointsConfig entry.
func endpointOptions(name string, es *network.EndpointSettings) (engine.EndpointOptions, error) {
	ep := engine.EndpointOptions{Network: name}
	if es == nil {
		return ep, nil
	}
	field := "NetworkingConfig.EndpointsConfig." + name + "."
	if err := refuseSet(map[string]bool{
		field + "Links":      len(es.Links) > 0,
		field + "DriverOpts": len(es.DriverOpts) > 0,
		field + "GwPriority": es.GwPriority != 0,
	}); err != nil {
		return ep, err
	}
	ep.Aliases = slices.Clone(es.Aliases)
	if len(es.MacAddress) > 0 {
		ep.MacAddress = es.MacAddress.String()
	}
	if c := es.IPAMConfig; c != nil {
		if c.IPv6Address.IsValid() || len(c.LinkLocalIPs) > 0 {
			return ep, unsupported(field + "IPAMConfig.IPv6Address and LinkLocalIPs")
		}
		if c.IPv4Address.IsValid() {
			ep.IPAddress = c.IPv4Address.String()
		}
	}
	return ep, nil
}

// enginePort is a container port of ExposedPorts or PortBindings.
func enginePort(p network.Port) (engine.Port, error) {
	switch proto := p.Proto(); proto {
	case network.TCP, network.UDP, "":
		return engine.Port{Number: int(p.Num()), Protocol: string(cmpOrProto(proto))}, nil
	default:
		return engine.Port{}, invalidf("invalid port %s: protocol %s is not supported, only tcp and udp", p, proto)
	}
}

func cmpOrProto(p network.IPProtocol) network.IPProtocol {
	if p == "" {
		return network.TCP
	}
	return p
}

func comparePorts(a, b network.Port) int { return strings.Compare(a.String(), b.String()) }

// hostPorts reads a PortBinding's HostPort: a port, or a range of which
// any free port is taken.
func hostPorts(s string) (int, int, error) {
	bad := invalidf("invalid port specification: %q: use a port from 1 to 65535 or a range such as 8000-8010", s)
	lo, hi, isRange := strings.Cut(s, "-")
	p0, err := strconv.Atoi(lo)
	if err != nil || p0 < 1 || p0 > 65535 {
		return 0, 0, bad
	}
	if !isRange {
		return p0, 0, nil
	}
	p1, err := strconv.Atoi(hi)
	if err != nil || p1 < p0 || p1 > 65535 {
		return 0, 0, bad
	}
	if p1 == p0 {
		return p0, 0, nil
	}
	return p0, p1, nil
}

// versionBefore reports whether API version v ("1.43") is older than
// min; "" is the newest.
func versionBefore(v, min string) bool {
	return v != "" && compareVersions(v, min) < 0
}
