package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skiff-engine/skiff/netns"
	"github.com/skiff-engine/skiff/runtime"
)

// ContainerInspect is Docker's container inspect document for the fields
// skiff has.
type ContainerInspect struct {
	ID              string                 `json:"Id"`
	Created         string                 `json:"Created"`
	Path            string                 `json:"Path"`
	Args            []string               `json:"Args"`
	State           InspectState           `json:"State"`
	Image           string                 `json:"Image"`
	ResolvConfPath  string                 `json:"ResolvConfPath"`
	HostnamePath    string                 `json:"HostnamePath"`
	HostsPath       string                 `json:"HostsPath"`
	LogPath         string                 `json:"LogPath"`
	Name            string                 `json:"Name"`
	RestartCount    int                    `json:"RestartCount"`
	Driver          string                 `json:"Driver"`
	Platform        string                 `json:"Platform"`
	HostConfig      InspectHostConfig      `json:"HostConfig"`
	Mounts          []InspectMount         `json:"Mounts"`
	Config          InspectContainerConfig `json:"Config"`
	NetworkSettings map[string]any         `json:"NetworkSettings"`
	SizeRw          *int64                 `json:"SizeRw,omitempty"`     // with --size
	SizeRootFs      *int64                 `json:"SizeRootFs,omitempty"` // with --size
}

// InspectState is the State object of docker inspect.
type InspectState struct {
	Status     string  `json:"Status"`
	Running    bool    `json:"Running"`
	Paused     bool    `json:"Paused"`
	Restarting bool    `json:"Restarting"`
	OOMKilled  bool    `json:"OOMKilled"`
	Dead       bool    `json:"Dead"`
	Pid        int     `json:"Pid"`
	ExitCode   int     `json:"ExitCode"`
	Error      string  `json:"Error"`
	StartedAt  string  `json:"StartedAt"`
	FinishedAt string  `json:"FinishedAt"`
	Health     *Health `json:"Health,omitempty"` // with a healthcheck: its status and last five results
}

// InspectHostConfig is the part of HostConfig skiff knows.
type InspectHostConfig struct {
	Binds          []string          `json:"Binds"`
	NetworkMode    string            `json:"NetworkMode"`
	AutoRemove     bool              `json:"AutoRemove"`
	Privileged     bool              `json:"Privileged"`
	ReadonlyRootfs bool              `json:"ReadonlyRootfs"`
	CapAdd         []string          `json:"CapAdd"`
	CapDrop        []string          `json:"CapDrop"`
	Memory         int64             `json:"Memory"`
	NanoCpus       int64             `json:"NanoCpus"`
	PidsLimit      int64             `json:"PidsLimit"`
	LogConfig      map[string]any    `json:"LogConfig"`
	Tmpfs          map[string]string `json:"Tmpfs"`
	GroupAdd       []string          `json:"GroupAdd"`
	SecurityOpt    []string          `json:"SecurityOpt"`
	Init           *bool             `json:"Init"`
	Ulimits        []InspectUlimit   `json:"Ulimits"`
	RestartPolicy  RestartPolicy     `json:"RestartPolicy"`
	Dns            []string          `json:"Dns"`
	DnsOptions     []string          `json:"DnsOptions"`
	DnsSearch      []string          `json:"DnsSearch"`
	ExtraHosts     []string          `json:"ExtraHosts"`
	IpcMode        string            `json:"IpcMode"`
	PidMode        string            `json:"PidMode"`
	UTSMode        string            `json:"UTSMode"`
	ShmSize        int64             `json:"ShmSize"`
	Sysctls        map[string]string `json:"Sysctls,omitempty"`
	OomScoreAdj    int               `json:"OomScoreAdj"`
	Devices        []InspectDevice   `json:"Devices"`

	CpuShares         int64  `json:"CpuShares"`
	CpusetCpus        string `json:"CpusetCpus"`
	CpusetMems        string `json:"CpusetMems"`
	MemoryReservation int64  `json:"MemoryReservation"`
	MemorySwap        int64  `json:"MemorySwap"`
	MemorySwappiness  *int64 `json:"MemorySwappiness"`
	OomKillDisable    bool   `json:"OomKillDisable"`
}

