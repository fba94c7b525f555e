package runtime

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	libseccomp "github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The default seccomp profile is a denylist: every system call is allowed
// except the ones below, which fail with EPERM, as in Docker. Docker's
// profile is an allowlist (default EPERM); this list is the set of system
// calls the kernel headers of 6.x name that Docker's profile refuses to a
// container with the default capabilities, checked against moby's
// profiles/seccomp/default.json, with the same capabilities lifting the
// same refusals. We chose a denylist because it cannot break a program
// that uses a system call newer than libseccomp's table (this host's
// libseccomp 2.5.4 predates several that glibc already uses); the price is
// that a future dangerous system call is allowed until listed here.
//
// What Docker's profile allows, this one allows, on each ABI of the
// architecture (on amd64: x86-64, i386 and x32); docs/security.md lists
// what this profile allows beyond Docker's:
//   - personality is not restricted to Docker's five argument values: a
//     denylist cannot express "any value but these" through runc (several
//     conditions on one argument become alternatives), and what it guards,
//     e.g. ADDR_NO_RANDOMIZE, only weakens the caller's own processes.
//   - obsolete 32-bit x86 calls that are harmless (signal, sigaction, nice,
//     readdir, olduname...) and arch_prctl are allowed to i386 programs.
//   - a system call newer than Docker's list, or than libseccomp's table,
//     is allowed.
//
// Names libseccomp does not know (lsm_* and open_tree_attr on 2.5.4) are
// skipped by runc.
var deniedSyscalls = []struct {
	unless []string // any of these capabilities lifts the refusal
	names  []string
}{
	{nil, []string{
		// Keyrings are not namespaced.
		"add_key", "keyctl", "request_key",
		"userfaultfd", "kexec_load", "kexec_file_load", "swapon", "swapoff",
		"pivot_root", "io_uring_setup", "io_uring_enter", "io_uring_register",
		"migrate_pages", "move_pages",
		// Obsolete or never implemented.
		"_sysctl", "sysfs", "ustat", "uselib", "nfsservctl", "create_module",
		"get_kernel_syms", "query_module", "afs_syscall", "getpmsg", "putpmsg",
		"security", "tuxcall", "vserver", "vm86", "vm86old", "bdflush",
	}},
	{[]string{"CAP_SYS_ADMIN"}, []string{
		"mount", "umount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick",
		"move_mount", "open_tree", "open_tree_attr", "mount_setattr", "unshare", "setns",
		"sethostname", "setdomainname", "quotactl", "quotactl_fd",
		"fanotify_init", "lookup_dcookie",
		"lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules",
	}},
	{[]string{"CAP_SYS_ADMIN", "CAP_BPF"}, []string{"bpf"}},
	{[]string{"CAP_SYS_ADMIN", "CAP_PERFMON"}, []string{"perf_event_open"}},
	{[]string{"CAP_SYS_ADMIN", "CAP_SYSLOG"}, []string{"syslog"}},
	{[]string{"CAP_DAC_READ_SEARCH"}, []string{"open_by_handle_at"}},
	{[]string{"CAP_SYS_BOOT"}, []string{"reboot"}},
	{[]string{"CAP_SYS_CHROOT"}, []string{"chroot"}},
	{[]string{"CAP_SYS_MODULE"}, []string{"init_module", "finit_module", "delete_module"}},
	{[]string{"CAP_SYS_PACCT"}, []string{"acct"}},
	// ptrace, process_vm_readv and process_vm_writev are allowed, as by
	// Docker on kernels >= 4.8, where ptrace can no longer bypass seccomp;
	// the kernel's ptrace access check still guards them.
	{[]string{"CAP_SYS_PTRACE"}, []string{"kcmp", "pidfd_getfd", "process_madvise"}},
	{[]string{"CAP_SYS_RAWIO"}, []string{"iopl", "ioperm"}},
	{[]string{"CAP_SYS_TIME"}, []string{"settimeofday", "stime", "clock_settime", "clock_settime64"}},
	{[]string{"CAP_SYS_TTY_CONFIG"}, []string{"vhangup"}},
	{[]string{"CAP_SYS_NICE"}, []string{"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
}

// namespaceCloneFlags are refused to clone without CAP_SYS_ADMIN: creating
// a user namespace would hand the container a full set of capabilities.
var namespaceCloneFlags = []uint64{
	unix.CLONE_NEWNS, unix.CLONE_NEWCGROUP, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC,
	unix.CLONE_NEWUSER, unix.CLONE_NEWPID, unix.CLONE_NEWNET,
}

// seccompArches maps GOARCH to the ABIs its kernels run.
var seccompArches = map[string][]specs.Arch{
	"amd64":   {specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
	"386":     {specs.ArchX86},
	"arm64":   {specs.ArchAARCH64, specs.ArchARM},
	"arm":     {specs.ArchARM},
	"ppc64le": {specs.ArchPPC64LE},
	"s390x":   {specs.ArchS390X, specs.ArchS390},
	"riscv64": {specs.ArchRISCV64},
	"loong64": {specs.ArchLOONGARCH64},
}

// containerSeccomp: none for a privileged container (as Docker) or
// "unconfined", else o.SeccompProfile when given, else the default profile.
func containerSeccomp(o SpecOptions, caps []string, h host) (*specs.LinuxSeccomp, error) {
	switch {
	case o.Seccomp != "" && o.Seccomp != "unconfined":
		return nil, invalidf("seccomp %q: want unconfined, or a profile", o.Seccomp)
	case o.Seccomp == "unconfined" && len(o.SeccompProfile) > 0:
		return nil, invalidf("seccomp: both unconfined and a profile given; choose one")
	case o.Privileged || o.Seccomp == "unconfined":
		return nil, nil
	case len(o.SeccompProfile) > 0:
		return parseSeccompProfile(o.SeccompProfile, caps, h)
	}
	return defaultSeccomp(caps, h.arch), nil
}

func defaultSeccomp(caps []string, arch string) *specs.LinuxSeccomp {
	eperm, enosys := uint(unix.EPERM), uint(unix.ENOSYS)
	var names []string
	for _, d := range deniedSyscalls {
		if !slices.ContainsFunc(d.unless, func(c string) bool { return slices.Contains(caps, c) }) {
			names = append(names, d.names...)
		}
	}
	rules := []specs.LinuxSyscall{{Names: names, Action: specs.ActErrno, ErrnoRet: &eperm}}
	if !slices.Contains(caps, "CAP_SYS_ADMIN") {
		flagsArg := uint(0)
		if arch == "s390x" {
			flagsArg = 1 // clone(stack, flags, ...) there
		}
		// One rule per flag: rules are alternatives, conditions within one
		// rule are not.
		for _, f := range namespaceCloneFlags {
			rules = append(rules, specs.LinuxSyscall{
				Names: []string{"clone"}, Action: specs.ActErrno, ErrnoRet: &eperm,
				Args: []specs.LinuxSeccompArg{{Index: flagsArg, Value: f, ValueTwo: f, Op: specs.OpMaskedEqual}},
			})
		}
		// clone3 passes its flags in memory, out of seccomp's reach. ENOSYS
		// makes glibc and Go fall back to clone, which is checked above.
		rules = append(rules, specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys})
	}
	rules = append(rules, socketFamilyRules()...)
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: slices.Clone(seccompArches[arch]),
		Syscalls:      rules,
	}
}

// socketFamilyRules refuse socket(2) of AF_ALG (the kernel's crypto API)
// and AF_VSOCK (the hypervisor), as Docker does.
//
// The family is an int: the rule compares its low 32 bits only, or a family
// with high bits set would pass the rule and still reach the kernel as
// AF_VSOCK. The second condition, "type holds only the bits the kernel
// accepts", is true of every socket(2) that can succeed; it is there for
// the multiplexed socketcall(2) of i386 (and s390). libseccomp adds every
// rule on socket to socketcall(SYS_SOCKET, args) as well, replacing the
// first condition by the call number, because socketcall passes socket's
// arguments in memory, out of seccomp's reach. Without a second condition
// the rule would refuse every socket an i386 program opens through
// socketcall (Docker allows socketcall); socketcall's second argument is
// that pointer, which has bits outside the type mask (it would have to lie
// below 0x80810 to match, and the call is then refused, never let through).
func socketFamilyRules() []specs.LinuxSyscall {
	eperm := uint(unix.EPERM)
	const low32 = 0xffffffff
	const typeBits = 0xf | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC // SOCK_TYPE_MASK and the flags
	var rules []specs.LinuxSyscall
	for _, family := range []uint64{unix.AF_ALG, unix.AF_VSOCK} {
		rules = append(rules, specs.LinuxSyscall{
			Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: &eperm,
			Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: low32, ValueTwo: family, Op: specs.OpMaskedEqual},
				{Index: 1, Value: low32 &^ typeBits, ValueTwo: 0, Op: specs.OpMaskedEqual},
			},
		})
	}
	return rules
}

