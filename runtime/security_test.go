package runtime

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/capability"
)

func TestContainerCaps(t *testing.T) {
	withDefaults := func(extra ...string) []string { return append(slices.Clone(defaultCaps), extra...) }
	without := func(caps []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(caps), func(c string) bool { return slices.Contains(drop, c) })
	}
	all, _ := testHost().boundingCaps()
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		bounding   []string // nil: every capability
		want       []string
		err        string
	}{
		{name: "defaults", want: defaultCaps},
		{name: "add, any spelling", add: []string{"net_admin", "SYS_TIME", "CAP_SYS_PTRACE"},
			want: withDefaults("CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_SYS_PTRACE")},
		{name: "add a default again", add: []string{"CHOWN"}, want: defaultCaps},
		{name: "drop", drop: []string{"mknod", "CAP_NET_RAW"}, want: without(defaultCaps, "CAP_MKNOD", "CAP_NET_RAW")},
		{name: "add beats drop", add: []string{"KILL"}, drop: []string{"KILL"}, want: append(without(defaultCaps, "CAP_KILL"), "CAP_KILL")},
		{name: "drop ALL then add", add: []string{"NET_BIND_SERVICE"}, drop: []string{"ALL"}, want: []string{"CAP_NET_BIND_SERVICE"}},
		{name: "drop ALL", drop: []string{"all"}, want: nil},
		{name: "add ALL but one", add: []string{"ALL"}, drop: []string{"SYS_ADMIN"}, want: without(all, "CAP_SYS_ADMIN")},
		{name: "privileged", privileged: true, drop: []string{"CHOWN"}, want: all},
		{name: "privileged is the bounding set", privileged: true, bounding: []string{"CAP_CHOWN", "CAP_KILL"},
			want: []string{"CAP_CHOWN", "CAP_KILL"}},
		{name: "defaults outside the bounding set are left out", bounding: without(all, "CAP_NET_RAW", "CAP_MKNOD"),
			want: without(defaultCaps, "CAP_NET_RAW", "CAP_MKNOD")},
		{name: "add outside the bounding set", add: []string{"SYS_RESOURCE"}, bounding: without(all, "CAP_SYS_RESOURCE"),
			err: "capability CAP_SYS_RESOURCE cannot be added: skiff itself does not hold it (not in this process's capability bounding set)"},
		{name: "unknown", add: []string{"NET_WIZARD"}, err: `unknown capability: "CAP_NET_WIZARD"`},
		{name: "unknown drop", drop: []string{"CAP_"}, err: `unknown capability: "CAP_"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHost()
			if tt.bounding != nil {
				h.boundingCaps = func() ([]string, error) { return tt.bounding, nil }
			}
			got, err := containerCaps(SpecOptions{CapAdd: tt.add, CapDrop: tt.drop, Privileged: tt.privileged}, h)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("error %v, want InvalidArgument %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// The real bounding set is readable, names only known capabilities, and
// is the set the kernel reports in /proc/self/status (CapBnd).
func TestHostBoundingCaps(t *testing.T) {
	caps, err := hostBoundingCaps()
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var mask uint64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			if mask, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want []string
	for _, c := range capability.ListKnown() {
		if mask&(1<<uint(c)) != 0 {
			want = append(want, capName(c))
		}
	}
	if !slices.Equal(caps, want) {
		t.Errorf("hostBoundingCaps() = %v\nCapBnd %x = %v", caps, mask, want)
	}
	if len(caps) == 0 {
		t.Skip("empty bounding set")
	}
	if _, err := normalizeCaps(caps); err != nil {
		t.Error(err)
	}
}

func TestAllCapabilities(t *testing.T) {
	bounding, err := hostBoundingCaps()
	if err != nil {
		t.Fatal(err)
	}
	got := AllCapabilities()
	if !slices.Equal(got.Bounding, bounding) || !slices.Equal(got.Effective, bounding) || !slices.Equal(got.Permitted, bounding) ||
		got.Inheritable != nil || got.Ambient != nil {
		t.Errorf("AllCapabilities() = %+v, want the bounding set %v", got, bounding)
	}
}
