package runtime

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Kernel is what a container shares with the host's kernel or tunes in
// it, as Docker's HostConfig says it: namespaces shared with the host,
// /dev/shm's size, namespaced sysctls, the OOM score, host devices.
// Embedded in SpecOptions, so recorded with the container.
type Kernel struct {
	PIDMode    string            `json:",omitempty"` // "" (private) or "host"
	IPCMode    string            `json:",omitempty"` // "" (private; Docker's "private" and "shareable") or "host"
	UTSMode    string            `json:",omitempty"` // "" (private) or "host"
	Domainname string            `json:",omitempty"`
	ShmSize    int64             `json:",omitempty"` // bytes of /dev/shm; 0: DefaultShmSize
	Sysctls    map[string]string `json:",omitempty"`
	// OomScoreAdj is the process's oom_score_adj, -1000 to 1000;
	// OomScoreAdjSet tells an explicit 0 from none.
	OomScoreAdj    int      `json:",omitempty"`
	OomScoreAdjSet bool     `json:",omitempty"`
	Devices        []Device `json:",omitempty"`
}

// Device is a host device given to the container (Docker's --device).
type Device struct {
	Path          string // on the host
	ContainerPath string // in the container ("": Path)
	Permissions   string // of "rwm"; "": "rwm"
}

// DefaultShmSize is /dev/shm's size when ShmSize is 0, Docker's 64 MiB.
const DefaultShmSize = 64 << 20

// Docker's namespace modes: "" is private, "host" the host's.
const modeHost = "host"

// checkKernel validates o's Kernel, with Docker's rules where it has them.
func checkKernel(o SpecOptions, h host) error {
	k := o.Kernel
	for _, m := range []struct{ name, value string }{{"PID", k.PIDMode}, {"IPC", k.IPCMode}, {"UTS", k.UTSMode}} {
		if m.value != "" && m.value != modeHost {
			return invalidf("%s namespace mode %q: use host, or leave it private", m.name, m.value)
		}
	}
	if k.PIDMode == modeHost && o.Rootless && h.cgroups(true) != "" {
		// Without a cgroup, the container's own PID namespace is how its
		// processes are found and killed (see LibcontainerConfig).
		return errdefs.ErrFailedPrecondition.WithMessage("the host's PID namespace cannot be shared: rootless containers on this host have no cgroup of their own, so their processes are kept in a PID namespace of theirs; run without it or as root")
	}
	if k.UTSMode == modeHost && (o.Hostname != "" || k.Domainname != "") {
		return invalidf("a hostname or a domain name cannot be set with the host's UTS namespace")
	}
	if k.Domainname != "" && !validHostname(k.Domainname) {
		return invalidf("invalid domain name %q: use letters, digits, '-' and '.', at most 255 characters", k.Domainname)
	}
	if k.ShmSize < 0 {
		return invalidf("invalid /dev/shm size %d: it must be positive", k.ShmSize)
	}
	if k.ShmSize > 0 && k.IPCMode == modeHost {
		return invalidf("a /dev/shm size cannot be set with the host's IPC namespace (it is the host's /dev/shm)")
	}
	if k.OomScoreAdj < -1000 || k.OomScoreAdj > 1000 {
		return invalidf("invalid OOM score adjustment %d: use -1000 to 1000", k.OomScoreAdj)
	}
	if o.Rootless && k.OomScoreAdj < 0 {
		return invalidf("a negative OOM score adjustment (%d) needs root: a rootless container can only raise its score", k.OomScoreAdj)
	}
	for key, v := range k.Sysctls {
		if err := checkSysctl(key, v, o); err != nil {
			return err
		}
	}
	for _, d := range k.Devices {
		if _, err := hostDevice(d); err != nil {
			return err
		}
	}
	return nil
}

