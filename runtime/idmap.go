package runtime

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// checkIDsMapped refuses a user or group the container's process could not
// take: every container of a rootless user runs in skiff's one user
// namespace, and an id outside its mapping makes the init fail half-way
// ("chown /dev/stdout: invalid argument", setuid's EINVAL). That happens
// when the user has no /etc/subuid or /etc/subgid range and skiff falls
// back to mapping the user alone, as root. Rootful skiff maps every id.
func checkIDsMapped(userSpec string, uid, gid uint32, gids []uint32) error {
	uidMap, _ := os.ReadFile("/proc/self/uid_map")
	gidMap, _ := os.ReadFile("/proc/self/gid_map")
	return checkIDsIn(userSpec, uid, gid, gids, string(uidMap), string(gidMap))
}

func checkIDsIn(userSpec string, uid, gid uint32, gids []uint32, uidMap, gidMap string) error {
	what := "--user " + userSpec
	if userSpec == "" {
		what = "the image's user"
	}
	if !idMapped(uidMap, uid) {
		return unmapped(what, "uid", uid, uidMap, "subuid")
	}
	for _, g := range append([]uint32{gid}, gids...) {
		if !idMapped(gidMap, g) {
			return unmapped(what, "gid", g, gidMap, "subgid")
		}
	}
	return nil
}

func unmapped(what, kind string, id uint32, idMap, file string) error {
	return fmt.Errorf("%s: %s %d is not mapped in skiff's user namespace (it maps %s): without a range in /etc/%s only root can be used; add one for your user (as root) and run `skiff system migrate`: %w",
		what, kind, id, describeMap(idMap), file, errdefs.ErrFailedPrecondition)
}

// idMapped: whether id falls in one of the map's ranges (lines of
// "inside outside count"). An unreadable map counts as mapping everything:
// the init then reports what it finds.
func idMapped(idMap string, id uint32) bool {
	if len(strings.Fields(idMap)) == 0 {
		return true
	}
	for f := strings.Fields(idMap); len(f) >= 3; f = f[3:] {
		inside, err1 := strconv.ParseUint(f[0], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 == nil && err2 == nil && uint64(id) >= inside && uint64(id) < inside+count {
			return true
		}
	}
	return false
}

// describeMap: "0-65536" style ranges of the ids inside the namespace.
func describeMap(idMap string) string {
	var ranges []string
	for f := strings.Fields(idMap); len(f) >= 3; f = f[3:] {
		inside, _ := strconv.ParseUint(f[0], 10, 64)
		count, _ := strconv.ParseUint(f[2], 10, 64)
		if count == 1 {
			ranges = append(ranges, "only "+f[0])
		} else {
			ranges = append(ranges, fmt.Sprintf("%d-%d", inside, inside+count-1))
		}
	}
	return strings.Join(ranges, ", ")
}

// numericUser returns the uid and gid of a --user given as numbers
// ("1000", "1000:1000"); ok is false when a part is a name, resolved only
// at start from the image's files.
func numericUser(userSpec string) (uid, gid uint32, ok bool) {
	u, g, hasGroup := strings.Cut(userSpec, ":")
	n, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return 0, 0, false
	}
	if !hasGroup {
		return uint32(n), 0, true
	}
	m, err := strconv.ParseUint(g, 10, 32)
	if err != nil {
		return 0, 0, false
	}
	return uint32(n), uint32(m), true
}
