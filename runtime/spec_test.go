package runtime

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/capability"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// The -update flag rewrites golden files. Another test file of the package
// may define it too, so define it only once.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite testdata golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// testHost is a machine like this project's (nofile hard limit 20000,
// cgroup v1 hybrid, gid 5 unmapped rootless) with every capability.
func testHost() host {
	var all []string
	for _, c := range capability.ListKnown() {
		all = append(all, capName(c))
	}
	return host{
		boundingCaps: func() ([]string, error) { return all, nil },
		rlimit:       func(int) (uint64, uint64, error) { return 20000, 20000, nil },
		gidMapped:    func(uint32) bool { return false },
		cgroups: func(rootless bool) string {
			if rootless {
				return "cgroup v1/hybrid"
			}
			return ""
		},
		arch:    "amd64",
		numMems: func() int { return 1 },
		kernel:  func() [2]int { return [2]int{6, 18} },
		numCPU:  4,
	}
}

// fakeRootfs copies testdata/rootfs (busybox's /etc/passwd and /etc/group,
// nobody in staff and users) to a temporary directory.
func fakeRootfs(t *testing.T, dir string) string {
	t.Helper()
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.CopyFS(rootfs, os.DirFS("testdata/rootfs")); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

const testID = "c0ffee0123456789c0ffee0123456789c0ffee0123456789c0ffee0123456789"

func baseOptions(tmp string) SpecOptions {
	run := "/run/skiff/containers/" + testID
	return SpecOptions{
		ID:             testID,
		Hostname:       "c0ffee012345",
		Rootfs:         filepath.Join(tmp, "rootfs"),
		Args:           []string{"sh", "-c", "echo hello"},
		Env:            []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		HostsFile:      run + "/hosts",
		ResolvConfFile: run + "/resolv.conf",
		HostnameFile:   run + "/hostname",
		NetNS:          "none",
	}
}

func TestGenerateSpec(t *testing.T) {
	tests := []struct {
		name string
		opts func(o *SpecOptions, tmp string)
	}{
		{"default", func(*SpecOptions, string) {}},
		{"rootless", func(o *SpecOptions, _ string) { o.Rootless = true }},
		{"tty-env", func(o *SpecOptions, _ string) {
			o.Terminal = true
			o.Env = []string{"FOO=bar", "PATH=/opt/bin:/bin", "HOME=/work"}
			o.Cwd = "/work/"
		}},
		{"user-nobody", func(o *SpecOptions, _ string) {
			o.User = "nobody"
			o.GroupAdd = []string{"audio", "1234"}
		}},
		{"readonly-tmpfs-bind", func(o *SpecOptions, tmp string) {
			o.ReadOnly = true
			o.Mounts = []Mount{
				{Type: "tmpfs", Destination: "/run", Options: []string{"size=64m", "exec"}},
				{Type: "bind", Source: filepath.Join(tmp, "data"), Destination: "/data/", Options: []string{"ro", "z"}},
				{Type: "tmpfs", Destination: "/dev/shm", Options: []string{"size=1g"}},
			}
		}},
		{"volume", func(o *SpecOptions, tmp string) {
			o.Mounts = []Mount{{Type: "volume", Name: "cache", Source: filepath.Join(tmp, "data"), Destination: "/cache",
				ReadOnly: true, NoCopy: true, Chown: true, Options: []string{"Z"}}}
		}},
		{"privileged", func(o *SpecOptions, _ string) { o.Privileged = true }},
		{"cap-add-drop", func(o *SpecOptions, _ string) {
			o.CapAdd = []string{"NET_ADMIN", "sys_ptrace", "CAP_CHOWN"}
			o.CapDrop = []string{"CAP_MKNOD", "net_raw"}
			o.NoNewPrivileges = true
		}},
		{"network-host", func(o *SpecOptions, _ string) { o.NetNS = "host" }},
		{"netns-path", func(o *SpecOptions, _ string) { o.NetNS = "/run/skiff/netns/skiff-c0ffee012345" }},
		{"kernel-host-namespaces", func(o *SpecOptions, _ string) {
			o.Hostname = ""
			o.PIDMode, o.IPCMode, o.UTSMode = "host", "host", "host"
		}},
		{"kernel-host-namespaces-rootless", func(o *SpecOptions, _ string) {
			o.Rootless = true
			o.Hostname = ""
			o.UTSMode = "host" // PID: refused here (no cgroups); IPC: binds the host's /dev/mqueue if it has one (e2e)
		}},
		{"kernel-tuned", func(o *SpecOptions, _ string) {
			o.Domainname = "example.org"
			o.ShmSize = 256 << 20
			o.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shmmax": "1073741824"}
			o.OomScoreAdj, o.OomScoreAdjSet = 500, true
			o.Devices = []Device{{Path: "/dev/null", ContainerPath: "/dev/xnull", Permissions: "rw"}}
		}},
		{"resources-more", func(o *SpecOptions, _ string) {
			swappiness := int64(10)
			o.Memory, o.MemoryReservation, o.MemorySwap = 512<<20, 256<<20, 1<<30
			o.CPUShares, o.CpusetCpus, o.CpusetMems = 512, "0-1,3", "0"
			o.MemorySwappiness, o.OomKillDisable = &swappiness, true
		}},
		{"resources-rootful", func(o *SpecOptions, _ string) {
			o.Memory = 512 << 20
			o.NanoCPUs = 1.5e9
			o.PidsLimit = 100
			o.Ulimits = []Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}, {Name: "nproc", Soft: 512, Hard: 512}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			fakeRootfs(t, tmp)
			if err := os.Mkdir(filepath.Join(tmp, "data"), 0o755); err != nil {
				t.Fatal(err)
			}
			o := baseOptions(tmp)
			tt.opts(&o, tmp)
			s, err := generateSpec(o, testHost())
			if err != nil {
				t.Fatal(err)
			}
			checkConvertible(t, s, o.Rootless)
			got, err := json.MarshalIndent(s, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			got = append(bytes.ReplaceAll(got, []byte(tmp), []byte("$TMP")), '\n')
			golden := filepath.Join("testdata", t.Name()+".golden")
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./runtime -run TestGenerateSpec -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("spec differs from %s (rerun with -update if intended):\n%s", golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// checkConvertible runs the spec through runc's conversion, as the monitor
// will, so that a spec runc rejects fails here rather than at start.
func checkConvertible(t *testing.T, s *specs.Spec, rootless bool) {
	t.Helper()
	_, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:      "skiff-test",
		Spec:            s,
		RootlessCgroups: rootless,
	})
	if err != nil {
		t.Fatalf("runc's specconv rejects the spec: %v", err)
	}
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			out = append(out, "line "+strconv.Itoa(i+1)+":\n- "+wl+"\n+ "+gl)
		}
	}
	return strings.Join(out, "\n")
}

func TestGenerateSpecErrors(t *testing.T) {
	tests := []struct {
		name    string
		opts    func(o *SpecOptions)
		kind    func(error) bool
		message string
	}{
		{"relative cwd", func(o *SpecOptions) { o.Cwd = "work" }, errdefs.IsInvalidArgument,
			"the working directory 'work' is invalid, it needs to be an absolute path"},
		{"relative rootfs", func(o *SpecOptions) { o.Rootfs = "rootfs" }, errdefs.IsInvalidArgument,
			`root filesystem path "rootfs" is not absolute`},
		{"no command", func(o *SpecOptions) { o.Args = nil }, errdefs.IsInvalidArgument,
			"no command specified: the image has no CMD or ENTRYPOINT and none was given"},
		{"no id", func(o *SpecOptions) { o.ID = "" }, errdefs.IsInvalidArgument, "container ID must not be empty"},
		{"bind source missing", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "bind", Source: "/nonexistent/skiff-test", Destination: "/data"}}
		}, errdefs.IsInvalidArgument, `invalid mount config for type "bind": bind source path does not exist: /nonexistent/skiff-test`},
		{"bind source relative", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "bind", Source: "data", Destination: "/data"}}
		}, errdefs.IsInvalidArgument, `invalid mount config for type "bind": source "data" is not an absolute path`},
		{"mount on root", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "tmpfs", Destination: "/tmp/.."}}
		}, errdefs.IsInvalidArgument, "invalid mount config: destination can't be '/'"},
		{"relative destination", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "tmpfs", Destination: "tmp"}}
		}, errdefs.IsInvalidArgument, `invalid mount config: destination "tmp" is not an absolute path`},
		{"mount type", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "overlay", Destination: "/v"}}
		}, errdefs.IsInvalidArgument, `mount type "overlay" for /v: want bind, volume or tmpfs`},
		{"volume not resolved", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "volume", Name: "data", Destination: "/v"}}
		}, errdefs.IsInvalidArgument, `invalid mount config for type "volume": volume "data" for /v has no data directory`},
		{"duplicate mount point", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "tmpfs", Destination: "/v"}, {Type: "bind", Source: "/", Destination: "/v/"}}
		}, errdefs.IsInvalidArgument, "duplicate mount point: /v"},
		{"bind option", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "bind", Source: "/", Destination: "/host", Options: []string{"size=1m"}}}
		}, errdefs.IsInvalidArgument, `invalid mount option "size=1m" for a bind mount`},
		{"rootless memory", func(o *SpecOptions) { o.Rootless = true; o.Memory = 64 << 20 }, errdefs.IsFailedPrecondition,
			"a memory limit cannot be applied: rootless containers on this host have no cgroup delegation (cgroup v1/hybrid); run without it or as root"},
		{"rootless limits", func(o *SpecOptions) { o.Rootless = true; o.NanoCPUs = 1e9; o.PidsLimit = 10 }, errdefs.IsFailedPrecondition,
			"a CPU limit and a pids limit cannot be applied: rootless containers on this host have no cgroup delegation (cgroup v1/hybrid); run without them or as root"},
		{"memory too small", func(o *SpecOptions) { o.Memory = 4 << 10 }, errdefs.IsInvalidArgument, "memory limit 4k is below the minimum of 6 MB"},
		{"too many cpus", func(o *SpecOptions) { o.NanoCPUs = 8e9 }, errdefs.IsInvalidArgument,
			"range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available"},
		{"netns relative", func(o *SpecOptions) { o.NetNS = "bridge" }, errdefs.IsInvalidArgument,
			`network namespace "bridge": want none, host or the absolute path of a namespace`},
		{"env without value", func(o *SpecOptions) { o.Env = []string{"FOO"} }, errdefs.IsInvalidArgument,
			`invalid environment variable "FOO": want NAME=value`},
		{"unknown cap", func(o *SpecOptions) { o.CapAdd = []string{"NET_WIZARD"} }, errdefs.IsInvalidArgument,
			`unknown capability: "CAP_NET_WIZARD"`},
		{"unknown user", func(o *SpecOptions) { o.User = "ghost" }, errdefs.IsInvalidArgument,
			"unable to find user ghost: no matching entries in passwd file"},
		{"ulimit above hard", func(o *SpecOptions) { o.Ulimits = []Ulimit{{Name: "nofile", Soft: 30000, Hard: 30000}} }, errdefs.IsInvalidArgument,
			"ulimit nofile=30000: the host's hard limit is 20000"},
		{"rootless host pid without cgroups", func(o *SpecOptions) { o.Rootless = true; o.PIDMode = "host" }, errdefs.IsFailedPrecondition,
			"the host's PID namespace cannot be shared: rootless containers on this host have no cgroup of their own, so their processes are kept in a PID namespace of theirs; run without it or as root"},
		{"negative shares", func(o *SpecOptions) { o.CPUShares = -1 }, errdefs.IsInvalidArgument,
			"invalid CPU shares -1: use a positive relative weight (1024 is the default)"},
		{"cpuset out of range", func(o *SpecOptions) { o.CpusetCpus = "0-5" }, errdefs.IsInvalidArgument,
			"Requested CPUs are not available - requested 0-5, available: 0-3"},
		{"cpuset mems out of range", func(o *SpecOptions) { o.CpusetMems = "1" }, errdefs.IsInvalidArgument,
			"Requested memory nodes are not available - requested 1, available: 0"},
		{"cpuset syntax", func(o *SpecOptions) { o.CpusetCpus = "1-0" }, errdefs.IsInvalidArgument,
			`invalid cpuset "1-0": use a list of numbers and ranges, e.g. 0-2,4`},
		{"reservation above limit", func(o *SpecOptions) { o.Memory, o.MemoryReservation = 64<<20, 128<<20 }, errdefs.IsInvalidArgument,
			"Minimum memory limit can not be less than memory reservation limit, see usage"},
		{"reservation too small", func(o *SpecOptions) { o.MemoryReservation = 1 << 20 }, errdefs.IsInvalidArgument,
			"Minimum memory reservation allowed is 6MB"},
		{"swap without memory", func(o *SpecOptions) { o.MemorySwap = 1 << 30 }, errdefs.IsInvalidArgument,
			"You should always set the Memory limit when using Memoryswap limit, see usage"},
		{"swap below memory", func(o *SpecOptions) { o.Memory, o.MemorySwap = 512<<20, 256<<20 }, errdefs.IsInvalidArgument,
			"Minimum memoryswap limit should be larger than memory limit, see usage"},
		{"swappiness range", func(o *SpecOptions) { v := int64(101); o.MemorySwappiness = &v }, errdefs.IsInvalidArgument,
			"Invalid value: 101, valid memory swappiness range is 0-100"},
		{"rootless shares", func(o *SpecOptions) { o.Rootless = true; o.CPUShares = 512 }, errdefs.IsFailedPrecondition,
			"CPU shares cannot be applied: rootless containers on this host have no cgroup delegation (cgroup v1/hybrid); run without it or as root"},
		{"pid mode", func(o *SpecOptions) { o.PIDMode = "container:x" }, errdefs.IsInvalidArgument,
			`PID namespace mode "container:x": use host, or leave it private`},
		{"hostname with host uts", func(o *SpecOptions) { o.UTSMode = "host"; o.Hostname = "h" }, errdefs.IsInvalidArgument,
			"a hostname or a domain name cannot be set with the host's UTS namespace"},
		{"bad domain name", func(o *SpecOptions) { o.Domainname = "a..b" }, errdefs.IsInvalidArgument,
			`invalid domain name "a..b": use letters, digits, '-' and '.', at most 255 characters`},
		{"shm size with host ipc", func(o *SpecOptions) { o.IPCMode = "host"; o.ShmSize = 1 << 20 }, errdefs.IsInvalidArgument,
			"a /dev/shm size cannot be set with the host's IPC namespace (it is the host's /dev/shm)"},
		{"oom score range", func(o *SpecOptions) { o.OomScoreAdj = 1001 }, errdefs.IsInvalidArgument,
			"invalid OOM score adjustment 1001: use -1000 to 1000"},
		{"rootless negative oom score", func(o *SpecOptions) { o.Rootless = true; o.OomScoreAdj = -5 }, errdefs.IsInvalidArgument,
			"a negative OOM score adjustment (-5) needs root: a rootless container can only raise its score"},
		{"host sysctl", func(o *SpecOptions) { o.Sysctls = map[string]string{"vm.swappiness": "10"} }, errdefs.IsInvalidArgument,
			`sysctl "vm.swappiness" is not allowed: only namespaced sysctls (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*) can be set in a container`},
		{"net sysctl with host network", func(o *SpecOptions) { o.NetNS = "host"; o.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"} }, errdefs.IsInvalidArgument,
			`sysctl "net.ipv4.ip_forward" is not allowed with the host's network namespace`},
		{"ipc sysctl with host ipc", func(o *SpecOptions) { o.IPCMode = "host"; o.Sysctls = map[string]string{"kernel.shmmax": "1"} }, errdefs.IsInvalidArgument,
			`sysctl "kernel.shmmax" is not allowed with the host's IPC namespace`},
		{"device not a device", func(o *SpecOptions) { o.Devices = []Device{{Path: "/etc/passwd"}} }, errdefs.IsInvalidArgument,
			`device "/etc/passwd" is not a character or block device`},
		{"device missing", func(o *SpecOptions) { o.Devices = []Device{{Path: "/dev/nonexistent-skiff"}} }, errdefs.IsInvalidArgument,
			`device "/dev/nonexistent-skiff": no such file or directory`},
		{"device permissions", func(o *SpecOptions) { o.Devices = []Device{{Path: "/dev/null", Permissions: "rx"}} }, errdefs.IsInvalidArgument,
			`device "/dev/null": permissions "rx": use letters of rwm`},
		{"seccomp neither default nor unconfined", func(o *SpecOptions) { o.Seccomp = "/nonexistent/profile.json" }, errdefs.IsInvalidArgument,
			`seccomp "/nonexistent/profile.json": want unconfined, or a profile`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			fakeRootfs(t, tmp)
			o := baseOptions(tmp)
			tt.opts(&o)
			_, err := generateSpec(o, testHost())
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.message {
				t.Errorf("error %q, want %q", err, tt.message)
			}
			if !tt.kind(err) {
				t.Errorf("error %q has the wrong kind", err)
			}
		})
	}
}

