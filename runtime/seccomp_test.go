package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"testing"
	"unsafe"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/test/fixture"
)

// deniedBy returns the errno the profile answers an argument-less call of
// name with, or 0 when it allows it.
func deniedBy(p *specs.LinuxSeccomp, name string) uint {
	for _, r := range p.Syscalls {
		if slices.Contains(r.Names, name) && len(r.Args) == 0 && r.Action == specs.ActErrno {
			return *r.ErrnoRet
		}
	}
	return 0
}

// The system calls the default profile must refuse with EPERM to a
// container with Docker's default capabilities.
var mustDeny = []string{
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "stime",
	"bpf", "perf_event_open", "keyctl", "add_key", "request_key", "open_by_handle_at",
	"userfaultfd", "ioperm", "iopl", "lookup_dcookie", "quotactl", "mount", "umount2",
	"pivot_root", "unshare", "setns", "kcmp", "pidfd_getfd",
	"syslog", "vm86", "uselib", "nfsservctl", "create_module", "get_kernel_syms",
	"query_module", "_sysctl", "sysfs", "ustat", "fsopen", "open_tree", "move_mount",
	"io_uring_setup", "vhangup", "mbind",
}

func TestDefaultSeccompProfile(t *testing.T) {
	p := defaultSeccomp(defaultCaps, "amd64")
	if p.DefaultAction != specs.ActAllow {
		t.Errorf("default action %s", p.DefaultAction)
	}
	if want := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}; !slices.Equal(p.Architectures, want) {
		t.Errorf("architectures %v, want %v", p.Architectures, want)
	}
	for _, name := range mustDeny {
		if got := deniedBy(p, name); got != uint(unix.EPERM) {
			t.Errorf("%s: errno %d, want EPERM", name, got)
		}
	}
	for _, name := range []string{"ptrace", "process_vm_readv", "process_vm_writev", "read", "chroot", "personality", "clone", "socket", "socketcall"} {
		if deniedBy(p, name) != 0 {
			t.Errorf("%s refused", name)
		}
	}
	if got := deniedBy(p, "clone3"); got != uint(unix.ENOSYS) {
		t.Errorf("clone3: errno %d, want ENOSYS", got)
	}
	var cloneFlags []uint64
	for _, r := range p.Syscalls {
		if slices.Equal(r.Names, []string{"clone"}) {
			a := r.Args[0]
			if a.Index != 0 || a.Op != specs.OpMaskedEqual || a.Value != a.ValueTwo || *r.ErrnoRet != uint(unix.EPERM) {
				t.Errorf("clone rule %+v", r)
			}
			cloneFlags = append(cloneFlags, a.Value)
		}
	}
	if !slices.Equal(cloneFlags, namespaceCloneFlags) || !slices.Contains(cloneFlags, unix.CLONE_NEWUSER) {
		t.Errorf("clone rules for flags %#x, want one per namespace flag", cloneFlags)
	}
}

func TestDefaultSeccompCapabilities(t *testing.T) {
	tests := []struct {
		name              string
		caps              []string
		allowed, refused  []string
		cloneRestrictions bool
	}{
		{name: "SYS_ADMIN", caps: append(slices.Clone(defaultCaps), "CAP_SYS_ADMIN"),
			allowed: []string{"mount", "umount2", "unshare", "setns", "bpf", "perf_event_open", "syslog", "fsopen", "clone3"},
			refused: []string{"pivot_root", "kexec_load", "keyctl", "reboot", "kcmp"}},
		{name: "SYS_PTRACE", caps: append(slices.Clone(defaultCaps), "CAP_SYS_PTRACE"),
			allowed: []string{"process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"},
			refused: []string{"mount", "clone3"}, cloneRestrictions: true},
		{name: "TIME,MODULE,BOOT,RAWIO,BPF", caps: append(slices.Clone(defaultCaps), "CAP_SYS_TIME", "CAP_SYS_MODULE", "CAP_SYS_BOOT", "CAP_SYS_RAWIO", "CAP_BPF"),
			allowed: []string{"settimeofday", "clock_settime", "stime", "init_module", "delete_module", "reboot", "iopl", "bpf"},
			refused: []string{"kexec_load", "kexec_file_load", "perf_event_open"}, cloneRestrictions: true},
		{name: "no SYS_CHROOT", caps: []string{"CAP_KILL"},
			refused: []string{"chroot"}, cloneRestrictions: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := defaultSeccomp(tt.caps, "amd64")
			for _, name := range tt.allowed {
				if deniedBy(p, name) != 0 {
					t.Errorf("%s refused", name)
				}
			}
			for _, name := range tt.refused {
				if deniedBy(p, name) == 0 {
					t.Errorf("%s allowed", name)
				}
			}
			hasClone := slices.ContainsFunc(p.Syscalls, func(r specs.LinuxSyscall) bool { return r.Names[0] == "clone" })
			if hasClone != tt.cloneRestrictions {
				t.Errorf("clone restricted: %v, want %v", hasClone, tt.cloneRestrictions)
			}
		})
	}
}

