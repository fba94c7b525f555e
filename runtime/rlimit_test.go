package runtime

import (
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestContainerRlimits(t *testing.T) {
	inf := uint64(unix.RLIM_INFINITY)
	tests := []struct {
		name     string
		cur, max uint64 // the host's hard limit, and the highest a container may get
		ulimits  []Ulimit
		want     []specs.POSIXRlimit
		err      string
	}{
		{name: "default is clamped to the hard limit", cur: 20000, max: 20000,
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000}}},
		{name: "default soft is at most 2^20", cur: 4 << 20, max: 4 << 20,
			want: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 20, Hard: 4 << 20}}},
		{name: "explicit nofile replaces the default", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"nofile", 1024, 2048}, {"nproc", 512, 512}},
			want:    []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}, {Type: "RLIMIT_NPROC", Soft: 512, Hard: 512}}},
		{name: "other limits come after the default", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"core", 0, 0}},
			want:    []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000}, {Type: "RLIMIT_CORE"}}},
		{name: "the last of a name wins", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"nofile", 10, 10}, {"nofile", 20, 30}},
			want:    []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 20, Hard: 30}}},
		{name: "explicit at the hard limit", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"nofile", 20000, 20000}},
			want:    []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000}}},
		{name: "explicit above the hard limit", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"nofile", 30000, 30000}},
			err:     "ulimit nofile=30000: the host's hard limit is 20000"},
		{name: "explicit hard above the hard limit", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"nofile", 1024, 40000}},
			err:     "ulimit nofile=1024:40000: the host's hard limit is 20000"},
		{name: "unlimited above a finite limit", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"core", inf, inf}},
			err:     "ulimit core=unlimited: the host's hard limit is 20000"},
		{name: "root with CAP_SYS_RESOURCE may raise", cur: 20000, max: 1 << 20,
			ulimits: []Ulimit{{"nofile", 30000, 30000}},
			want:    []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 30000, Hard: 30000}}},
		{name: "unknown name", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"files", 1, 1}}, err: "invalid ulimit type: files"},
		{name: "soft above hard", cur: 20000, max: 20000,
			ulimits: []Ulimit{{"nofile", 2, 1}}, err: "ulimit nofile=2:1: the soft limit must be less than or equal to the hard limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost()
			h.rlimit = func(int) (uint64, uint64, error) { return tt.cur, tt.max, nil }
			got, err := containerRlimits(tt.ulimits, h)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("error %v, want InvalidArgument %q", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

// The real host: whatever its limits, the default never exceeds them.
func TestHostRlimitDefault(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	got, err := containerRlimits(nil, thisHost)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Hard != rl.Max || got[0].Soft > rl.Max {
		t.Errorf("default rlimits %+v, hard limit %d", got, rl.Max)
	}
}