func TestGenerateSpecRootlessMappedTTYGroup(t *testing.T) {
	tmp := t.TempDir()
	fakeRootfs(t, tmp)
	o := baseOptions(tmp)
	o.Rootless = true
	h := testHost()
	h.gidMapped = func(gid uint32) bool { return gid == 5 }
	s, err := generateSpec(o, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Mounts {
		if m.Destination == "/dev/pts" && !strings.Contains(strings.Join(m.Options, ","), "gid=5") {
			t.Errorf("/dev/pts options %v: want gid=5 when gid 5 is mapped", m.Options)
		}
	}
}

func TestCgroupsUsableRootful(t *testing.T) {
	if !CgroupsUsable(false) {
		t.Error("CgroupsUsable(false) = false: rootful skiff can always use cgroups")
	}
}

func TestHostGidMapped(t *testing.T) {
	// Outside a user namespace every id is mapped; inside skiff's, 0 is.
	if !hostGidMapped(0) {
		t.Error("gid 0 not mapped")
	}
}

// The working directory: the root and a directory that exists (itself or
// through a symlink) are left as they are; a missing one and a dangling
// symlink's target are made inside the root filesystem; a file is an
// InvalidArgument; nothing is made outside rootfs.
func TestMakeWorkdir(t *testing.T) {
	rootfs := t.TempDir()
	outside := t.TempDir()
	for _, d := range []string{"srv/app", "etc"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(rootfs, "etc/file"), nil, 0o644)
	os.Symlink("/srv/app", filepath.Join(rootfs, "app"))
	os.Symlink("/srv/made/here", filepath.Join(rootfs, "wd"))
	os.Symlink(outside+"/escape", filepath.Join(rootfs, "out"))
	for _, tc := range []struct {
		cwd, made string // made: the directory that must exist afterwards, inside rootfs
		bad       bool
	}{
		{cwd: "/", made: "."},
		{cwd: "/srv/app", made: "srv/app"},
		{cwd: "/app", made: "srv/app"},
		{cwd: "/new/dir", made: "new/dir"},
		{cwd: "/wd", made: "srv/made/here"},
		{cwd: "/out", made: strings.TrimPrefix(outside, "/") + "/escape"},
		{cwd: "/etc/file", bad: true},
	} {
		err := makeWorkdir(rootfs, tc.cwd)
		if tc.bad {
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%s: got %v, want an InvalidArgument", tc.cwd, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.cwd, err)
			continue
		}
		if fi, err := os.Stat(filepath.Join(rootfs, tc.made)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %s is not a directory in rootfs: %v", tc.cwd, tc.made, err)
		}
	}
	if _, err := os.Stat(outside + "/escape"); err == nil {
		t.Errorf("a symlink to %s/escape made it on the host", outside)
	}
}
