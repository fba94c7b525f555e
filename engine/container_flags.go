package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	units "github.com/docker/go-units"

	"github.com/skiff-engine/skiff/runtime"
)

// specFromFlags validates the mount, security, resource and network flags
// and fills the matching SpecOptions; each concern has its own parser.
func (e *Engine) specFromFlags(o ContainerCreateOptions) (runtime.SpecOptions, error) {
	spec := runtime.SpecOptions{
		Terminal: o.Tty, GroupAdd: o.GroupAdd, ReadOnly: o.ReadOnly, Privileged: o.Privileged,
		CapAdd: o.CapAdd, CapDrop: o.CapDrop, CPUs: o.CPUs, PidsLimit: o.PidsLimit,
		Rootless: e.paths.Rootless,
	}
	var err error
	if o.Init {
		if spec.InitPath, err = initBinary(); err != nil {
			return spec, err
		}
	}
	if spec.Mounts, err = parseMounts(o.Volumes, o.Tmpfs); err != nil {
		return spec, err
	}
	if err := parseSecurityOpts(&spec, o.SecurityOpt); err != nil {
		return spec, err
	}
	if err := parseResources(&spec, o); err != nil {
		return spec, err
	}
	if spec.NetNS, err = e.parseNetwork(o.Network); err != nil {
		return spec, err
	}
	return spec, nil
}

// parseMounts reads -v SRC:DST[:OPTS] (bind mounts of host paths) and
// --tmpfs DST[:OPTS].
func parseMounts(volumes, tmpfs []string) ([]runtime.Mount, error) {
	var out []runtime.Mount
	seen := map[string]bool{}
	add := func(m runtime.Mount) error {
		if !filepath.IsAbs(m.Destination) || filepath.Clean(m.Destination) == "/" {
			return invalid("invalid mount destination %q: it must be an absolute path other than /", m.Destination)
		}
		m.Destination = filepath.Clean(m.Destination)
		if seen[m.Destination] {
			return invalid("duplicate mount point: %s", m.Destination)
		}
		seen[m.Destination] = true
		out = append(out, m)
		return nil
	}
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, invalid("invalid volume %q: use -v /host/path:/container/path[:ro]", v)
		}
		src := parts[0]
		if !filepath.IsAbs(src) {
			return nil, fmt.Errorf("named volumes (%q) arrive with volume support; use an absolute host path: %w", src, errdefs.ErrNotImplemented)
		}
		if _, err := os.Stat(src); err != nil {
			return nil, invalid("bind source path does not exist: %s", src)
		}
		m := runtime.Mount{Type: "bind", Source: filepath.Clean(src), Destination: parts[1]}
		if len(parts) == 3 {
			for _, opt := range strings.Split(parts[2], ",") {
				switch opt {
				case "ro", "rw", "z", "Z", "private", "rprivate", "shared", "rshared", "slave", "rslave":
					if opt != "z" && opt != "Z" {
						m.Options = append(m.Options, opt)
					}
				default:
					return nil, invalid("invalid volume option %q in %q: use ro or rw", opt, v)
				}
			}
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	for _, t := range tmpfs {
		dst, opts, _ := strings.Cut(t, ":")
		m := runtime.Mount{Type: "tmpfs", Destination: dst}
		if opts != "" {
			m.Options = strings.Split(opts, ",")
		}
		if err := add(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func parseSecurityOpts(spec *runtime.SpecOptions, opts []string) error {
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		if !strings.Contains(o, "=") {
			k, v, _ = strings.Cut(o, ":") // docker accepts seccomp:unconfined too
		}
		switch k {
		case "no-new-privileges":
			spec.NoNewPrivileges = v == "" || v == "true"
			if v != "" && v != "true" && v != "false" {
				return invalid("invalid --security-opt %q: no-new-privileges takes true or false", o)
			}
		case "seccomp":
			if v == "" {
				return invalid("invalid --security-opt %q: use seccomp=unconfined or seccomp=/path/profile.json", o)
			}
			if v != "unconfined" {
				if _, err := os.Stat(v); err != nil {
					return invalid("seccomp profile %s: %v", v, err)
				}
			}
			spec.Seccomp = v
		case "label", "apparmor":
			// No SELinux or AppArmor on the hosts skiff targets; accepted so
			// scripts written for docker and podman keep working.
		default:
			return invalid("unknown --security-opt %q: use no-new-privileges, seccomp=..., label=... or apparmor=...", o)
		}
	}
	return nil
}

func parseResources(spec *runtime.SpecOptions, o ContainerCreateOptions) error {
	if o.Memory != "" {
		n, err := units.RAMInBytes(o.Memory)
		if err == nil && (n < 0 || n >= 1<<62) { // the unit's product overflowed
			return invalid("invalid --memory %q: too large (the limit must be below 4EiB)", o.Memory)
		}
		if err != nil || n <= 0 {
			return invalid("invalid --memory %q: use a number with an optional unit (b, k, m, g), e.g. 512m", o.Memory)
		}
		if n < 6*1024*1024 {
			return invalid("invalid --memory %q: the minimum is 6MB", o.Memory)
		}
		spec.Memory = n
	}
	if o.CPUs < 0 {
		return invalid("invalid --cpus %v: must be positive", o.CPUs)
	}
	if o.PidsLimit < 0 && o.PidsLimit != -1 {
		return invalid("invalid --pids-limit %d", o.PidsLimit)
	}
	if o.PidsLimit == -1 {
		spec.PidsLimit = 0
	}
	for _, u := range o.Ulimits {
		l, err := runtime.ParseUlimit(u)
		if err != nil {
			return invalid("invalid --ulimit %q: %v", u, err)
		}
		spec.Ulimits = append(spec.Ulimits, l)
	}
	if spec.Memory > 0 || spec.CPUs > 0 || spec.PidsLimit > 0 {
		if why := runtime.CgroupProblem(spec.Rootless); why != "" {
			return fmt.Errorf("resource limits (--memory, --cpus, --pids-limit) cannot be applied: rootless containers on this host have no cgroup delegation (%s); run without them or as root: %w", why, errdefs.ErrFailedPrecondition)
		}
	}
	return nil
}

// parseNetwork accepts the modes that exist so far: a private namespace
// with loopback only (none, and the default until bridges arrive) and host.
func (e *Engine) parseNetwork(mode string) (string, error) {
	switch mode {
	case "", "none", "default":
		return "none", nil
	case "host":
		return "host", nil
	case "bridge":
		return "", fmt.Errorf("--network bridge arrives with container networking; use none or host: %w", errdefs.ErrNotImplemented)
	}
	if strings.HasPrefix(mode, "ns:") {
		p := strings.TrimPrefix(mode, "ns:")
		if _, err := os.Stat(p); err != nil {
			return "", invalid("network namespace %s: %v", p, err)
		}
		return p, nil
	}
	return "", invalid("unknown network %q: use none or host", mode)
}

// initBinary finds a static init for --init: it must run in any image, so
// it cannot depend on the image's libc.
func initBinary() (string, error) {
	for _, p := range []string{"/usr/libexec/skiff/skiff-init", "/usr/bin/tini-static", "/usr/local/bin/tini-static"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("--init needs a static init binary: install Debian's tini package (tini-static): %w", errdefs.ErrFailedPrecondition)
}
