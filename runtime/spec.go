package runtime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const defaultPathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// host is what spec generation reads from the machine it runs on. GenerateSpec
// uses thisHost; tests pass a fixed one so that goldens do not depend on the
// kernel, the rlimits or the cgroup layout of the machine running them.
type host struct {
	boundingCaps func() ([]string, error)                        // capability bounding set of this process
	rlimit       func(resource int) (cur, max uint64, err error) // current hard limit; highest a container may get
	gidMapped    func(gid uint32) bool                           // gid exists in our user namespace
	cgroups      func(rootless bool) string                      // why cgroups are unusable, "" if usable
	arch         string                                          // GOARCH
	kernel       func() [2]int                                   // major, minor
	numCPU       int
	numMems      func() int // NUMA memory nodes
	cgroup2      bool       // the unified hierarchy alone
}

var thisHost = host{
	boundingCaps: hostBoundingCaps,
	rlimit:       hostRlimit,
	gidMapped:    hostGidMapped,
	cgroups:      cgroupProblem,
	arch:         goruntime.GOARCH,
	kernel:       kernelVersion,
	numCPU:       goruntime.NumCPU(),
	numMems:      memoryNodes,
	cgroup2:      cgroup2Host(),
}

// memoryNodes counts the host's NUMA memory nodes (1 without NUMA).
func memoryNodes() int {
	nodes, _ := filepath.Glob("/sys/devices/system/node/node[0-9]*")
	return max(1, len(nodes))
}

// cgroup2Host reports a pure cgroup v2 host (hybrid counts as v1).
func cgroup2Host() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// GenerateSpec builds the OCI runtime spec of one container the way
// `docker run` does (moby's oci defaults plus its flag handling), adapted to
// skiff: rootless containers run inside skiff's own user namespace, so the
// spec never carries a user namespace or ID mappings.
//
// o.Rootfs must be mounted: the user is resolved from its /etc/passwd and
// /etc/group. Errors are errdefs InvalidArgument (bad options) or
// FailedPrecondition (a resource limit this host cannot apply).
func GenerateSpec(o SpecOptions) (*specs.Spec, error) {
	return generateSpec(o, thisHost)
}

// CheckOptions is the one validation of a container's options, for every
// caller (the command line and the API alike): it reports at create what
// GenerateSpec would reject at start, except what needs the root
// filesystem (the user and groups). o carries the final command and
// environment, the image's merged in. Errors are errdefs InvalidArgument,
// NotImplemented or FailedPrecondition; their messages name options, never
// a command line's flags.
func CheckOptions(o SpecOptions) error {
	return checkOptions(o, thisHost)
}

func checkOptions(o SpecOptions, h host) error {
	if err := checkProcess(o); err != nil {
		return err
	}
	if err := CheckProcess(o); err != nil {
		return err
	}
	if _, err := MergeEnv(o.Env); err != nil {
		return err
	}
	if _, err := containerMounts(o, h); err != nil {
		return err
	}
	caps, err := containerCaps(o, h)
	if err != nil {
		return err
	}
	if _, err := containerRlimits(o.Ulimits, h); err != nil {
		return err
	}

	if _, err := containerResources(o, h); err != nil {
		return err
	}
	if err := checkUnmask(o.Unmask); err != nil {
		return err
	}
	if err := checkKernel(o, h); err != nil {
		return err
	}
	_, err = containerSeccomp(o, caps, h)
	return err
}

// CheckProcess reports at create what GenerateSpec would reject at start
// about the process once the image's command, environment and user are
// merged in: a command or environment execve refuses, a numeric --user
// outside skiff's user namespace (a name is resolved only at start).
func CheckProcess(o SpecOptions) error {
	if err := CheckProcessSize(o.Args, o.Env, o.Ulimits); err != nil {
		return err
	}
	if uid, gid, ok := numericUser(o.User); ok {
		return checkIDsMapped(o.User, uid, gid, nil)
	}
	return nil
}

