package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/runtime"
)

// TestContainerCreateOptions decodes Docker create bodies as clients send
// them and checks the typed options, one row per field family.
func TestContainerCreateOptions(t *testing.T) {
	ten, infinity := 10, uint64(unix.RLIM_INFINITY)
	tests := []struct {
		name    string
		body    string
		version string
		want    func(o *engine.ContainerCreateOptions) // changes from the options of an empty body
		err     string
	}{
		{name: "empty", body: `{}`, want: func(o *engine.ContainerCreateOptions) {}},
		{name: "process", body: `{"Image":"busybox","Cmd":["echo","hi"],"Entrypoint":["/bin/sh","-c"],
			"Env":["A=1","B=2"],"Labels":{"l":"v"},"WorkingDir":"/w","User":"1000:1000","Hostname":"h",
			"Tty":true,"OpenStdin":true,"StdinOnce":true,"AttachStdin":true,"AttachStdout":true,
			"StopSignal":"SIGINT","StopTimeout":10,"HostConfig":{"GroupAdd":["audio"],"Init":true,"AutoRemove":true,"ConsoleSize":[24,80]}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Image, o.Cmd, o.Entrypoint, o.EntrypointSet = "busybox", []string{"echo", "hi"}, []string{"/bin/sh", "-c"}, true
				o.Env, o.Labels, o.WorkingDir, o.User, o.Hostname = []string{"A=1", "B=2"}, map[string]string{"l": "v"}, "/w", "1000:1000", "h"
				o.Tty, o.OpenStdin, o.StdinOnce, o.StopSignal, o.StopTimeout = true, true, true, "SIGINT", &ten
				o.GroupAdd, o.Init, o.AutoRemove = []string{"audio"}, true, true
			}},
		{name: "entrypoint cleared", body: `{"Image":"busybox","Entrypoint":[""]}`,
			want: func(o *engine.ContainerCreateOptions) { o.Image, o.EntrypointSet = "busybox", true }},
		{name: "entrypoint empty list is the image's", body: `{"Entrypoint":[]}`, want: func(o *engine.ContainerCreateOptions) {}},
		{name: "healthcheck", body: `{"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":1000000000,"Timeout":2000000,"StartPeriod":3,"StartInterval":4,"Retries":5}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Healthcheck = &engine.Healthcheck{Test: []string{"CMD-SHELL", "true"}, Interval: time.Second, Timeout: 2 * time.Millisecond,
					StartPeriod: 3, StartInterval: 4, Retries: 5}
			}},
		{name: "healthcheck none", body: `{"Healthcheck":{"Test":["NONE"]}}`,
			want: func(o *engine.ContainerCreateOptions) { o.Healthcheck = &engine.Healthcheck{Test: []string{"NONE"}} }},
		{name: "restart", body: `{"HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.RestartPolicy = engine.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}
			}},
		{name: "log config", body: `{"HostConfig":{"LogConfig":{"Type":"k8s-file","Config":{"max-size":"10m","max-file":"3"}}}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.LogConfig = engine.ContainerLogConfig{Type: "k8s-file", MaxSize: 10 << 20, MaxFile: 3}
			}},
		{name: "log config bad option", body: `{"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-file":"0"}}}}`,
			err: "HostConfig.LogConfig.Config: max-file=0: use a number >= 1"},
		{name: "binds tmpfs volumes", body: `{"Volumes":{"/anon":{},"/b":{}},"HostConfig":{"Binds":["/h:/b:ro,rshared","vol:/v:nocopy"],
			"Tmpfs":{"/t":"size=64m,ro"},"VolumesFrom":["other:ro"],"ReadonlyRootfs":true}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Mounts = []engine.Mount{
					{Type: "bind", Source: "/h", Destination: "/b", ReadOnly: true, Options: []string{"rshared"}},
					{Type: "volume", Name: "vol", Destination: "/v", NoCopy: true},
					{Type: "tmpfs", Destination: "/t", ReadOnly: true, Options: []string{"size=64m"}},
					{Type: "volume", Destination: "/anon"},
				}
				o.VolumesFrom, o.ReadonlyRootfs = []string{"other:ro"}, true
			}},
		{name: "bad bind", body: `{"HostConfig":{"Binds":["/a:/b:ro:x"]}}`, err: `invalid volume specification: '/a:/b:ro:x'`},
		{name: "mounts", body: `{"HostConfig":{"Mounts":[
			{"Type":"bind","Source":"/h","Target":"/b","ReadOnly":true,"BindOptions":{"Propagation":"rslave","NonRecursive":true}},
			{"Type":"volume","Source":"v","Target":"/v","VolumeOptions":{"NoCopy":true,"DriverConfig":{"Name":"local","Options":{"type":"tmpfs"}}}},
			{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"SizeBytes":1048576,"Mode":1023,"Options":[["noexec"],["uid","1"]]}}]}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Mounts = []engine.Mount{
					{Type: "bind", Source: "/h", Destination: "/b", ReadOnly: true, Options: []string{"rslave", "bind"}},
					{Type: "volume", Name: "v", Destination: "/v", NoCopy: true, VolumeOptions: map[string]string{"type": "tmpfs"}},
					{Type: "tmpfs", Destination: "/t", Options: []string{"size=1048576", "mode=1777", "noexec", "uid=1"}},
				}
			}},
		{name: "unknown mount type", body: `{"HostConfig":{"Mounts":[{"Type":"npipe","Source":"x","Target":"/x"}]}}`,
			err: `invalid mount config for type "npipe": mount type unknown`},
		{name: "bind without source", body: `{"HostConfig":{"Mounts":[{"Type":"bind","Target":"/x"}]}}`,
			err: `invalid mount config for type "bind": field Source must not be empty`},
		{name: "tmpfs with source", body: `{"HostConfig":{"Mounts":[{"Type":"tmpfs","Source":"/h","Target":"/x"}]}}`,
			err: `invalid mount config for type "tmpfs": field Source must not be specified`},
		{name: "options of another type", body: `{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/h","Target":"/x","VolumeOptions":{}}]}}`,
			err: `invalid mount config for type "bind": field VolumeOptions must not be specified`},
		{name: "mount without target", body: `{"HostConfig":{"Mounts":[{"Type":"volume"}]}}`,
			err: `invalid mount config for type "volume": field Target must not be empty`},
		{name: "security", body: `{"HostConfig":{"Privileged":true,"CapAdd":["NET_ADMIN"],"CapDrop":["ALL"],
			"SecurityOpt":["no-new-privileges","seccomp=unconfined","label=disable","apparmor=p"],"MaskedPaths":[],"ReadonlyPaths":[]}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Privileged, o.CapAdd, o.CapDrop = true, []string{"NET_ADMIN"}, []string{"ALL"}
				o.Security = engine.SecurityOptions{NoNewPrivileges: true, Seccomp: "unconfined", Label: []string{"disable"}, AppArmor: "p", Unmask: []string{"ALL"}}
			}},
		{name: "seccomp profile inline", body: `{"HostConfig":{"SecurityOpt":["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Security.SeccompProfile = []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`)
			}},
		{name: "bad security opt", body: `{"HostConfig":{"SecurityOpt":["bogus=1"]}}`, err: `invalid --security-opt: "bogus=1"`},
		{name: "resources", body: `{"HostConfig":{"Memory":67108864,"NanoCpus":1500000000,"PidsLimit":100,"MemorySwappiness":-1,"OomKillDisable":false,
			"Ulimits":[{"Name":"NOFILE","Soft":1024,"Hard":-1}]}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Resources = engine.Resources{Memory: 64 << 20, NanoCPUs: 1500000000, PidsLimit: 100,
					Ulimits: []engine.Ulimit{{Name: "nofile", Soft: 1024, Hard: infinity}}}
			}},
		// Negative memory is runtime.CheckOptions's to refuse (the CLI's
		// path too): the converter passes it on as given.
		{name: "negative memory passed to the one check", body: `{"HostConfig":{"Memory":-1}}`,
			want: func(o *engine.ContainerCreateOptions) { o.Resources.Memory = -1 }},
		{name: "cpu quota", body: `{"HostConfig":{"CpuQuota":50000}}`,
			want: func(o *engine.ContainerCreateOptions) { o.Resources.NanoCPUs = 5e8 }},
		{name: "cpu quota and period", body: `{"HostConfig":{"CpuQuota":300000,"CpuPeriod":200000}}`,
			want: func(o *engine.ContainerCreateOptions) { o.Resources.NanoCPUs = 15e8 }},
		{name: "nano cpus and quota", body: `{"HostConfig":{"NanoCpus":1000000000,"CpuQuota":50000}}`,
			err: "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
		{name: "nano cpus and period", body: `{"HostConfig":{"NanoCpus":1000000000,"CpuPeriod":50000}}`,
			err: "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{name: "negative ulimit", body: `{"HostConfig":{"Ulimits":[{"Name":"nofile","Soft":-2,"Hard":1}]}}`,
			err: "invalid ulimit nofile: -2 is not a limit, -1 (unlimited) or more"},
		{name: "more resources", body: `{"HostConfig":{"Memory":1073741824,"MemorySwap":2147483648,"MemoryReservation":536870912,"CpuShares":512,
			"CpusetCpus":"0-1","CpusetMems":"0","MemorySwappiness":10,"OomKillDisable":true}}`,
			want: func(o *engine.ContainerCreateOptions) {
				ten := int64(10)
				o.Resources.Memory, o.Resources.MemorySwap, o.Resources.MemoryReservation = 1<<30, 2<<30, 512<<20
				o.Resources.CPUShares, o.Resources.CpusetCpus, o.Resources.CpusetMems = 512, "0-1", "0"
				o.Resources.MemorySwappiness, o.Resources.OomKillDisable = &ten, true
			}},
		{name: "swappiness -1 is the host's", body: `{"HostConfig":{"MemorySwappiness":-1,"OomKillDisable":false}}`, want: func(o *engine.ContainerCreateOptions) {}},
		{name: "blkio weight", body: `{"HostConfig":{"BlkioWeight":300}}`, err: "HostConfig.BlkioWeight is not supported by skiff"},
		{name: "devices", body: `{"HostConfig":{"Devices":[{"PathOnHost":"/dev/fuse","PathInContainer":"/dev/f","CgroupPermissions":"rw"}]}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Kernel.Devices = []engine.Device{{Path: "/dev/fuse", ContainerPath: "/dev/f", Permissions: "rw"}}
			}},
		{name: "shm size", body: `{"HostConfig":{"ShmSize":1048576}}`, want: func(o *engine.ContainerCreateOptions) { o.Kernel.ShmSize = 1 << 20 }},
		{name: "host namespaces", body: `{"HostConfig":{"PidMode":"host","IpcMode":"host","UTSMode":"host"}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Kernel.PIDMode, o.Kernel.IPCMode, o.Kernel.UTSMode = "host", "host", "host"
			}},
		{name: "pid of another container", body: `{"HostConfig":{"PidMode":"container:db"}}`, err: "HostConfig.PidMode is not supported by skiff"},
		{name: "ipc private is the default", body: `{"HostConfig":{"IpcMode":"private","CgroupnsMode":"private","Isolation":"default"}}`,
			want: func(o *engine.ContainerCreateOptions) {}},
		{name: "sysctls and oom score", body: `{"HostConfig":{"Sysctls":{"net.ipv4.ip_forward":"1"},"OomScoreAdj":100}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Kernel.Sysctls, o.Kernel.OomScoreAdj = map[string]string{"net.ipv4.ip_forward": "1"}, 100
			}},
		{name: "domainname", body: `{"Domainname":"example.com"}`, want: func(o *engine.ContainerCreateOptions) { o.Kernel.Domainname = "example.com" }},
		{name: "network default is the engine's", body: `{"HostConfig":{"NetworkMode":"default"}}`, want: func(o *engine.ContainerCreateOptions) {}},
		{name: "network disabled", body: `{"NetworkDisabled":true}`,
			want: func(o *engine.ContainerCreateOptions) { o.NetworkMode = engine.NetworkNone }},
		{name: "network disabled against host", body: `{"NetworkDisabled":true,"HostConfig":{"NetworkMode":"host"}}`,
			err: `Config.NetworkDisabled conflicts with HostConfig.NetworkMode "host"`},
		{name: "ports and dns", body: `{"ExposedPorts":{"53/udp":{},"80/tcp":{}},"HostConfig":{
			"PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"},{"HostIp":"","HostPort":""},{"HostIp":"0.0.0.0","HostPort":"81"}],"53/udp":[{"HostPort":"5300-5310"}]},
			"PublishAllPorts":true,"Dns":["1.1.1.1"],"DnsSearch":["example.com"],"DnsOptions":["ndots:2"],"ExtraHosts":["h:10.0.0.1","gw=host-gateway","v6:[::1]"]}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.ExposedPorts = []engine.Port{{Number: 53, Protocol: "udp"}, {Number: 80, Protocol: "tcp"}}
				o.PortBindings = []engine.PortBinding{{HostPort: 5300, HostPortEnd: 5310, ContainerPort: 53, Protocol: "udp"},
					{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}, {ContainerPort: 80, Protocol: "tcp"},
					{HostIP: "0.0.0.0", HostPort: 81, ContainerPort: 80, Protocol: "tcp"}}
				o.PublishAllPorts = true
				o.DNS, o.DNSSearch, o.DNSOptions = []string{"1.1.1.1"}, []string{"example.com"}, []string{"ndots:2"}
				o.ExtraHosts = []string{"h:10.0.0.1", "gw:host-gateway", "v6:::1"}
			}},
		{name: "bad host port", body: `{"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"70000"}]}}}`,
			err: `invalid port specification: "70000": use a port from 1 to 65535 or a range such as 8000-8010`},
		{name: "reversed host range", body: `{"HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"90-80"}]}}}`,
			err: `invalid port specification: "90-80": use a port from 1 to 65535 or a range such as 8000-8010`},
		{name: "bad extra host", body: `{"HostConfig":{"ExtraHosts":["h:nowhere"]}}`,
			err: `invalid extra host "h:nowhere": use host:ip (ip an IPv4 or IPv6 address, or host-gateway)`},
		{name: "extra host with a newline", body: `{"HostConfig":{"ExtraHosts":["h\n1.2.3.4 evil:10.0.0.1"]}}`,
			err: `invalid extra host "h\n1.2.3.4 evil:10.0.0.1": use host:ip (ip an IPv4 or IPv6 address, or host-gateway)`},
		{name: "sctp", body: `{"ExposedPorts":{"80/sctp":{}}}`, err: "invalid port 80/sctp: protocol sctp is not supported, only tcp and udp"},
		{name: "endpoints", body: `{"HostConfig":{"NetworkMode":"front"},"NetworkingConfig":{"EndpointsConfig":{
			"front":{"Aliases":["web"],"IPAMConfig":{"IPv4Address":"10.89.0.5"},"MacAddress":"92:d0:c6:0a:29:33"},
			"back":{"Aliases":["b"]}}}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.NetworkMode, o.NetworkAliases, o.IPAddress, o.MacAddress = "front", []string{"web"}, "10.89.0.5", "92:d0:c6:0a:29:33"
				o.Networks = []engine.EndpointOptions{{Network: "back", Aliases: []string{"b"}}}
			}},
		{name: "endpoint without a network mode", body: `{"NetworkingConfig":{"EndpointsConfig":{"app_default":{"Aliases":["web"]}}}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.NetworkMode, o.NetworkAliases = "app_default", []string{"web"}
			}},
		{name: "docker CLI's default endpoint", body: `{"HostConfig":{"NetworkMode":"default"},"NetworkingConfig":{"EndpointsConfig":{"default":{"Aliases":["a"],"IPAMConfig":{"IPv4Address":"172.17.0.9"}}}}}`,
			want: func(o *engine.ContainerCreateOptions) { o.NetworkAliases, o.IPAddress = []string{"a"}, "172.17.0.9" }},
		{name: "bridge endpoint with another", body: `{"NetworkingConfig":{"EndpointsConfig":{"bridge":{},"back":{"Aliases":["b"]}}}}`,
			want: func(o *engine.ContainerCreateOptions) {
				o.Networks = []engine.EndpointOptions{{Network: "back", Aliases: []string{"b"}}}
			}},
		{name: "two endpoints before 1.44", version: "1.43", body: `{"NetworkingConfig":{"EndpointsConfig":{"a":{},"b":{}}}}`,
			err: "Container cannot be connected to network endpoints: a, b"},
		{name: "endpoint ipv6", body: `{"NetworkingConfig":{"EndpointsConfig":{"a":{"IPAMConfig":{"IPv6Address":"fd00::5"}}}}}`,
			err: "NetworkingConfig.EndpointsConfig.a.IPAMConfig.IPv6Address and LinkLocalIPs is not supported by skiff"},
		{name: "links", body: `{"HostConfig":{"Links":["db:db"]}}`,
			err: "HostConfig.Links (put the containers on a user network, where they find each other by name) is not supported by skiff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req container.CreateRequest
			if err := json.NewDecoder(strings.NewReader(tt.body)).Decode(&req); err != nil {
				t.Fatalf("decode: %v", err)
			}
			o, err := containerCreateOptions("web", &req, tt.version)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err+": invalid argument" || !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("error %v, want %q (invalid argument)", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := engine.ContainerCreateOptions{Name: "web", Pull: "never"}
			tt.want(&want)
			if !reflect.DeepEqual(o, want) {
				t.Errorf("got\n%+v\nwant\n%+v", o, want)
			}
		})
	}
}

func TestVersionBefore(t *testing.T) {
	for _, tt := range []struct {
		v, min string
		want   bool
	}{{"1.43", "1.44", true}, {"1.44", "1.44", false}, {"1.9", "1.44", true}, {"1.100", "1.44", false}, {"", "1.44", false}} {
		if got := versionBefore(tt.v, tt.min); got != tt.want {
			t.Errorf("versionBefore(%q, %q) = %v", tt.v, tt.min, got)
		}
	}
}

// TestCreateOptionsRuntimeChecks: what the converter passes on as given is
// refused by the one check the CLI's values meet too.
func TestCreateOptionsRuntimeChecks(t *testing.T) {
	for _, tt := range []struct{ body, err string }{
		{`{"HostConfig":{"RestartPolicy":{"MaximumRetryCount":3}}}`, "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
		{`{"HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":-1}}}`, "invalid restart policy: maximum retry count cannot be negative"},
		{`{"HostConfig":{"RestartPolicy":{"Name":"sometimes"}}}`, `invalid restart policy: unknown policy "sometimes"; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`},
		{`{"HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}`, "a container removed when it exits (auto-remove) cannot have a restart policy"},
	} {
		var req container.CreateRequest
		if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
			t.Fatal(err)
		}
		o, err := containerCreateOptions("", &req, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		err = runtime.CheckRestartPolicy(o.RestartPolicy, o.AutoRemove)
		if err == nil || err.Error() != tt.err+": invalid argument" {
			t.Errorf("%s: error %v, want %q", tt.body, err, tt.err)
		}
	}
}
