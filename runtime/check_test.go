package runtime

import (
	"slices"
	"testing"

	"github.com/containerd/errdefs"
)

// CheckOptions is the one validation both the command line and the API go
// through: each rule once, with messages that name options, not flags.
func TestCheckOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		opts    func(o *SpecOptions)
		kind    func(error) bool
		message string // "" for valid options
	}{
		{"valid", func(*SpecOptions) {}, nil, ""},
		{"valid everything", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "bind", Source: dir, Destination: "/data", ReadOnly: true}, {Type: "tmpfs", Destination: "/run", Options: []string{"size=1m"}}}
			o.Memory, o.NanoCPUs, o.PidsLimit = 6<<20, 1e7, -1
			o.Ulimits = []Ulimit{{Name: "nofile", Soft: 10, Hard: 10}}
			o.Unmask = []string{"/proc/kcore"}
			o.SeccompProfile = []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`)
		}, nil, ""},
		{"no command", func(o *SpecOptions) { o.Args = nil }, errdefs.IsInvalidArgument,
			"no command specified: the image has no CMD or ENTRYPOINT and none was given"},
		{"relative working directory", func(o *SpecOptions) { o.Cwd = "wd" }, errdefs.IsInvalidArgument,
			"the working directory 'wd' is invalid, it needs to be an absolute path"},
		{"env without =", func(o *SpecOptions) { o.Env = []string{"A=1", "B"} }, errdefs.IsInvalidArgument,
			`invalid environment variable "B": want NAME=value`},
		{"env without a name", func(o *SpecOptions) { o.Env = []string{"=1"} }, errdefs.IsInvalidArgument,
			`invalid environment variable "=1": want NAME=value`},
		{"duplicate mount", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "tmpfs", Destination: "/x"}, {Type: "tmpfs", Destination: "/x/../x"}}
		}, errdefs.IsInvalidArgument, "duplicate mount point: /x"},
		{"missing bind source", func(o *SpecOptions) {
			o.Mounts = []Mount{{Type: "bind", Source: dir + "/nope", Destination: "/x"}}
		}, errdefs.IsInvalidArgument, `invalid mount config for type "bind": bind source path does not exist: ` + dir + "/nope"},
		{"mount on /", func(o *SpecOptions) { o.Mounts = []Mount{{Type: "tmpfs", Destination: "/"}} }, errdefs.IsInvalidArgument,
			"invalid mount config: destination can't be '/'"},
		{"memory below the minimum", func(o *SpecOptions) { o.Memory = 4096 }, errdefs.IsInvalidArgument,
			"memory limit 4k is below the minimum of 6 MB"},
		{"memory odd bytes", func(o *SpecOptions) { o.Memory = 1000 }, errdefs.IsInvalidArgument,
			"memory limit 1000 bytes is below the minimum of 6 MB"},
		{"cpus too few", func(o *SpecOptions) { o.NanoCPUs = 1e6 }, errdefs.IsInvalidArgument,
			"range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available"},
		{"cpus negative", func(o *SpecOptions) { o.NanoCPUs = -1e9 }, errdefs.IsInvalidArgument,
			"range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available"},
		{"pids limit", func(o *SpecOptions) { o.PidsLimit = -2 }, errdefs.IsInvalidArgument,
			"pids limit -2: want a positive number, or 0 or -1 for no limit"},
		{"ulimit name", func(o *SpecOptions) { o.Ulimits = []Ulimit{{Name: "files", Soft: 1, Hard: 1}} }, errdefs.IsInvalidArgument,
			"invalid ulimit type: files"},
		{"ulimit soft above hard", func(o *SpecOptions) { o.Ulimits = []Ulimit{{Name: "nofile", Soft: 2, Hard: 1}} }, errdefs.IsInvalidArgument,
			"ulimit nofile=2:1: the soft limit must be less than or equal to the hard limit"},
		{"seccomp profile not JSON", func(o *SpecOptions) { o.SeccompProfile = []byte("{") }, errdefs.IsInvalidArgument,
			"seccomp profile: not valid JSON: unexpected end of JSON input"},
		{"seccomp unconfined and a profile", func(o *SpecOptions) {
			o.Seccomp, o.SeccompProfile = "unconfined", []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`)
		}, errdefs.IsInvalidArgument, "seccomp: both unconfined and a profile given; choose one"},
		{"unmask relative", func(o *SpecOptions) { o.Unmask = []string{"proc/kcore"} }, errdefs.IsInvalidArgument,
			`unmask "proc/kcore": want ALL or absolute paths`},
		{"rootless limits", func(o *SpecOptions) { o.Rootless, o.Memory = true, 64<<20 }, errdefs.IsFailedPrecondition,
			"a memory limit cannot be applied: rootless containers on this host have no cgroup delegation (cgroup v1/hybrid); run without it or as root"},
		{"hostname", func(o *SpecOptions) { o.Hostname = string(make([]byte, 65)) }, errdefs.IsInvalidArgument, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := SpecOptions{ID: testID, Args: []string{"true"}, NetNS: "none"}
			tt.opts(&o)
			err := checkOptions(o, testHost())
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("valid options refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.message != "" && err.Error() != tt.message {
				t.Errorf("error %q, want %q", err, tt.message)
			}
			if !tt.kind(err) {
				t.Errorf("error %q has the wrong kind", err)
			}
		})
	}
}