func generateSpec(o SpecOptions, h host) (*specs.Spec, error) {
	if err := checkStart(o); err != nil {
		return nil, err
	}
	uid, gid, gids, home, err := ResolveUser(o.Rootfs, o.User, o.GroupAdd)
	if err != nil {
		return nil, err
	}
	if err := checkIDsMapped(o.User, uid, gid, gids); err != nil {
		return nil, err
	}
	caps, err := containerCaps(o, h)
	if err != nil {
		return nil, err
	}
	rlimits, err := containerRlimits(o.Ulimits, h)
	if err != nil {
		return nil, err
	}
	mounts, err := containerMounts(o, h)
	if err != nil {
		return nil, err
	}
	resources, err := containerResources(o, h)
	if err != nil {
		return nil, err
	}
	seccomp, err := containerSeccomp(o, caps, h)
	if err != nil {
		return nil, err
	}
	if err := checkUnmask(o.Unmask); err != nil {
		return nil, err
	}
	hostname := Hostname(o)
	env, err := containerEnv(o.Env, hostname, home, o.Terminal)
	if err != nil {
		return nil, err
	}
	if err := CheckProcessSize(o.Args, env, o.Ulimits); err != nil {
		return nil, err
	}
	cwd := "/"
	if o.Cwd != "" {
		cwd = filepath.Clean(o.Cwd)
	}
	if err := makeWorkdir(o.Rootfs, cwd); err != nil {
		return nil, err
	}

	args := o.Args
	if o.InitPath != "" {
		args = append([]string{InitDestination, "--"}, args...)
	}
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal:        o.Terminal,
			User:            specs.User{UID: uid, GID: gid, AdditionalGids: gids},
			Args:            slices.Clone(args),
			Env:             env,
			Cwd:             cwd,
			Capabilities:    capSets(caps),
			Rlimits:         rlimits,
			NoNewPrivileges: o.NoNewPrivileges,
		},
		Root:     &specs.Root{Path: o.Rootfs, Readonly: o.ReadOnly},
		Hostname: hostname,
		Mounts:   mounts,
		// Linux.Devices stays empty, as in Docker's and runc's specs: runc
		// creates /dev/null, zero, full, random, urandom, tty and the ptmx
		// symlink itself from specconv.AllowedDevices, and adds their cgroup
		// rules. Listing them here would be worse than redundant: specconv
		// drops the allow rule of every default device the spec lists.
		Linux: &specs.Linux{
			Resources:   resources,
			CgroupsPath: cgroupsPath(o),
			Namespaces:  namespaces(o),
			Seccomp:     seccomp,
		},
	}
	if !o.Privileged {
		s.Linux.MaskedPaths = unmasked(maskedPaths, o.Unmask)
		s.Linux.ReadonlyPaths = unmasked(readonlyPaths, o.Unmask)
	}
	if err := checkKernel(o, h); err != nil {
		return nil, err
	}
	if err := applyKernel(s, o); err != nil {
		return nil, err
	}
	return s, nil
}

func invalidf(format string, args ...any) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
}

// checkStart checks what a start adds to the recorded options.
func checkStart(o SpecOptions) error {
	switch {
	case o.ID == "":
		return invalidf("container ID must not be empty")
	case !filepath.IsAbs(o.Rootfs):
		return invalidf("root filesystem path %q is not absolute", o.Rootfs)
	}
	return checkProcess(o)
}

func checkProcess(o SpecOptions) error {
	switch {
	case len(o.Args) == 0:
		return invalidf("no command specified: the image has no CMD or ENTRYPOINT and none was given")
	case o.Cwd != "" && !filepath.IsAbs(o.Cwd):
		return invalidf("the working directory '%s' is invalid, it needs to be an absolute path", o.Cwd)
	case len(o.Hostname) > 64:
		return invalidf("hostname %q is longer than 64 characters", o.Hostname)
	}
	switch o.NetNS {
	case "", "none", "host":
	default:
		if !filepath.IsAbs(o.NetNS) {
			return invalidf("network namespace %q: want none, host or the absolute path of a namespace", o.NetNS)
		}
	}
	return nil
}