// InspectDevice is one of HostConfig.Devices.
type InspectDevice struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// InspectUlimit is one of HostConfig.Ulimits, in Docker's int64 (-1 is
// unlimited).
type InspectUlimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// rlimitValue is a resource limit as Docker's int64: RLIM_INFINITY is -1.
func rlimitValue(v uint64) int64 {
	if v > math.MaxInt64 {
		return -1
	}
	return int64(v)
}

// InspectMount is one entry of Mounts, Docker's keys in Docker's order.
type InspectMount struct {
	Type        string `json:"Type"`
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver,omitempty"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

// InspectContainerConfig is the Config object of docker inspect.
type InspectContainerConfig struct {
	Healthcheck *Healthcheck      `json:"Healthcheck,omitempty"`
	Hostname    string            `json:"Hostname"`
	User        string            `json:"User"`
	Tty         bool              `json:"Tty"`
	OpenStdin   bool              `json:"OpenStdin"`
	StdinOnce   bool              `json:"StdinOnce"`
	Env         []string          `json:"Env"`
	Cmd         []string          `json:"Cmd"`
	Image       string            `json:"Image"`
	WorkingDir  string            `json:"WorkingDir"`
	Entrypoint  []string          `json:"Entrypoint"`
	Labels      map[string]string `json:"Labels"`
	StopSignal  string            `json:"StopSignal"`
	StopTimeout int               `json:"StopTimeout"`
}

// dockerStatus is State.Status as Docker names it: a starting container is
// still "created" there, a stopping one "running".
func dockerStatus(s runtime.Status) string {
	switch s {
	case runtime.StatusStarting:
		return "created"
	case runtime.StatusStopping:
		return "running"
	}
	return string(s)
}

func timeOrZero(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// containerSizes measures a container's writable layer (SizeRw) and that
// plus its image (SizeRootFs), for ps -s and inspect -s. It walks the
// layer, so it is only done when asked.
func (e *Engine) containerSizes(c *Container) (rw, rootfs int64, err error) {
	if _, err := e.imageStore(); err != nil {
		return 0, 0, err
	}
	return e.store.ContainerSizes(c.ID)
}

// ContainerInspectOptions: Size adds SizeRw and SizeRootFs (inspect
// --size), which walks the container's layer.
type ContainerInspectOptions struct {
	Size bool
}

// ContainerInspectResult carries the inspect document.
type ContainerInspectResult struct {
	Container ContainerInspect
}

// ContainerInspect builds the inspect document of one container.
func (e *Engine) ContainerInspect(ctx context.Context, ref string, o ContainerInspectOptions) (ContainerInspectResult, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerInspectResult{}, err
	}
	out, err := e.containerInspect(c)
	if err != nil || !o.Size {
		return ContainerInspectResult{Container: out}, err
	}
	rw, rootfs, err := e.containerSizes(c)
	if err != nil {
		return ContainerInspectResult{Container: out}, err
	}
	out.SizeRw, out.SizeRootFs = &rw, &rootfs
	return ContainerInspectResult{Container: out}, nil
}

func (e *Engine) containerInspect(c *Container) (ContainerInspect, error) {
	if _, err := e.imageStore(); err != nil {
		return ContainerInspect{}, err
	}
	s := c.Config.Spec
	out := ContainerInspect{
		ID: c.ID, Created: timeOrZero(c.Created), Image: "sha256:" + c.ImageID, Name: "/" + c.Name,
		ResolvConfPath: c.ResolvConfFile(), HostnamePath: c.HostnameFile(), HostsPath: c.HostsFile(),
		LogPath: c.LogPath(), Driver: e.store.Driver(), Platform: "linux", Mounts: []InspectMount{},
		NetworkSettings: e.networkSettings(c),
	}
	if len(s.Args) > 0 {
		out.Path, out.Args = s.Args[0], s.Args[1:]
	}
	st := c.State
	out.RestartCount = st.RestartCount
	out.State = InspectState{Status: dockerStatus(st.Status), Running: st.Status != runtime.StatusStarting && c.Running(),
		Paused: st.Status == runtime.StatusPaused, Restarting: st.Status == runtime.StatusRestarting,
		OOMKilled: st.OOMKilled, ExitCode: st.ExitCode, Error: st.Error,
		StartedAt: timeOrZero(st.StartedAt), FinishedAt: timeOrZero(st.FinishedAt)}
	if out.State.Running {
		out.State.Pid = st.Pid
	}
	out.State.Health = c.Health()
	hc := InspectHostConfig{NetworkMode: c.Config.NetworkMode, AutoRemove: c.Config.AutoRemove, Privileged: s.Privileged,
		ReadonlyRootfs: s.ReadOnly, CapAdd: s.CapAdd, CapDrop: s.CapDrop, Memory: s.Memory, NanoCpus: s.NanoCPUs,
		PidsLimit: s.PidsLimit, GroupAdd: s.GroupAdd, Tmpfs: map[string]string{},
		LogConfig: map[string]any{"Type": c.Config.LogDriver, "Config": logConfig(c.Config)}, SecurityOpt: securityOpt(s),
		Ulimits: []InspectUlimit{}, RestartPolicy: c.Config.RestartPolicy,
		Dns: orEmpty(c.Config.Network.DNS), DnsOptions: orEmpty(c.Config.Network.DNSOptions),
		DnsSearch: orEmpty(c.Config.Network.DNSSearch), ExtraHosts: c.Config.Network.ExtraHosts,
		IpcMode: cmp.Or(s.IPCMode, "private"), PidMode: s.PIDMode, UTSMode: s.UTSMode,
		ShmSize: cmp.Or(s.ShmSize, runtime.DefaultShmSize), Sysctls: s.Sysctls, OomScoreAdj: s.OomScoreAdj,
		Devices: []InspectDevice{}, CpuShares: s.CPUShares, CpusetCpus: s.CpusetCpus, CpusetMems: s.CpusetMems,
		MemoryReservation: s.MemoryReservation, MemorySwap: s.MemorySwap, MemorySwappiness: s.MemorySwappiness,
		OomKillDisable: s.OomKillDisable}
	if s.IPCMode == "host" {
		hc.ShmSize = 0
	}
	for _, d := range s.Devices {
		hc.Devices = append(hc.Devices, InspectDevice{PathOnHost: d.Path, PathInContainer: cmp.Or(d.ContainerPath, d.Path), CgroupPermissions: cmp.Or(d.Permissions, "rwm")})
	}
	if hc.RestartPolicy.Name == "" {
		hc.RestartPolicy.Name = runtime.RestartNo
	}
	if s.InitPath != "" {
		init := true
		hc.Init = &init
	}
	for _, u := range s.Ulimits {
		hc.Ulimits = append(hc.Ulimits, InspectUlimit{Name: u.Name, Soft: rlimitValue(u.Soft), Hard: rlimitValue(u.Hard)})
	}
	for _, m := range s.Mounts {
		if m.Type == "tmpfs" {
			opts := m.Options
			if m.ReadOnly {
				opts = append(slices.Clone(opts), "ro")
			}
			hc.Tmpfs[m.Destination] = joinOpts(opts)
			continue
		}
		im := inspectMount(m)
		bind := m.Source + ":" + m.Destination
		if m.Type == "volume" {
			bind = m.Name + ":" + m.Destination
		}
		if im.Mode != "" {
			bind += ":" + im.Mode
		}
		if m.Type != "volume" || !slices.Contains(c.Config.AnonymousVolumes, m.Name) {
			hc.Binds = append(hc.Binds, bind) // Docker keeps anonymous ones out of Binds
		}
		out.Mounts = append(out.Mounts, im)
	}
	out.HostConfig = hc
	out.Config = InspectContainerConfig{Healthcheck: c.Config.Healthcheck, Hostname: s.Hostname, User: s.User, Tty: c.Config.Tty, OpenStdin: c.Config.OpenStdin, StdinOnce: c.Config.StdinOnce,
		Env: s.Env, Cmd: c.Config.Cmd, Image: c.Config.Image, WorkingDir: s.Cwd, Entrypoint: c.Config.Entrypoint,
		Labels: c.Config.Labels, StopSignal: c.Config.StopSignal, StopTimeout: c.Config.StopTimeout}
	return out, nil
}

// inspectMount is a bind or volume mount as inspect's Mounts show it.
func inspectMount(m runtime.Mount) InspectMount {
	opts := m.Options
	if m.ReadOnly && !slices.Contains(opts, "ro") {
		opts = append([]string{"ro"}, opts...)
	}
	im := InspectMount{Type: "bind", Source: m.Source, Destination: m.Destination, Mode: joinOpts(opts),
		RW: !slices.Contains(opts, "ro"), Propagation: propagation(opts)}
	if m.Type == "volume" {
		// Docker's: a volume's propagation is the default, shown empty.
		im.Type, im.Name, im.Driver, im.Propagation = "volume", m.Name, "local", ""
	}
	return im
}

// InspectMounts are c's bind and volume mounts as inspect shows them
// (tmpfs ones are HostConfig.Tmpfs), from its record alone.
func (c *Container) InspectMounts() []InspectMount {
	out := []InspectMount{}
	for _, m := range c.Config.Spec.Mounts {
		if m.Type != "tmpfs" {
			out = append(out, inspectMount(m))
		}
	}
	return out
}

// securityOpt gives back Docker's SecurityOpt strings for the typed
// security options (a profile as its JSON, as Docker's inspect shows it).
func securityOpt(s runtime.SpecOptions) []string {
	var out []string
	if s.NoNewPrivileges {
		out = append(out, "no-new-privileges")
	}
	switch {
	case len(s.SeccompProfile) > 0:
		out = append(out, "seccomp="+string(s.SeccompProfile))
	case s.Seccomp != "":
		out = append(out, "seccomp="+s.Seccomp)
	}
	for _, l := range s.Label {
		out = append(out, "label="+l)
	}
	if s.AppArmor != "" {
		out = append(out, "apparmor="+s.AppArmor)
	}
	if len(s.Unmask) > 0 {
		out = append(out, "unmask="+strings.Join(s.Unmask, ":"))
	}
	return out
}

// logConfig is LogConfig.Config: the log options given, as strings.
func logConfig(c ContainerConfig) map[string]string {
	out := map[string]string{}
	if c.LogMaxSize > 0 {
		out["max-size"] = runtime.SizeString(c.LogMaxSize)
	}
	if c.LogMaxFiles > 1 {
		out["max-file"] = strconv.Itoa(c.LogMaxFiles)
	}
	return out
}

// orEmpty is s, or an empty list (Docker's [] rather than null).
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func joinOpts(opts []string) string {
	s := ""
	for i, o := range opts {
		if i > 0 {
			s += ","
		}
		s += o
	}
	return s
}

// networkSettings is Docker's NetworkSettings: the ports (published ones
// with their host side while the container runs, exposed ones with null),
// and for the bridge its address.
func (e *Engine) networkSettings(c *Container) map[string]any {
	ports := map[string]any{}
	for _, p := range c.Config.Network.Exposed {
		ports[p.String()] = nil
	}
	allocs, _ := e.db.ContainerPorts(context.Background(), c.ID)
	bound := map[string][]map[string]string{}
	for _, m := range portMappings(allocs) {
		k := Port{m.ContainerPort, m.Proto}.String()
		bound[k] = append(bound[k], map[string]string{"HostIp": m.HostIP, "HostPort": strconv.Itoa(m.HostPort)})
	}
	for k, v := range bound {
		ports[k] = v
	}
	ns := map[string]any{"Ports": ports, "Networks": map[string]any{}, "IPAddress": "", "Gateway": "", "MacAddress": ""}
	var first map[string]any
	if c.Config.NetworkMode == NetworkSlirp {
		first = slirpEndpoint()
		ns["Networks"] = map[string]any{NetworkSlirp: first}
	} else if eps := e.endpointSettings(c); len(eps) > 0 {
		networks := map[string]any{}
		for _, ep := range eps {
			networks[ep.name] = ep.settings
		}
		ns["Networks"], first = networks, eps[0].settings
	}
	if first != nil {
		ns["IPAddress"], ns["Gateway"], ns["MacAddress"] = first["IPAddress"], first["Gateway"], first["MacAddress"]
	}
	return ns
}

// slirpEndpoint is slirp4netns's entry of NetworkSettings.Networks.
func slirpEndpoint() map[string]any {
	return map[string]any{"IPAddress": netns.SlirpAddress, "Gateway": netns.SlirpGateway, "IPPrefixLen": 24,
		"MacAddress": "", "Aliases": nil, "NetworkID": "", "EndpointID": ""}
}

// namedEndpoint is one entry of NetworkSettings.Networks.
type namedEndpoint struct {
	name     string
	settings map[string]any
}

// endpointSettings are Docker's EndpointSettings of each of c's networks,
// in order: the address, gateway and MAC while it runs.
func (e *Engine) endpointSettings(c *Container) []namedEndpoint {
	var addrs map[string]netip.Addr
	if c.Running() {
		addrs, _ = e.db.ContainerAddresses(context.Background(), c.ID)
	}
	return endpointSettingsOf(c, addrs, func(ref string) (*Network, error) {
		return e.lookupNetwork(context.Background(), ref)
	})
}

// endpointSettingsOf is endpointSettings with the container's addresses
// (by network ID; nil when it is not running) and a lookup of networks.
func endpointSettingsOf(c *Container, addrs map[string]netip.Addr, lookup func(ref string) (*Network, error)) []namedEndpoint {
	var out []namedEndpoint
	for _, ep := range c.Config.Network.Endpoints {
		name := ep.ref()
		s := map[string]any{"IPAddress": "", "Gateway": "", "IPPrefixLen": 0, "MacAddress": ep.MacAddress,
			"Aliases": ep.Aliases, "NetworkID": ep.NetworkID, "EndpointID": "", "DNSNames": nil}
		if ep.IPAddress != "" {
			s["IPAMConfig"] = map[string]string{"IPv4Address": ep.IPAddress}
		} else {
			s["IPAMConfig"] = nil
		}
		if network, err := lookup(name); err == nil {
			name, s["NetworkID"] = network.Name, network.ID
			if !network.Builtin() {
				s["DNSNames"] = append([]string{c.Name, c.ShortID()}, ep.Aliases...)
			}
			if a, ok := addrs[network.ID]; ok {
				s["IPAddress"], s["Gateway"], s["EndpointID"] = a.String(), network.Config.Gateway, endpointID(c.ID, network.ID)
				if p, err := netip.ParsePrefix(network.Config.Subnet); err == nil {
					s["IPPrefixLen"] = p.Bits()
				}
				s["MacAddress"] = endpointMAC(ep, a)
			}
		}
		out = append(out, namedEndpoint{name, s})
	}
	return out
}

// endpointID names the container's endpoint on a network (Docker's
// EndpointID): the same for the same pair, different for each network.
func endpointID(container, network string) string {
	sum := sha256.Sum256([]byte(container + "/" + network))
	return hex.EncodeToString(sum[:])
}

// endpointMAC is the endpoint's MAC: the one asked for, else Docker's
// 02:42 and the address, which the monitor gives it.
func endpointMAC(ep Endpoint, a netip.Addr) string {
	if ep.MacAddress != "" {
		return ep.MacAddress
	}
	b := a.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}.String()
}

// propagation is a bind's mount propagation as Docker shows it.
func propagation(opts []string) string {
	for _, o := range opts {
		switch o {
		case "shared", "rshared", "slave", "rslave", "private", "rprivate":
			return o
		}
	}
	return "rprivate"
}