// dockerProfile is the seccomp profile format of Docker and podman: OCI's
// LinuxSeccomp plus archMap and per-rule includes/excludes.
type dockerProfile struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet"`
	Architectures    []specs.Arch             `json:"architectures"`
	ArchMap          []dockerArch             `json:"archMap"`
	Flags            []specs.LinuxSeccompFlag `json:"flags"`
	ListenerPath     string                   `json:"listenerPath"`
	ListenerMetadata string                   `json:"listenerMetadata"`
	Syscalls         []dockerSyscall          `json:"syscalls"`
}

type dockerArch struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures"`
}

type dockerSyscall struct {
	Name     string                   `json:"name"`
	Names    []string                 `json:"names"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet"`
	Args     []specs.LinuxSeccompArg  `json:"args"`
	Includes *dockerFilter            `json:"includes"`
	Excludes *dockerFilter            `json:"excludes"`
}

// dockerFilter: a rule applies when the container has all Includes.Caps,
// runs on one of Includes.Arches, on a kernel >= Includes.MinKernel; and
// none of that holds for Excludes.
type dockerFilter struct {
	Caps      []string `json:"caps"`
	Arches    []string `json:"arches"`
	MinKernel string   `json:"minKernel"`
}

// parseSeccompProfile reads a Docker-format (or plain OCI) seccomp profile
// and resolves it for this container as Docker does: archMap entries of
// this architecture, rules whose includes/excludes match its capabilities,
// architecture and kernel. Errors are errdefs InvalidArgument.
func parseSeccompProfile(b []byte, caps []string, h host) (*specs.LinuxSeccomp, error) {
	var p dockerProfile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, invalidf("seccomp profile: not valid JSON: %v", err)
	}
	s, err := p.resolve(caps, h)
	if err != nil {
		return nil, invalidf("seccomp profile: %v", err)
	}
	return s, nil
}