// makeWorkdir creates the working directory inside rootfs, as Docker's
// create does: every symlink resolved as if rootfs were "/", a dangling one
// included (/wd -> /srv/app makes /srv/app). runc's own mkdir after
// pivot_root fails on a dangling symlink ("mkdir /wd: file exists").
// The root, and a directory that exists, cost one openat2 at most: not
// pathrs-lite's setup of its procfs handle (about 0.2 ms).
func makeWorkdir(rootfs, cwd string) error {
	if cwd == "/" {
		return nil
	}
	if f, err := openInRoot(rootfs, cwd); err == nil {
		fi, err := f.Stat()
		f.Close()
		if err == nil && fi.IsDir() {
			return nil
		}
	}
	resolved, err := securejoin.SecureJoin(rootfs, cwd)
	if err == nil {
		var rel string
		if rel, err = filepath.Rel(rootfs, resolved); err == nil {
			err = pathrs.MkdirAll(rootfs, rel, 0o755)
		}
	}
	if err != nil {
		return invalidf("the working directory %s cannot be created in the container: %v", cwd, err)
	}
	return nil
}

// Hostname is the container's host name: the one given, else with the
// host's network the host's name, else the short ID (Docker's choices).
func Hostname(o SpecOptions) string {
	if o.Hostname != "" {
		return o.Hostname
	}
	if o.NetNS == "host" || o.UTSMode == modeHost {
		if h, err := os.Hostname(); err == nil {
			return h
		}
	}
	return o.ID[:min(12, len(o.ID))]
}

// MergeEnv layers environments, each NAME=value: a later value of a name
// replaces the earlier one in place, new names are appended (Docker's
// order: the image's, then the user's). Errors are InvalidArgument.
func MergeEnv(layers ...[]string) ([]string, error) {
	var out []string
	for _, env := range layers {
		for _, kv := range env {
			k, _, ok := strings.Cut(kv, "=")
			if !ok || k == "" || strings.ContainsRune(kv, 0) {
				return nil, invalidf("invalid environment variable %q: want NAME=value", kv)
			}
			if i := slices.IndexFunc(out, func(e string) bool { return strings.HasPrefix(e, k+"=") }); i >= 0 {
				out[i] = kv
			} else {
				out = append(out, kv)
			}
		}
	}
	return out, nil
}

// containerEnv orders the environment as Docker does: PATH, HOSTNAME and
// TERM first, each replaced in place by the image's or user's value, then
// the rest; HOME last when nobody set it.
func containerEnv(env []string, hostname, home string, terminal bool) ([]string, error) {
	defaults := []string{defaultPathEnv, "HOSTNAME=" + hostname}
	if terminal {
		defaults = append(defaults, "TERM=xterm")
	}
	out, err := MergeEnv(defaults, env)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(out, func(e string) bool { return strings.HasPrefix(e, "HOME=") }) {
		out = append(out, "HOME="+home)
	}
	return out, nil
}

// namespaces: all private except the network namespace with NetNS "host",
// and the cgroup namespace of rootless containers, which have no cgroup of
// their own. No user namespace: rootless skiff already runs inside its own.
func namespaces(o SpecOptions) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.PIDNamespace}}
	switch o.NetNS {
	case "host":
	case "", "none":
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	default:
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: o.NetNS})
	}
	ns = append(ns,
		specs.LinuxNamespace{Type: specs.IPCNamespace},
		specs.LinuxNamespace{Type: specs.UTSNamespace},
		specs.LinuxNamespace{Type: specs.MountNamespace})
	if !o.Rootless {
		ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	return ns
}

// cgroupsPath is empty for rootless containers: libcontainer's cgroupfs
// manager only tolerates permission errors when the path is empty.
func cgroupsPath(o SpecOptions) string {
	if o.Rootless {
		return ""
	}
	return "/skiff/" + o.ID
}

