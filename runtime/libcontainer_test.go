package runtime

import (
	"slices"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestNewProcess(t *testing.T) {
	p := &specs.Process{
		Args: []string{"sh", "-c", "true"}, Env: []string{"A=1"}, Cwd: "/w",
		User:            specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{10, 20}},
		Capabilities:    &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}},
		NoNewPrivileges: true,
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096}},
		ConsoleSize:     &specs.Box{Height: 24, Width: 80},
	}
	lp, err := NewProcess(p, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lp.Args, p.Args) || !slices.Equal(lp.Env, p.Env) || lp.Cwd != "/w" || !lp.Init {
		t.Errorf("args/env/cwd/init: %+v", lp)
	}
	if lp.UID != 1000 || lp.GID != 100 || !slices.Equal(lp.AdditionalGroups, []int{10, 20}) {
		t.Errorf("user %d:%d %v", lp.UID, lp.GID, lp.AdditionalGroups)
	}
	if lp.Capabilities == nil || !slices.Equal(lp.Capabilities.Bounding, []string{"CAP_KILL"}) {
		t.Errorf("capabilities %+v", lp.Capabilities)
	}
	if lp.NoNewPrivileges == nil || !*lp.NoNewPrivileges {
		t.Error("no_new_privileges lost")
	}
	if want := []configs.Rlimit{{Type: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 4096}}; !slices.Equal(lp.Rlimits, want) {
		t.Errorf("rlimits %+v, want %+v", lp.Rlimits, want)
	}
	if lp.ConsoleHeight != 24 || lp.ConsoleWidth != 80 {
		t.Errorf("console %dx%d", lp.ConsoleHeight, lp.ConsoleWidth)
	}
	if _, err := NewProcess(&specs.Process{Args: []string{"x"}, Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS"}}}, false); err == nil {
		t.Error("an unknown rlimit was accepted")
	}
	if _, err := NewProcess(&specs.Process{}, false); err == nil {
		t.Error("a process without args was accepted")
	}
}

func exampleSpec() *specs.Spec {
	s := specconv.Example()
	s.Root.Path = "/var/lib/skiff/rootfs"
	s.Linux.CgroupsPath = ""
	return s
}

func TestLibcontainerConfigRootful(t *testing.T) {
	s := exampleSpec()
	s.Linux.CgroupsPath = "/skiff/c1"
	cfg, err := LibcontainerConfig(s, "c1", false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootlessEUID || cfg.RootlessCgroups || cfg.Cgroups.Path != "/skiff/c1" || cfg.Rootfs != s.Root.Path {
		t.Errorf("rootful config: rootless %v/%v, cgroup %q, rootfs %q", cfg.RootlessEUID, cfg.RootlessCgroups, cfg.Cgroups.Path, cfg.Rootfs)
	}
	s.Root.Path = "rootfs"
	if _, err := LibcontainerConfig(s, "c1", false); err == nil {
		t.Error("a relative root path was accepted")
	}
}

// Rootless inside skiff's user namespace: uid 0 there, rootless cgroups,
// and on a host without delegation (this one: hybrid) no cgroup path, no
// limits, and a PID namespace.
func TestLibcontainerConfigRootlessWithoutCgroups(t *testing.T) {
	if CgroupsUsable(true) {
		t.Skip("this host delegates cgroups to rootless containers")
	}
	s := exampleSpec()
	s.Linux.CgroupsPath = "/skiff/c1"
	mem := int64(64 << 20)
	s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
	s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.PIDNamespace })
	cfg, err := LibcontainerConfig(s, "c1", true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootlessEUID || !cfg.RootlessCgroups || !cfg.Cgroups.Rootless {
		t.Errorf("rootless EUID %v, cgroups %v/%v; want false, true", cfg.RootlessEUID, cfg.RootlessCgroups, cfg.Cgroups.Rootless)
	}
	if cfg.Cgroups.Path != "" || cfg.Cgroups.Resources.Memory != 0 {
		t.Errorf("cgroup path %q, memory %d: want none", cfg.Cgroups.Path, cfg.Cgroups.Resources.Memory)
	}
	if len(cfg.Cgroups.Resources.Devices) == 0 {
		t.Error("the device rules were dropped too")
	}
	if !cfg.Namespaces.Contains(configs.NEWPID) {
		t.Error("no private PID namespace")
	}
}

func TestIsMonitorInit(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    bool
	}{
		{"/usr/libexec/skiff/skiff-monitor\x00init\x00", true},
		{"skiff-monitor\x00init\x00", true},
		{"sleep\x00100\x00", false},
		{"/bin/init\x00", false},
		{"/x/skiff-monitor\x00run\x00/r/monitor.json\x00", false},
		{"", false},
	} {
		if got := isMonitorInit([]byte(tc.cmdline)); got != tc.want {
			t.Errorf("isMonitorInit(%q) = %v, want %v", tc.cmdline, got, tc.want)
		}
	}
}
