package engine

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime"
)

// The API versions skiff speaks (the API shim, [7/8], serves them).
const (
	APIVersion    = "1.44"
	MinAPIVersion = "1.24"
)

// SystemInfo is Docker's `info` (GET /info): its JSON keys, with what
// skiff has; Skiff holds what Docker's has no key for.
type SystemInfo struct {
	ID                 string
	Containers         int
	ContainersRunning  int
	ContainersPaused   int
	ContainersStopped  int
	Images             int
	Driver             string
	DriverStatus       [][2]string
	Plugins            InfoPlugins
	MemoryLimit        bool
	SwapLimit          bool
	CPUShares          bool
	PidsLimit          bool
	IPv4Forwarding     bool
	Debug              bool
	NFd                int
	NGoroutines        int
	SystemTime         string
	LoggingDriver      string
	CgroupDriver       string
	CgroupVersion      string
	NEventsListener    int
	KernelVersion      string
	OperatingSystem    string
	OSVersion          string
	OSType             string
	Architecture       string
	NCPU               int
	MemTotal           int64
	DockerRootDir      string
	Name               string
	Labels             []string
	ExperimentalBuild  bool
	ServerVersion      string
	Runtimes           map[string]InfoRuntime
	DefaultRuntime     string
	Swarm              InfoSwarm
	LiveRestoreEnabled bool
	Isolation          string
	SecurityOptions    []string
	Warnings           []string
	Skiff              InfoSkiff
}

// InfoPlugins are the drivers skiff has, by Docker's kinds.
type InfoPlugins struct {
	Volume  []string
	Network []string
	Log     []string
}

// InfoRuntime is one OCI runtime.
type InfoRuntime struct {
	Path string `json:"path"`
}

// InfoSwarm is Docker's, always inactive.
type InfoSwarm struct {
	NodeID           string
	NodeAddr         string
	LocalNodeState   string
	ControlAvailable bool
	Error            string
}

// InfoSkiff is what Docker's info has no key for.
type InfoSkiff struct {
	Rootless       bool
	GraphRoot      string
	RunRoot        string
	ConfigFile     string `json:",omitempty"`
	NetworkBackend string
	Runtime        string // libcontainer, in-process (runc's)
	RuncVersion    string // the linked libcontainer module
	EventsMax      int
}

// SystemInfoOptions name the CLI's version (the engine has none of its own).
type SystemInfoOptions struct {
	Version string
}

// SystemInfo describes the host, the store and the containers.
func (e *Engine) SystemInfo(ctx context.Context, o SystemInfoOptions) (SystemInfo, error) {
	info := SystemInfo{OSType: "linux", CgroupDriver: "cgroupfs", CgroupVersion: cgroupVersion(), ServerVersion: o.Version,
		LoggingDriver: runtime.LogJSONFile, DockerRootDir: e.paths.GraphRoot,
		NCPU: goruntime.NumCPU(), NGoroutines: goruntime.NumGoroutine(), SystemTime: time.Now().Format(time.RFC3339Nano),
		Plugins:  InfoPlugins{Volume: []string{"local"}, Network: []string{"bridge", "host", "none", "slirp4netns"}, Log: []string{runtime.LogJSONFile, runtime.LogK8sFile, runtime.LogNone, runtime.LogPassthrough}},
		Runtimes: map[string]InfoRuntime{"runc": {Path: "libcontainer (in-process, skiff-monitor)"}}, DefaultRuntime: "runc",
		Swarm: InfoSwarm{LocalNodeState: "inactive"}, Labels: []string{}, Warnings: []string{},
		Skiff: InfoSkiff{Rootless: e.paths.Rootless, GraphRoot: e.paths.GraphRoot, RunRoot: e.paths.RunRoot, ConfigFile: e.opts.ConfigPath,
			NetworkBackend: "netlink+nftables (rootful), slirp4netns (rootless)", Runtime: "libcontainer", RuncVersion: moduleVersion("github.com/opencontainers/runc"),
			EventsMax: e.eventsMax()},
	}
	info.ID = engineID(e.paths.GraphRoot)
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		info.KernelVersion, info.Architecture = unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:])
		info.Name = unix.ByteSliceToString(u.Nodename[:])
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		info.MemTotal = int64(si.Totalram) * int64(si.Unit)
	}
	info.OperatingSystem, info.OSVersion = osRelease()
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil {
		info.IPv4Forwarding = strings.TrimSpace(string(b)) == "1"
	}
	if entries, err := os.ReadDir("/proc/self/fd"); err == nil {
		info.NFd = len(entries)
	}
	// Rootless on cgroup v1 (and without delegation) has no limits.
	limits := !e.paths.Rootless
	info.MemoryLimit, info.SwapLimit, info.CPUShares, info.PidsLimit = limits, limits, limits, limits
	if !limits {
		info.Warnings = append(info.Warnings, "WARNING: rootless on this host: no cgroup limits (memory, CPU, pids) for containers")
	}
	info.SecurityOptions = []string{"name=seccomp,profile=builtin"}
	if e.paths.Rootless {
		info.SecurityOptions = append(info.SecurityOptions, "name=rootless")
	}
	if info.CgroupVersion == "2" {
		info.SecurityOptions = append(info.SecurityOptions, "name=cgroupns")
	}
	is, err := e.imageStore()
	if err != nil {
		return info, err
	}
	info.Driver = e.store.Driver()
	if st, err := e.store.CS().Status(); err == nil {
		info.DriverStatus = st
	}
	if imgs, err := is.List(); err == nil {
		info.Images = len(imgs)
	}
	list, err := e.listContainers()
	if err != nil {
		return info, err
	}
	info.Containers = len(list)
	for _, c := range list {
		switch {
		case c.State.Status == runtime.StatusPaused:
			info.ContainersPaused++
		case c.Running():
			info.ContainersRunning++
		default:
			info.ContainersStopped++
		}
	}
	return info, nil
}