// containerResources: nil for rootless containers without limits (runc's
// rootless spec has none), otherwise the device rules Docker and runc always
// set for rootful containers, plus the requested limits. The leading
// deny-all device rule matters: without it a cgroup v1 container inherits
// its parent's allow-all.
func containerResources(o SpecOptions, h host) (*specs.LinuxResources, error) {
	var limits []string
	if o.Memory != 0 {
		limits = append(limits, "a memory limit")
	}
	if o.NanoCPUs != 0 {
		limits = append(limits, "a CPU limit")
	}
	if o.PidsLimit > 0 {
		limits = append(limits, "a pids limit")
	}
	for _, x := range []struct {
		set  bool
		name string
	}{
		{o.CPUShares != 0, "CPU shares"}, {o.CpusetCpus != "" || o.CpusetMems != "", "a cpuset"},
		{o.MemoryReservation != 0, "a memory reservation"}, {o.MemorySwap != 0, "a swap limit"},
		{o.MemorySwappiness != nil, "a memory swappiness"}, {o.OomKillDisable, "a disabled OOM killer"},
	} {
		if x.set {
			limits = append(limits, x.name)
		}
	}
	if len(limits) > 0 {
		if why := h.cgroups(o.Rootless); why != "" {
			them := "it"
			if len(limits) > 1 {
				them = "them"
			}
			return nil, errdefs.ErrFailedPrecondition.WithMessage(fmt.Sprintf(
				"%s cannot be applied: rootless containers on this host have no cgroup delegation (%s); run without %s or as root",
				strings.Join(limits, " and "), why, them))
		}
	}
	if o.PidsLimit < -1 {
		return nil, invalidf("pids limit %d: want a positive number, or 0 or -1 for no limit", o.PidsLimit)
	}
	if o.Rootless && len(limits) == 0 {
		return nil, nil
	}
	r := &specs.LinuxResources{}
	if !o.Rootless {
		// --privileged: every device the container can see is allowed.
		// Unlike Docker we do not copy the host's /dev nodes in.
		r.Devices = []specs.LinuxDeviceCgroup{{Allow: o.Privileged, Access: "rwm"}}
	}
	if o.Memory != 0 {
		if o.Memory < MinMemory {
			return nil, invalidf("memory limit %s is below the minimum of 6 MB", byteSize(o.Memory))
		}
		r.Memory = &specs.LinuxMemory{Limit: &o.Memory}
	}
	if o.NanoCPUs != 0 {
		if o.NanoCPUs < 1e7 || o.NanoCPUs > int64(h.numCPU)*1e9 {
			return nil, invalidf("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", h.numCPU, h.numCPU)
		}
		period := uint64(100000)
		quota := o.NanoCPUs * int64(period) / 1e9
		r.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
	}
	if o.PidsLimit > 0 {
		r.Pids = &specs.LinuxPids{Limit: &o.PidsLimit}
	}
	if err := moreResources(r, o.Resources, h); err != nil {
		return nil, err
	}
	return r, nil
}

// MinMemory is the smallest memory limit a container may have (Docker's).
const MinMemory = 6 << 20

// byteSize writes n as a user would: 4k, 512m, 1g when exact, else bytes.
func byteSize(n int64) string {
	if s := SizeString(n); strings.Trim(s, "0123456789") != "" {
		return s
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// SizeString is a byte count in the largest binary unit that divides it
// (1048576 is "1m"), else the number alone: sizes as users write them.
func SizeString(n int64) string {
	for _, u := range []struct {
		unit  string
		scale int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if n != 0 && n%u.scale == 0 {
			return strconv.FormatInt(n/u.scale, 10) + u.unit
		}
	}
	return strconv.FormatInt(n, 10)
}

// CgroupsUsable reports whether a container can be given resource limits:
// always for rootful skiff; for rootless skiff only on a pure cgroup v2 host
// whose cgroup for this user is delegated to it (writable, with the memory,
// cpu and pids controllers). Hybrid hosts count as v1.
func CgroupsUsable(rootless bool) bool {
	return cgroupProblem(rootless) == ""
}

// cgroupProblem says why a container cannot use cgroups, "" when it can.
func cgroupProblem(rootless bool) string {
	if !rootless {
		return ""
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		return "cgroup v1/hybrid"
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "cgroup v2, but /proc/self/cgroup is unreadable"
	}
	own, ok := bytes.CutPrefix(bytes.TrimSpace(b), []byte("0::"))
	if !ok {
		return "cgroup v2, but /proc/self/cgroup has no unified entry"
	}
	dir := filepath.Join("/sys/fs/cgroup", string(own))
	if unix.Access(dir, unix.W_OK) != nil || unix.Access(filepath.Join(dir, "cgroup.subtree_control"), unix.W_OK) != nil {
		return fmt.Sprintf("cgroup v2, but %s is not delegated to this user", dir)
	}
	ctrl, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Sprintf("cgroup v2, but %s/cgroup.controllers is unreadable", dir)
	}
	have := strings.Fields(string(ctrl))
	for _, c := range []string{"memory", "cpu", "pids"} {
		if !slices.Contains(have, c) {
			return fmt.Sprintf("cgroup v2, but the %s controller is not delegated to %s", c, dir)
		}
	}
	return ""
}

// hostGidMapped reports whether gid exists in the user namespace we run in.
func hostGidMapped(gid uint32) bool {
	b, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		start, err1 := strconv.ParseUint(f[0], 10, 32)
		size, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 == nil && err2 == nil && uint64(gid) >= start && uint64(gid) < start+size {
			return true
		}
	}
	return false
}

