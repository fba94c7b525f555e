package runtime

// SpecOptions is everything GenerateSpec needs. The engine fills it from
// the image config and the user's flags; runtime never reads images.
type SpecOptions struct {
	ID       string `json:",omitempty"`
	Hostname string `json:",omitempty"`
	Rootfs   string `json:",omitempty"` // absolute path of the mounted root filesystem (set at each start)

	// Process. Args is the final argv (ENTRYPOINT+CMD already merged by the
	// engine, Docker's rules). Env is the final environment (image env,
	// then -e/--env-file; PATH, HOSTNAME, TERM added by GenerateSpec when absent).
	Args     []string `json:",omitempty"`
	Env      []string `json:",omitempty"`
	User     string   `json:",omitempty"` // "", "name", "uid", "name:group", "uid:gid": resolved against Rootfs/etc/passwd and /etc/group
	GroupAdd []string `json:",omitempty"` // --group-add: names (resolved in /etc/group) or numeric ids
	Cwd      string   `json:",omitempty"` // "" means "/"
	Terminal bool     `json:",omitempty"`

	// Files the engine prepared in the container's directory, bind-mounted
	// over /etc/hosts, /etc/resolv.conf and /etc/hostname (skipped when "").
	// Set at each start, never recorded.
	HostsFile      string `json:"-"`
	ResolvConfFile string `json:"-"`
	HostnameFile   string `json:"-"`

	Mounts   []Mount `json:",omitempty"` // -v binds and --tmpfs, in order
	ReadOnly bool    `json:",omitempty"` // --read-only root filesystem

	// Security.
	Privileged      bool     `json:",omitempty"`
	CapAdd          []string `json:",omitempty"` // "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL"
	CapDrop         []string `json:",omitempty"`
	NoNewPrivileges bool     `json:",omitempty"`
	Seccomp         string   `json:",omitempty"` // "" (default profile), "unconfined", or a path to a profile JSON

	// Resources; zero means unset. On hosts where cgroups cannot be used
	// (rootless without delegation, hybrid) a set value is an error.
	Memory    int64    `json:",omitempty"` // bytes
	CPUs      float64  `json:",omitempty"` // --cpus
	PidsLimit int64    `json:",omitempty"`
	Ulimits   []Ulimit `json:",omitempty"`

	// Namespaces: NetNS is "none" (private, loopback only), "host", or the
	// path of a network namespace to join.
	NetNS string `json:",omitempty"`

	// InitPath is a static init binary (tini-static) for --init; "" for none.
	InitPath string `json:",omitempty"`

	Rootless bool `json:",omitempty"` // inside skiff's user namespace: no cgroup delegation, no CAP_SYS_ADMIN on the host
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