func TestMergeEnv(t *testing.T) {
	got, err := MergeEnv([]string{"PATH=/bin", "A=1", "B=2"}, []string{"A=one", "C=3", "PATH=/usr/bin"})
	if want := []string{"PATH=/usr/bin", "A=one", "B=2", "C=3"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("MergeEnv: %q, %v; want %q", got, err, want)
	}
}

func TestHostname(t *testing.T) {
	if got := Hostname(SpecOptions{ID: testID}); got != testID[:12] {
		t.Errorf("default hostname %q, want the short ID", got)
	}
	if got := Hostname(SpecOptions{ID: testID, Hostname: "box", NetNS: "host"}); got != "box" {
		t.Errorf("given hostname %q, want box", got)
	}
}

func TestBindReadOnly(t *testing.T) {
	for _, tt := range []struct {
		m    Mount
		want []string
	}{
		{Mount{Type: "bind", Source: "/", Destination: "/h", ReadOnly: true}, []string{"rbind", "ro", "rprivate"}},
		{Mount{Type: "bind", Source: "/", Destination: "/h", ReadOnly: true, Options: []string{"rw"}}, []string{"rbind", "ro", "rprivate"}},
		{Mount{Type: "bind", Source: "/", Destination: "/h", Options: []string{"ro", "rshared"}}, []string{"rbind", "ro", "rshared"}},
		{Mount{Type: "tmpfs", Destination: "/t", ReadOnly: true}, []string{"nosuid", "nodev", "noexec", "ro"}},
	} {
		got, err := userMount(tt.m)
		if err != nil || !slices.Equal(got.Options, tt.want) {
			t.Errorf("%+v: options %q, %v; want %q", tt.m, got.Options, err, tt.want)
		}
	}
}

func TestUnmasked(t *testing.T) {
	if got := unmasked(maskedPaths, []string{"ALL"}); len(got) != 0 {
		t.Errorf("unmask ALL left %q", got)
	}
	got := unmasked(maskedPaths, []string{"/proc/kcore", "/not/masked"})
	if slices.Contains(got, "/proc/kcore") || len(got) != len(maskedPaths)-1 {
		t.Errorf("unmask /proc/kcore: %q", got)
	}
}

func TestCheckLogConfig(t *testing.T) {
	for _, tt := range []struct {
		l    LogConfig
		tty  bool
		want string
	}{
		{LogConfig{}, true, ""},
		{LogConfig{Type: LogK8sFile, MaxSize: 1 << 20, MaxFile: 3}, false, ""},
		{LogConfig{Type: "syslog"}, false, `unknown log driver "syslog": use json-file, k8s-file, none or passthrough`},
		{LogConfig{Type: LogPassthrough}, true, "the passthrough log driver hands the container the caller's stdio as they are: it cannot also have a terminal"},
		{LogConfig{MaxSize: -1}, false, "log max-size -1: want a size of 0 (no limit) or more"},
		{LogConfig{MaxFile: -1}, false, "log max-file -1: want a number of files, at least 1"},
	} {
		err := CheckLogConfig(tt.l, tt.tty)
		if got := ""; err != nil {
			got = err.Error()
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%+v: %v is not InvalidArgument", tt.l, err)
			}
			if got != tt.want {
				t.Errorf("%+v: %q, want %q", tt.l, got, tt.want)
			}
		} else if tt.want != "" {
			t.Errorf("%+v: accepted, want %q", tt.l, tt.want)
		}
	}
}