// containerMounts: Docker's default mounts, then the /etc/hosts,
// /etc/resolv.conf and /etc/hostname binds, then the user's mounts in
// order. A user mount replaces any default mount at or below its
// destination (so -v /x:/dev/shm or --tmpfs /dev replace ours).
func containerMounts(o SpecOptions, h host) ([]specs.Mount, error) {
	var user []specs.Mount
	for _, m := range o.Mounts {
		sm, err := userMount(m)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(user, func(u specs.Mount) bool { return u.Destination == sm.Destination }) {
			return nil, invalidf("duplicate mount point: %s", sm.Destination)
		}
		user = append(user, sm)
	}
	defaults, err := defaultMounts(o, h)
	if err != nil {
		return nil, err
	}
	var out []specs.Mount
	for _, d := range defaults {
		covered := slices.ContainsFunc(user, func(u specs.Mount) bool {
			return d.Destination == u.Destination || strings.HasPrefix(d.Destination, u.Destination+"/")
		})
		if !covered {
			out = append(out, d)
		}
	}
	out = append(out, user...)
	if o.InitPath != "" {
		// /dev is the container's own tmpfs: the init appears there without
		// touching the image's root filesystem (even a read-only one).
		out = append(out, specs.Mount{Type: "bind", Source: o.InitPath, Destination: InitDestination, Options: []string{"bind", "ro", "nosuid", "nodev"}})
	}
	return out, nil
}

// InitDestination is where --init's binary is mounted; it runs as PID 1 and
// starts the command.
const InitDestination = "/dev/init"

func defaultMounts(o SpecOptions, h host) ([]specs.Mount, error) {
	pts := []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}
	if o.Rootless && !h.gidMapped(5) {
		// runc's rootless spec drops it too: devpts refuses an unmapped gid.
		pts = pts[:len(pts)-1]
	}
	ro := []string{"ro"}
	if o.Privileged {
		ro = nil // Docker leaves /sys and /sys/fs/cgroup writable for --privileged
	}
	// sysfs can only be mounted by the owner of the network namespace's user
	// namespace: a private netns made inside skiff's user namespace is ours,
	// the host's is not, so rootless --network host binds /sys as rootless
	// runc and podman do.
	sys := specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: append([]string{"nosuid", "noexec", "nodev"}, ro...)}
	if o.Rootless && o.NetNS == "host" {
		sys = specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: append([]string{"rbind", "nosuid", "noexec", "nodev"}, ro...)}
	}
	ms := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: pts},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		sys,
	}
	if !o.Rootless {
		ms = append(ms, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: append([]string{"nosuid", "noexec", "nodev", "relatime"}, ro...)})
	}
	for _, f := range []struct{ dst, src string }{
		{"/etc/hosts", o.HostsFile},
		{"/etc/resolv.conf", o.ResolvConfFile},
		{"/etc/hostname", o.HostnameFile},
	} {
		if f.src == "" {
			continue
		}
		if !filepath.IsAbs(f.src) {
			return nil, invalidf("%s source %q is not an absolute path", f.dst, f.src)
		}
		opts := []string{"rbind", "rprivate"}
		if o.ReadOnly {
			opts = []string{"rbind", "ro", "rprivate"}
		}
		ms = append(ms, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: opts})
	}
	return ms, nil
}

