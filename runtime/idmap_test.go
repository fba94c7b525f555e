package runtime

import (
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestCheckIDsMapped(t *testing.T) {
	const single = "         0       1004          1\n"
	const subids = "         0       1000          1\n         1     200000      65536\n"
	const all = "         0          0 4294967295\n"
	for _, tc := range []struct {
		name           string
		user           string
		uid, gid       uint32
		gids           []uint32
		uidMap, gidMap string
		err            string
	}{
		{name: "root, single id", uid: 0, gid: 0, uidMap: single, gidMap: single},
		{name: "uid 1000, single id", user: "1000", uid: 1000, uidMap: single, gidMap: single,
			err: "--user 1000: uid 1000 is not mapped in skiff's user namespace (it maps only 0): without a range in /etc/subuid only root can be used"},
		{name: "root's group list, single id", user: "", gids: []uint32{10}, uidMap: single, gidMap: single,
			err: "the image's user: gid 10 is not mapped in skiff's user namespace (it maps only 0): without a range in /etc/subgid"},
		{name: "uid 1000 with subuids", user: "1000:1000", uid: 1000, gid: 1000, uidMap: subids, gidMap: subids},
		{name: "last id of the range", user: "65536", uid: 65536, uidMap: subids, gidMap: subids},
		{name: "past the range", user: "65537", uid: 65537, uidMap: subids, gidMap: subids,
			err: "uid 65537 is not mapped in skiff's user namespace (it maps only 0, 1-65536)"},
		{name: "rootful", user: "nobody", uid: 65534, gid: 65534, uidMap: all, gidMap: all},
		{name: "unreadable map", user: "5", uid: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkIDsIn(tc.user, tc.uid, tc.gid, tc.gids, tc.uidMap, tc.gidMap)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errdefs.IsFailedPrecondition(err)):
				t.Fatalf("error %v, want FailedPrecondition containing %q", err, tc.err)
			}
		})
	}
}

func TestNumericUser(t *testing.T) {
	for in, want := range map[string][3]any{
		"1000": {uint32(1000), uint32(0), true}, "1000:50": {uint32(1000), uint32(50), true},
		"nobody": {uint32(0), uint32(0), false}, "1000:users": {uint32(0), uint32(0), false}, "": {uint32(0), uint32(0), false},
	} {
		uid, gid, ok := numericUser(in)
		if uid != want[0] || gid != want[1] || ok != want[2] {
			t.Errorf("%q: %d %d %v, want %v", in, uid, gid, ok, want)
		}
	}
}