// runc must accept the default profile, for default and for all
// capabilities, on every architecture we name.
func TestDefaultSeccompConvertsWithRunc(t *testing.T) {
	all, _ := testHost().boundingCaps()
	for arch := range seccompArches {
		for _, caps := range [][]string{defaultCaps, all} {
			if _, err := specconv.SetupSeccomp(defaultSeccomp(caps, arch)); err != nil {
				t.Errorf("%s, %d caps: %v", arch, len(caps), err)
			}
		}
	}
}

// TestDefaultSeccompEnforced loads the default profile into a child
// process, as libcontainer will into a container, and makes the calls.
// Each refused call is one that would not fail with EPERM (or ENOSYS)
// without the filter, even as root.
func TestDefaultSeccompEnforced(t *testing.T) {
	if os.Getenv("SKIFF_TEST_SECCOMP_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultSeccompEnforced$", "-test.v")
		cmd.Env = append(os.Environ(), "SKIFF_TEST_SECCOMP_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}

	// The filter binds this thread only; keep the test on it. The locked
	// thread is discarded when the test goroutine ends.
	goruntime.LockOSThread()
	cfg, err := specconv.SetupSeccomp(defaultSeccomp(defaultCaps, goruntime.GOARCH))
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := seccomp.InitSeccomp(cfg); err != nil {
		t.Fatal(err)
	}
	call := func(nr uintptr, args ...uintptr) unix.Errno {
		var a [6]uintptr
		copy(a[:], args)
		r, _, errno := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
		if errno == 0 && (nr == unix.SYS_SOCKET || nr == unix.SYS_USERFAULTFD) {
			unix.Close(int(r))
		}
		return errno
	}
	// i386 programs, run from this thread, inherit its filter.
	dir := t.TempDir()
	run386 := func(socketcall bool, family uint8) unix.Errno {
		path := filepath.Join(dir, fmt.Sprintf("socket-%v-%d", socketcall, family))
		if err := os.WriteFile(path, fixture.I386Socket(socketcall, family), 0o755); err != nil {
			t.Fatal(err)
		}
		err := exec.Command(path).Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("i386 program (does the kernel have IA32 emulation?): %v", err)
		}
		if exit != nil {
			return unix.Errno(exit.ExitCode())
		}
		return 0
	}
	pid := uintptr(unix.Getpid())
	path, _ := unix.BytePtrFromString("/nonexistent-skiff-test")
	tmpfs, _ := unix.BytePtrFromString("tmpfs")
	checks := []struct {
		name string
		got  unix.Errno
		want unix.Errno
	}{
		{"unshare(CLONE_NEWUSER)", call(unix.SYS_UNSHARE, unix.CLONE_NEWUSER), unix.EPERM},
		{"clone(CLONE_NEWUSER|CLONE_THREAD)", call(unix.SYS_CLONE, unix.CLONE_NEWUSER|unix.CLONE_THREAD), unix.EPERM},
		{"clone(CLONE_NEWNET|CLONE_THREAD)", call(unix.SYS_CLONE, unix.CLONE_NEWNET|unix.CLONE_THREAD), unix.EPERM},
		{"clone3(NULL, 0)", call(unix.SYS_CLONE3, 0, 0), unix.ENOSYS},
		{"keyctl(GET_KEYRING_ID, session)", call(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, ^uintptr(2), 0), unix.EPERM},
		{"mount", call(unix.SYS_MOUNT, uintptr(unsafe.Pointer(tmpfs)), uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(tmpfs)), 0, 0), unix.EPERM},
		{"reboot(bad magic)", call(unix.SYS_REBOOT, 0, 0, 0, 0), unix.EPERM},
		{"bpf(NULL)", call(unix.SYS_BPF, 0, 0, 0), unix.EPERM},
		{"perf_event_open(NULL)", call(unix.SYS_PERF_EVENT_OPEN, 0, 0, 0, ^uintptr(0), 0), unix.EPERM},
		{"socket(AF_VSOCK | 1<<32)", call(unix.SYS_SOCKET, unix.AF_VSOCK|1<<32, unix.SOCK_STREAM, 0), unix.EPERM},
		{"socket(AF_VSOCK, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK)", call(unix.SYS_SOCKET, unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0), unix.EPERM},
		{"i386 socket(AF_VSOCK)", run386(false, unix.AF_VSOCK), unix.EPERM},
		{"userfaultfd", call(unix.SYS_USERFAULTFD, 0), unix.EPERM},
		{"socket(AF_VSOCK)", call(unix.SYS_SOCKET, unix.AF_VSOCK, unix.SOCK_STREAM, 0), unix.EPERM},
		{"socket(AF_ALG)", call(unix.SYS_SOCKET, unix.AF_ALG, unix.SOCK_SEQPACKET, 0), unix.EPERM},
		// Allowed.
		{"getpid", call(unix.SYS_GETPID), 0},
		{"socket(AF_UNIX)", call(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0), 0},
		{"i386 socket(AF_UNIX)", run386(false, unix.AF_UNIX), 0},
		// Docker allows socketcall; its arguments are out of seccomp's reach.
		{"i386 socketcall(SYS_SOCKET, AF_UNIX)", run386(true, unix.AF_UNIX), 0},
		{"process_vm_readv(self, none)", call(unix.SYS_PROCESS_VM_READV, pid, 0, 0, 0, 0, 0), 0},
		{"clone(CLONE_THREAD) reaches the kernel", call(unix.SYS_CLONE, unix.CLONE_THREAD), unix.EINVAL},
		{"ptrace(no such pid) reaches the kernel", call(unix.SYS_PTRACE, unix.PTRACE_PEEKDATA, 1<<30, 0, 0), unix.ESRCH},
		{"chroot(missing) reaches the kernel", call(unix.SYS_CHROOT, uintptr(unsafe.Pointer(path))), unix.ENOENT},
	}
	goruntime.KeepAlive(path)
	goruntime.KeepAlive(tmpfs)
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v (%d), want %v (%d)", c.name, c.got, c.got, c.want, c.want)
		}
	}
}