func userMount(m Mount) (specs.Mount, error) {
	if !filepath.IsAbs(m.Destination) {
		return specs.Mount{}, invalidf("invalid mount config: destination %q is not an absolute path", m.Destination)
	}
	dst := filepath.Clean(m.Destination)
	if dst == "/" {
		return specs.Mount{}, invalidf("invalid mount config: destination can't be '/'")
	}
	switch m.Type {
	case "bind":
		if !filepath.IsAbs(m.Source) {
			return specs.Mount{}, invalidf("invalid mount config for type \"bind\": source %q is not an absolute path", m.Source)
		}
		if _, err := os.Stat(m.Source); err != nil {
			return specs.Mount{}, invalidf("invalid mount config for type \"bind\": bind source path does not exist: %s", m.Source)
		}
		opts, err := bindOptions(m.Options, m.ReadOnly)
		if err != nil {
			return specs.Mount{}, err
		}
		return specs.Mount{Destination: dst, Type: "bind", Source: filepath.Clean(m.Source), Options: opts}, nil
	case "tmpfs":
		opts := tmpfsOptions(m.Options)
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		return specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: opts}, nil
	case "volume":
		// The engine's: Source is the volume's data directory, which
		// exists by the start (not yet when the options are checked).
		if !filepath.IsAbs(m.Source) {
			return specs.Mount{}, invalidf("invalid mount config for type \"volume\": volume %q for %s has no data directory", m.Name, dst)
		}
		opts, err := bindOptions(m.Options, m.ReadOnly)
		if err != nil {
			return specs.Mount{}, err
		}
		return specs.Mount{Destination: dst, Type: "bind", Source: filepath.Clean(m.Source), Options: opts}, nil
	}
	return specs.Mount{}, invalidf("mount type %q for %s: want bind, volume or tmpfs", m.Type, m.Destination)
}

// bindOptions: "rbind" (or "bind" when asked), "ro" or "rw", the user's
// other flags, then the propagation ("rprivate" unless given), as Docker.
// SELinux relabel flags are accepted and ignored: skiff does not label.
func bindOptions(in []string, readOnly bool) ([]string, error) {
	kind, mode, prop := "rbind", "rw", "rprivate"
	if readOnly {
		mode = "ro"
	}
	var flags []string
	for _, opt := range in {
		switch opt {
		case "bind", "rbind":
			kind = opt
		case "ro", "rw":
			if !readOnly {
				mode = opt
			}
		case "shared", "rshared", "slave", "rslave", "private", "rprivate":
			prop = opt
		case "z", "Z", "U", "nocopy", "consistent", "cached", "delegated":
		case "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "nodiratime", "relatime", "strictatime", "rro":
			flags = append(flags, opt)
		default:
			return nil, invalidf("invalid mount option %q for a bind mount", opt)
		}
	}
	return append(append([]string{kind, mode}, flags...), prop), nil
}

// tmpfsOptions: nosuid, nodev, noexec unless the user asked for suid, dev
// or exec, then the user's options.
func tmpfsOptions(in []string) []string {
	var out []string
	for _, def := range []string{"nosuid", "nodev", "noexec"} {
		if !slices.Contains(in, strings.TrimPrefix(def, "no")) {
			out = append(out, def)
		}
	}
	for _, opt := range in {
		if !slices.Contains(out, opt) {
			out = append(out, opt)
		}
	}
	return out
}

// checkUnmask accepts "ALL" or absolute paths.
func checkUnmask(paths []string) error {
	for _, p := range paths {
		if p != "ALL" && !filepath.IsAbs(p) {
			return invalidf("unmask %q: want ALL or absolute paths", p)
		}
	}
	return nil
}

// unmasked is defaults without the paths of unmask (all with "ALL").
func unmasked(defaults, unmask []string) []string {
	if slices.Contains(unmask, "ALL") {
		return nil
	}
	var out []string
	for _, p := range defaults {
		if !slices.Contains(unmask, p) {
			out = append(out, p)
		}
	}
	return out
}
