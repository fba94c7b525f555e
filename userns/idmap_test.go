package userns

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSubIDs(t *testing.T) {
	const file = `# comment
alice:100000:65536
1001:200000:1000
bob:165536:65536

alice:300000:10
alice:bad:10
alice:400000:0
alice:500000
:600000:10
 alice:700000:5 
`
	for _, tc := range []struct {
		name string
		user string
		uid  int
		want []idRange
	}{
		{"by name, several ranges, bad lines skipped", "alice", 1000, []idRange{{100000, 65536}, {300000, 10}, {700000, 5}}},
		{"by numeric uid", "carol", 1001, []idRange{{200000, 1000}}},
		{"name and uid both match", "bob", 1001, []idRange{{200000, 1000}, {165536, 65536}}},
		{"no entry", "dave", 1002, nil},
		{"empty name matches nothing", "", 1003, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseSubIDs(strings.NewReader(file), tc.user, tc.uid)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMapArgs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranges []idRange
		want   string
	}{
		{"one range", []idRange{{100000, 65536}}, "42 0 1000 1 1 100000 65536"},
		{"ranges packed from 1", []idRange{{100000, 10}, {300000, 5}}, "42 0 1000 1 1 100000 10 11 300000 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(mapArgs(42, 1000, tc.ranges), " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseIDMap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		wantErr  bool
		identity bool
		host0    int
		host5    int // -1: unmapped
	}{
		{"initial namespace", "         0          0 4294967295\n", false, true, 0, 5},
		{"skiff namespace", "         0       1000          1\n         1     100000      65536\n", false, false, 1000, 100004},
		{"single id", "0 1000 1\n", false, false, 1000, -1},
		{"empty (unreadable) counts as identity", "", false, true, 0, 5},
		{"two fields", "0 1000\n", true, false, 0, 0},
		{"not a number", "0 x 1\n", true, false, 0, 0},
		{"negative", "0 -1 1\n", true, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseIDMap(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if m.identity() != tc.identity {
				t.Errorf("identity() = %v, want %v", m.identity(), tc.identity)
			}
			if h, ok := m.hostOf(0); !tc.identity && (!ok || h != tc.host0) {
				t.Errorf("hostOf(0) = %d, %v, want %d", h, ok, tc.host0)
			}
			h, ok := m.hostOf(5)
			if tc.host5 < 0 && ok || tc.host5 >= 0 && !tc.identity && h != tc.host5 {
				t.Errorf("hostOf(5) = %d, %v, want %d", h, ok, tc.host5)
			}
			// insideOf is hostOf's inverse; a host id outside every range
			// (the user's other groups) is not mapped.
			if !tc.identity {
				if in, ok := m.insideOf(int64(tc.host0)); !ok || in != 0 {
					t.Errorf("insideOf(%d) = %d, %v, want 0", tc.host0, in, ok)
				}
				if tc.host5 >= 0 {
					if in, ok := m.insideOf(int64(tc.host5)); !ok || in != 5 {
						t.Errorf("insideOf(%d) = %d, %v, want 5", tc.host5, in, ok)
					}
				}
				if in, ok := m.insideOf(999); ok {
					t.Errorf("insideOf(999) = %d, mapped; want unmapped", in)
				}
			}
		})
	}
}

func TestWithoutEnv(t *testing.T) {
	env := []string{"A=1", "_SKIFF_NOJOIN=1", "_SKIFF_NOJOIN_X=2", "_SKIFF_REEXEC=1", "B="}
	got := withoutEnv(env, noJoinEnv, reexecEnv)
	want := []string{"A=1", "_SKIFF_NOJOIN_X=2", "B="}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if env[1] != "_SKIFF_NOJOIN=1" {
		t.Errorf("input modified: %v", env)
	}
}

func TestFirstFreeSubID(t *testing.T) {
	for _, tc := range []struct {
		name           string
		subuid, subgid string
		want           int
	}{
		{"no ranges at all", "", "", 100000},
		{"above the highest range of any owner", "alice:100000:65536\nbob:300000:65536\n", "alice:100000:65536\n", 365536},
		{"subgid higher than subuid", "alice:100000:65536\n", "carol:500000:10\n", 500010},
		{"below the floor does not count", "old:1000:500\n", "", 100000},
		{"bad and commented lines are skipped", "# x:900000:1\nbad:line\nalice:100000:65536\n", "", 165536},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstFreeSubID(strings.NewReader(tc.subuid), strings.NewReader(tc.subgid)); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}