func TestLoadSeccompProfile(t *testing.T) {
	one, enosys := uint(1), uint(38)
	cloneArgs := []specs.LinuxSeccompArg{{Index: 0, Value: 2114060288, Op: specs.OpMaskedEqual}}
	tests := []struct {
		file string
		caps []string
		want specs.LinuxSeccomp
	}{
		{file: "docker-format.json", caps: defaultCaps, want: specs.LinuxSeccomp{
			DefaultAction: specs.ActErrno, DefaultErrnoRet: &one,
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow},
				{Names: []string{"getpid"}, Action: specs.ActAllow},
				{Names: []string{"arch_prctl"}, Action: specs.ActAllow},
				{Names: []string{"ptrace"}, Action: specs.ActAllow},
				{Names: []string{"clone"}, Action: specs.ActAllow, Args: cloneArgs},
				{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
			},
		}},
		{file: "docker-format.json", caps: append(slices.Clone(defaultCaps), "CAP_SYS_ADMIN"), want: specs.LinuxSeccomp{
			DefaultAction: specs.ActErrno, DefaultErrnoRet: &one,
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow},
				{Names: []string{"getpid"}, Action: specs.ActAllow},
				{Names: []string{"mount"}, Action: specs.ActAllow},
				{Names: []string{"arch_prctl"}, Action: specs.ActAllow},
				{Names: []string{"ptrace"}, Action: specs.ActAllow},
			},
		}},
		{file: "oci-format.json", caps: defaultCaps, want: specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Architectures: []specs.Arch{specs.ArchX86_64},
			Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"keyctl", "add_key"}, Action: specs.ActErrno, ErrnoRet: &one},
				{Names: []string{"personality"}, Action: specs.ActKillProcess,
					Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpNotEqual}}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata/seccomp", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseSeccompProfile(b, tt.caps, testHost())
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(tt.want)
			if string(g) != string(w) {
				t.Errorf("got  %s\nwant %s", g, w)
			}
			if _, err := specconv.SetupSeccomp(got); err != nil {
				t.Errorf("runc rejects it: %v", err)
			}
		})
	}
}