func (p dockerProfile) resolve(caps []string, h host) (*specs.LinuxSeccomp, error) {
	if p.DefaultAction == "" {
		return nil, fmt.Errorf("defaultAction is missing")
	}
	if err := checkAction(p.DefaultAction, p.DefaultErrnoRet); err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		return nil, fmt.Errorf("'architectures' and 'archMap' cannot both be given")
	}
	s := &specs.LinuxSeccomp{
		DefaultAction:    p.DefaultAction,
		DefaultErrnoRet:  p.DefaultErrnoRet,
		Architectures:    p.Architectures,
		Flags:            p.Flags,
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
	}
	native := seccompArches[h.arch]
	for _, a := range p.ArchMap {
		if len(native) > 0 && a.Arch == native[0] {
			s.Architectures = append(append(s.Architectures, a.Arch), a.SubArches...)
		}
	}
	for _, a := range s.Architectures {
		if _, err := libseccomp.ConvertStringToArch(string(a)); err != nil {
			return nil, err
		}
	}
	for i, r := range p.Syscalls {
		rule, ok, err := r.resolve(caps, h)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		if ok {
			s.Syscalls = append(s.Syscalls, rule)
		}
	}
	return s, nil
}

func (r dockerSyscall) resolve(caps []string, h host) (specs.LinuxSyscall, bool, error) {
	names := r.Names
	switch {
	case r.Name != "" && len(r.Names) > 0:
		return specs.LinuxSyscall{}, false, fmt.Errorf("'name' and 'names' cannot both be given")
	case r.Name != "":
		names = []string{r.Name}
	case len(names) == 0:
		return specs.LinuxSyscall{}, false, fmt.Errorf("no system call names")
	}
	if err := checkAction(r.Action, r.ErrnoRet); err != nil {
		return specs.LinuxSyscall{}, false, err
	}
	for _, a := range r.Args {
		if _, err := libseccomp.ConvertStringToOperator(string(a.Op)); err != nil {
			return specs.LinuxSyscall{}, false, err
		}
		if a.Index > 5 {
			return specs.LinuxSyscall{}, false, fmt.Errorf("argument index %d: system calls have 6 arguments", a.Index)
		}
	}
	inc, err := r.Includes.matches(caps, h, true)
	if err != nil {
		return specs.LinuxSyscall{}, false, err
	}
	exc, err := r.Excludes.matches(caps, h, false)
	if err != nil {
		return specs.LinuxSyscall{}, false, err
	}
	if !inc || exc {
		return specs.LinuxSyscall{}, false, nil
	}
	return specs.LinuxSyscall{Names: names, Action: r.Action, ErrnoRet: r.ErrnoRet, Args: r.Args}, true, nil
}

