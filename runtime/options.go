package runtime

// SpecOptions is everything GenerateSpec needs. The engine fills it from
// the image config and the user's flags; runtime never reads images.
type SpecOptions struct {
	ID       string
	Hostname string
	Rootfs   string `json:",omitempty"` // absolute path of the mounted root filesystem (set at each start)

	// Process. Args is the final argv (ENTRYPOINT+CMD already merged by the
	// engine, Docker's rules). Env is the final environment (image env,
	// then -e/--env-file; PATH, HOSTNAME, TERM added by GenerateSpec when absent).
	Args     []string
	Env      []string
	User     string   // "", "name", "uid", "name:group", "uid:gid": resolved against Rootfs/etc/passwd and /etc/group
	GroupAdd []string // --group-add: names (resolved in /etc/group) or numeric ids
	Cwd      string   // "" means "/"
	Terminal bool

	// Files the engine prepared in the container's directory, bind-mounted
	// over /etc/hosts, /etc/resolv.conf and /etc/hostname (skipped when "").
	// Set at each start, never recorded.
	HostsFile      string `json:"-"`
	ResolvConfFile string `json:"-"`
	HostnameFile   string `json:"-"`

	Mounts   []Mount // -v binds and --tmpfs, in order
	ReadOnly bool    // --read-only root filesystem

	// Security.
	Privileged      bool
	CapAdd          []string // "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL"
	CapDrop         []string
	NoNewPrivileges bool
	Seccomp         string // "" (default profile), "unconfined", or a path to a profile JSON

	// Resources; zero means unset. On hosts where cgroups cannot be used
	// (rootless without delegation, hybrid) a set value is an error.
	Memory    int64   // bytes
	CPUs      float64 // --cpus
	PidsLimit int64
	Ulimits   []Ulimit

	// Namespaces: NetNS is "none" (private, loopback only), "host", or the
	// path of a network namespace to join.
	NetNS string

	// InitPath is a static init binary (tini-static) for --init; "" for none.
	InitPath string

	Rootless bool // inside skiff's user namespace: no cgroup delegation, no CAP_SYS_ADMIN on the host
}

// Mount is a bind mount or a tmpfs.
type Mount struct {
	Type        string   // "bind" or "tmpfs"
	Source      string   // host path for bind (must exist), "" for tmpfs
	Destination string   // absolute path in the container
	Options     []string // "ro", "rw", "nosuid", "size=64m", "mode=1777", ...
}

// Ulimit is one --ulimit: name without RLIMIT_ ("nofile"), soft and hard.
type Ulimit struct {
	Name string
	Soft uint64
	Hard uint64
}