// validHostname: RFC 1123 labels, as a domain name in the UTS namespace.
func validHostname(s string) bool {
	if len(s) > 255 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// checkSysctl allows Docker's namespaced sysctls: the IPC namespace's
// (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) unless it is the
// host's, and the network namespace's (net.*) unless it is the host's.
// Any other would change the host's kernel.
func checkSysctl(key, value string, o SpecOptions) error {
	if key == "" || strings.ContainsAny(key, "/ \t") || strings.Contains(key, "..") || value == "" {
		return invalidf("invalid sysctl %q=%q: use a name like net.ipv4.ip_forward and a value", key, value)
	}
	ipc := slices.Contains([]string{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}, key) ||
		strings.HasPrefix(key, "fs.mqueue.")
	switch {
	case ipc && o.Kernel.IPCMode == modeHost:
		return invalidf("sysctl %q is not allowed with the host's IPC namespace", key)
	case ipc:
		return nil
	case strings.HasPrefix(key, "net."):
		if o.NetNS == modeHost {
			return invalidf("sysctl %q is not allowed with the host's network namespace", key)
		}
		return nil
	}
	return invalidf("sysctl %q is not allowed: only namespaced sysctls (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*) can be set in a container", key)
}

// hostDevice reads d's host node: its type and numbers for the spec.
func hostDevice(d Device) (specs.LinuxDevice, error) {
	if !filepath.IsAbs(d.Path) {
		return specs.LinuxDevice{}, invalidf("device %q: use an absolute path on the host (/dev/fuse)", d.Path)
	}
	dst := d.ContainerPath
	if dst == "" {
		dst = d.Path
	}
	if !filepath.IsAbs(dst) || filepath.Clean(dst) == "/dev" {
		return specs.LinuxDevice{}, invalidf("device %q: the path in the container %q must be absolute and below /dev or elsewhere, not /dev itself", d.Path, dst)
	}
	if strings.Trim(d.Permissions, "rwm") != "" {
		return specs.LinuxDevice{}, invalidf("device %q: permissions %q: use letters of rwm", d.Path, d.Permissions)
	}
	var st unix.Stat_t
	if err := unix.Stat(d.Path, &st); err != nil {
		return specs.LinuxDevice{}, invalidf("device %q: %v", d.Path, err)
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, invalidf("device %q is not a character or block device", d.Path)
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{Path: filepath.Clean(dst), Type: typ, Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
		FileMode: &mode, UID: &uid, GID: &gid}, nil
}

// applyKernel puts o's Kernel into the spec GenerateSpec built.
func applyKernel(s *specs.Spec, o SpecOptions) error {
	k := o.Kernel
	drop := map[specs.LinuxNamespaceType]bool{
		specs.PIDNamespace: k.PIDMode == modeHost,
		specs.IPCNamespace: k.IPCMode == modeHost,
		specs.UTSNamespace: k.UTSMode == modeHost,
	}
	s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return drop[n.Type] })
	if k.UTSMode == modeHost {
		s.Hostname = "" // runc refuses a hostname without a UTS namespace
	}
	s.Domainname = k.Domainname
	for i := range s.Mounts {
		m := &s.Mounts[i]
		switch {
		case m.Destination == "/dev/shm" && m.Source == "shm" && k.IPCMode == modeHost:
			*m = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
		case m.Destination == "/dev/shm" && m.Source == "shm" && k.ShmSize > 0:
			m.Options = append(slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return strings.HasPrefix(o, "size=") }), fmt.Sprintf("size=%d", k.ShmSize))
		case m.Destination == "/dev/mqueue" && m.Type == "mqueue" && k.IPCMode == modeHost && o.Rootless:
			// mqueue can only be mounted by the IPC namespace's owner: the
			// host's mount is bound, or none is when the host has none.
			*m = specs.Mount{Destination: "/dev/mqueue", Type: "bind", Source: "/dev/mqueue", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
			if fi, err := os.Stat("/dev/mqueue"); err != nil || !fi.IsDir() {
				m.Destination = ""
			}
		case m.Destination == "/proc" && m.Type == "proc" && k.PIDMode == modeHost && o.Rootless:
			// proc can only be mounted by the PID namespace's owner: the
			// host's is shown as rootless runc and podman show it.
			*m = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
		}
	}
	s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "" })
	if len(k.Sysctls) > 0 {
		s.Linux.Sysctl = k.Sysctls
	}
	if k.OomScoreAdjSet || k.OomScoreAdj != 0 {
		v := k.OomScoreAdj
		s.Process.OOMScoreAdj = &v
	}
	for _, d := range k.Devices {
		dev, err := hostDevice(d)
		if err != nil {
			return err
		}
		if o.Rootless {
			// A node cannot be made in a user namespace: the host's is
			// bound (podman's way; libcontainer's own binds only at the
			// same path).
			opts := []string{"bind", "nosuid", "noexec"}
			if !strings.Contains(cmp.Or(d.Permissions, "rwm"), "w") {
				opts = append(opts, "ro")
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: dev.Path, Type: "bind", Source: d.Path, Options: opts})
			continue
		}
		s.Linux.Devices = append(s.Linux.Devices, dev)
		if s.Linux.Resources != nil {
			major, minor := dev.Major, dev.Minor
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: dev.Type,
				Major: &major, Minor: &minor, Access: cmp.Or(d.Permissions, "rwm")})
		}
	}
	return nil
}