// matches: for includes, whether every given condition holds (nil: yes);
// for excludes, whether any holds (nil: no).
func (f *dockerFilter) matches(caps []string, h host, all bool) (bool, error) {
	if f == nil {
		return all, nil
	}
	var conds []bool
	if len(f.Caps) > 0 {
		has := func(c string) bool { return slices.Contains(caps, c) }
		if all {
			conds = append(conds, !slices.ContainsFunc(f.Caps, func(c string) bool { return !has(c) }))
		} else {
			conds = append(conds, slices.ContainsFunc(f.Caps, has))
		}
	}
	if len(f.Arches) > 0 {
		conds = append(conds, slices.Contains(f.Arches, h.arch))
	}
	if f.MinKernel != "" {
		want, err := parseKernelVersion(f.MinKernel)
		if err != nil {
			return false, err
		}
		have := h.kernel()
		conds = append(conds, have[0] > want[0] || have[0] == want[0] && have[1] >= want[1])
	}
	if all {
		return !slices.Contains(conds, false), nil
	}
	return slices.Contains(conds, true), nil
}

func checkAction(a specs.LinuxSeccompAction, errnoRet *uint) error {
	if _, err := libseccomp.ConvertStringToAction(string(a)); err != nil {
		return err
	}
	if errnoRet != nil && a != specs.ActErrno && a != specs.ActTrace {
		return fmt.Errorf("errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not %s", a)
	}
	return nil
}

// parseKernelVersion reads "major.minor" from a version such as
// "6.18.44-fc-v769" or "4.8".
func parseKernelVersion(s string) ([2]int, error) {
	var v [2]int
	major, rest, _ := strings.Cut(s, ".")
	minor := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = rest[:i]
	}
	var err1, err2 error
	v[0], err1 = strconv.Atoi(major)
	v[1], err2 = strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return v, fmt.Errorf("kernel version %q: want major.minor", s)
	}
	return v, nil
}

func kernelVersion() [2]int {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return [2]int{}
	}
	v, _ := parseKernelVersion(unix.ByteSliceToString(u.Release[:]))
	return v
}