// cgroupVersion is "2" on a unified hierarchy, else "1" (hybrid too).
func cgroupVersion() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "2"
	}
	return "1"
}

// osRelease is /etc/os-release's PRETTY_NAME and VERSION_ID.
func osRelease() (name, version string) {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "linux", ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		switch k {
		case "PRETTY_NAME":
			name = v
		case "VERSION_ID":
			version = v
		}
	}
	return firstNonEmpty(name, "linux"), version
}

// moduleVersion is the version of a module linked into this binary.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, m := range bi.Deps {
		if m.Path == path {
			if m.Replace != nil {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	return ""
}

// SystemVersion is Docker's `version`: the client's and the server's
// (both this binary: skiff has no daemon).
type SystemVersion struct {
	Client VersionInfo
	Server VersionInfo
}

// VersionInfo is one side of Docker's version.
type VersionInfo struct {
	Platform      struct{ Name string }
	Version       string
	APIVersion    string `json:"ApiVersion"`
	MinAPIVersion string `json:",omitempty"`
	GitCommit     string
	GoVersion     string
	Os            string
	Arch          string
	KernelVersion string `json:",omitempty"`
	BuildTime     string
	Components    []VersionComponent `json:",omitempty"`
}

// VersionComponent is one part of the server.
type VersionComponent struct {
	Name    string
	Version string
	Details map[string]string `json:",omitempty"`
}

// Version describes this binary as Docker's client and server.
func Version(version string) SystemVersion {
	commit, built := "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				built = s.Value
			}
		}
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	v := VersionInfo{Version: version, APIVersion: APIVersion, GitCommit: commit, GoVersion: goruntime.Version(),
		Os: goruntime.GOOS, Arch: goruntime.GOARCH, BuildTime: built}
	v.Platform.Name = "skiff"
	s := v
	s.MinAPIVersion = MinAPIVersion
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		s.KernelVersion = unix.ByteSliceToString(u.Release[:])
	}
	s.Components = []VersionComponent{
		{Name: "Engine", Version: version, Details: map[string]string{"ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "GitCommit": commit, "GoVersion": s.GoVersion, "Os": s.Os, "Arch": s.Arch}},
		{Name: "runc", Version: moduleVersion("github.com/opencontainers/runc"), Details: map[string]string{"Mode": "libcontainer, in-process"}},
	}
	return SystemVersion{Client: v, Server: s}
}

// engineID is Docker's info ID: stable for one store on one machine (the
// machine's id and the store's path, hashed, in a UUID's form), read
// rather than recorded, so that info writes nothing.
func engineID(graphRoot string) string {
	machine, _ := os.ReadFile("/etc/machine-id")
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(machine)) + "\x00" + graphRoot))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
