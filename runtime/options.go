package runtime

// SpecOptions is everything GenerateSpec needs. The engine fills it from
// the image config and the user's flags; runtime never reads images.
type SpecOptions struct {
	ID       string `json:",omitempty"`
	Hostname string `json:",omitempty"`
	Rootfs   string `json:",omitempty"` // absolute path of the mounted root filesystem (set at each start)

	// Process. Args is the final argv (ENTRYPOINT+CMD already merged by the
	// engine, Docker's rules). Env is the final environment (the image's,
	// then the user's, merged by MergeEnv; PATH, HOSTNAME, TERM added by
	// GenerateSpec when absent).
	Args     []string `json:",omitempty"`
	Env      []string `json:",omitempty"`
	User     string   `json:",omitempty"` // "", "name", "uid", "name:group", "uid:gid": resolved against Rootfs/etc/passwd and /etc/group
	GroupAdd []string `json:",omitempty"` // supplementary groups: names (resolved in /etc/group) or numeric ids
	Cwd      string   `json:",omitempty"` // "" means "/"
	Terminal bool     `json:",omitempty"`

	// Files the engine prepared in the container's directory, bind-mounted
	// over /etc/hosts, /etc/resolv.conf and /etc/hostname (skipped when "").
	// Set at each start, never recorded.
	HostsFile      string `json:"-"`
	ResolvConfFile string `json:"-"`
	HostnameFile   string `json:"-"`

	Mounts   []Mount `json:",omitempty"` // the user's binds and tmpfs, in order
	ReadOnly bool    `json:",omitempty"` // read-only root filesystem

	// Security.
	Privileged bool     `json:",omitempty"`
	CapAdd     []string `json:",omitempty"` // "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL"
	CapDrop    []string `json:",omitempty"`
	SecurityOptions

	Resources

	Kernel

	// Namespaces: NetNS is "none" (private, loopback only), "host", or the
	// path of a network namespace to join.
	NetNS string `json:",omitempty"`

	// InitPath is a static init binary (tini-static) run as PID 1; "" for none.
	InitPath string `json:",omitempty"`

	Rootless bool `json:",omitempty"` // inside skiff's user namespace: no cgroup delegation, no CAP_SYS_ADMIN on the host
}

// SecurityOptions are what Docker's HostConfig.SecurityOpt strings say,
// typed. Embedded in SpecOptions, so recorded with the container.
type SecurityOptions struct {
	NoNewPrivileges bool `json:",omitempty"`
	// Seccomp is "" (the default profile, or SeccompProfile when given) or
	// "unconfined" (none).
	Seccomp        string `json:",omitempty"`
	SeccompProfile []byte `json:",omitempty"` // a profile's JSON (Docker's format or OCI's)
	// Unmask lists paths to leave out of Docker's masked and read-only
	// /proc and /sys paths (podman's unmask); "ALL" leaves all of them out.
	Unmask []string `json:",omitempty"`
	// Label (SELinux) and AppArmor are accepted and recorded, not applied:
	// neither exists on the hosts skiff targets.
	Label    []string `json:",omitempty"`
	AppArmor string   `json:",omitempty"`
}

// Resources are the container's limits, as Docker's HostConfig.Resources;
// zero means unset. On hosts where cgroups cannot be used (rootless without
// delegation, hybrid) a set memory, CPU or pids limit is an error.
type Resources struct {
	Memory    int64    `json:",omitempty"` // bytes; at least MinMemory
	NanoCPUs  int64    `json:",omitempty"` // CPUs in units of 1e-9
	PidsLimit int64    `json:",omitempty"` // 0 or -1: no limit
	Ulimits   []Ulimit `json:",omitempty"`

	// Docker's other cgroup settings: CPUShares the relative CPU weight
	// (cpu.shares; cgroup v2 converts it to cpu.weight), CpusetCpus and
	// CpusetMems the CPUs and memory nodes allowed ("0-1,3"),
	// MemoryReservation the soft limit, MemorySwap memory plus swap (-1:
	// unlimited swap), MemorySwappiness 0 to 100 (nil: the host's; cgroup
	// v1), OomKillDisable (cgroup v1).
	CPUShares         int64  `json:",omitempty"`
	CpusetCpus        string `json:",omitempty"`
	CpusetMems        string `json:",omitempty"`
	MemoryReservation int64  `json:",omitempty"`
	MemorySwap        int64  `json:",omitempty"`
	MemorySwappiness  *int64 `json:",omitempty"`
	OomKillDisable    bool   `json:",omitempty"`
}

// Mount is a bind mount, a tmpfs or a volume (Docker's mount types). The
// engine turns a volume into a bind of its data directory at create: Source
// is then that directory and Name the volume's, so a recorded volume mount
// has an absolute Source like a bind mount.
type Mount struct {
	Type        string   // "bind", "volume" or "tmpfs"
	Source      string   // absolute host path for bind (must exist) and volume; "" for tmpfs
	Destination string   // absolute path in the container
	ReadOnly    bool     `json:",omitempty"`
	Options     []string `json:",omitempty"` // propagation, "nosuid", tmpfs "size=64m", "mode=1777", ...

	// Volumes: Name is the volume (before create, "" for a new anonymous
	// one); NoCopy leaves a new empty volume empty instead of filling it
	// from the image; VolumeOptions are the local driver's options of a
	// volume the mount creates (--mount volume-opt=).
	Name          string            `json:",omitempty"`
	NoCopy        bool              `json:",omitempty"`
	VolumeOptions map[string]string `json:",omitempty"`
	// Chown (podman's :U) gives the mount's content to the container's user
	// at each start.
	Chown bool `json:",omitempty"`
}

// Ulimit is one rlimit: name without RLIMIT_ ("nofile"), soft and hard;
// RLIM_INFINITY for unlimited.
type Ulimit struct {
	Name string
	Soft uint64
	Hard uint64
}

// LogConfig is the container's log driver and its options, typed.
type LogConfig struct {
	Type    string // LogJSONFile (the default for ""), LogK8sFile, LogNone, LogPassthrough
	MaxSize int64  // bytes before the log rotates; 0: unlimited
	MaxFile int    // files kept, the live one included; 0 means 1
}