func TestLoadSeccompProfileErrors(t *testing.T) {
	tests := []struct {
		name, content, err string
	}{
		{"empty", ``, "not valid JSON: unexpected end of JSON input"},
		{"not json", `defaultAction: allow`, "not valid JSON: invalid character 'd' looking for beginning of value"},
		{"wrong type", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}}`,
			"not valid JSON: json: cannot unmarshal object into Go struct field dockerProfile.syscalls of type []runtime.dockerSyscall"},
		{"no default action", `{"syscalls": []}`, "defaultAction is missing"},
		{"unknown default action", `{"defaultAction": "SCMP_ACT_MAYBE"}`,
			"defaultAction: string SCMP_ACT_MAYBE is not a valid action for seccomp"},
		{"errnoRet with allow", `{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}`,
			"defaultAction: errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW"},
		{"architectures and archMap", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}`,
			"'architectures' and 'archMap' cannot both be given"},
		{"unknown arch", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}`,
			"string SCMP_ARCH_Z80 is not a valid arch for seccomp"},
		{"name and names", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ERRNO"}]}`,
			"syscalls[0]: 'name' and 'names' cannot both be given"},
		{"no names", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}`,
			"syscalls[0]: no system call names"},
		{"unknown action", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "DENY"}]}`,
			"syscalls[0]: string DENY is not a valid action for seccomp"},
		{"unknown operator", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}`,
			"syscalls[0]: string SCMP_CMP_LIKE is not a valid operator for seccomp"},
		{"argument index", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`,
			"syscalls[0]: argument index 6: system calls have 6 arguments"},
		{"bad minKernel", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "four"}}]}`,
			`syscalls[0]: kernel version "four": want major.minor`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSeccompProfile([]byte(tt.content), defaultCaps, testHost())
			want := "seccomp profile: " + tt.err
			if err == nil || err.Error() != want || !errdefs.IsInvalidArgument(err) {
				t.Errorf("error %v\nwant InvalidArgument %q", err, want)
			}
		})
	}
}

func TestContainerSeccompChoice(t *testing.T) {
	profile, err := os.ReadFile("testdata/seccomp/oci-format.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		o    SpecOptions
		want string // "none", "default" or "file"
	}{
		{SpecOptions{}, "default"},
		{SpecOptions{SecurityOptions: SecurityOptions{Seccomp: "unconfined"}}, "none"},
		{SpecOptions{Privileged: true}, "none"},
		{SpecOptions{Privileged: true, SecurityOptions: SecurityOptions{SeccompProfile: profile}}, "none"},
		{SpecOptions{SecurityOptions: SecurityOptions{SeccompProfile: profile}}, "file"},
	} {
		s, err := containerSeccomp(tt.o, defaultCaps, testHost())
		if err != nil {
			t.Fatal(err)
		}
		got := "none"
		switch {
		case s != nil && s.DefaultAction == specs.ActAllow && len(s.Syscalls) > 2 && s.Syscalls[0].Names[0] == "add_key":
			got = "default"
		case s != nil:
			got = "file"
		}
		if got != tt.want {
			t.Errorf("%+v: %s profile, want %s", tt.o, got, tt.want)
		}
	}
}

func TestParseKernelVersion(t *testing.T) {
	for in, want := range map[string][2]int{"6.18.44-fc-v769": {6, 18}, "4.8": {4, 8}, "5.15-rc1": {5, 15}, "3.10.0-1160.el7.x86_64": {3, 10}} {
		if got, err := parseKernelVersion(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "6", "x.y", "6."} {
		if _, err := parseKernelVersion(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}
