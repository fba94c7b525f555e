package userns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// idRange is one line of /etc/subuid or /etc/subgid: count ids from start.
type idRange struct{ start, count int }

// parseSubIDs returns the ranges of r (subuid(5) format, "owner:start:count")
// that belong to the user, matched by name or by numeric uid as shadow does.
// Malformed lines are skipped: one bad line must not cost the user all ids.
func parseSubIDs(r io.Reader, name string, uid int) []idRange {
	return parseSubIDLines(r, func(owner string) bool { return owner == name || owner == strconv.Itoa(uid) })
}

// parseSubIDLines returns the ranges of the owners that match.
func parseSubIDLines(r io.Reader, match func(owner string) bool) []idRange {
	var out []idRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || f[0] == "" || !match(f[0]) {
			continue
		}
		start, err1 := strconv.Atoi(f[1])
		count, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || start < 0 || count <= 0 {
			continue
		}
		out = append(out, idRange{start, count})
	}
	return out
}

// firstFreeSubID is where a new range of subordinate ids can start without
// overlapping any range of any owner in the files' contents: above the
// highest one, and never below 100000 (shadow's SUB_UID_MIN), so that it
// stays clear of real users' ids.
func firstFreeSubID(files ...io.Reader) int {
	first := 100000
	for _, f := range files {
		for _, r := range parseSubIDLines(f, func(string) bool { return true }) {
			first = max(first, r.start+r.count)
		}
	}
	return first
}

// freeSubIDs is firstFreeSubID of the files at paths (a missing file has
// no ranges). A range that starts there fits whatever its size.
func freeSubIDs(paths ...string) int {
	var readers []io.Reader
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			readers = append(readers, strings.NewReader(string(b)))
		}
	}
	return firstFreeSubID(readers...)
}

// readSubIDs is parseSubIDs on a file; a missing file means no ranges.
func readSubIDs(path, name string, uid int) []idRange {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseSubIDs(f, name, uid)
}

// mapArgs are the newuidmap/newgidmap arguments: the user's own id as 0,
// then each subordinate range packed from 1 upwards.
func mapArgs(pid, own int, ranges []idRange) []string {
	args := []string{strconv.Itoa(pid), "0", strconv.Itoa(own), "1"}
	next := 1
	for _, r := range ranges {
		args = append(args, strconv.Itoa(next), strconv.Itoa(r.start), strconv.Itoa(r.count))
		next += r.count
	}
	return args
}

// idMapLine is one line of /proc/PID/uid_map: count ids from inside map to
// outside (in the reader's parent namespace).
type idMapLine struct{ inside, outside, count int64 }

type idMap []idMapLine

// parseIDMap parses the kernel's uid_map/gid_map format.
func parseIDMap(s string) (idMap, error) {
	var m idMap
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("id map line %q: want 3 fields", line)
		}
		var v [3]int64
		for i := range f {
			n, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("id map line %q: bad number %q", line, f[i])
			}
			v[i] = n
		}
		m = append(m, idMapLine{v[0], v[1], v[2]})
	}
	return m, nil
}

// identity reports the initial namespace's map ("0 0 4294967295"). An
// unreadable map counts as identity so that errors never make root rootless.
func (m idMap) identity() bool {
	return m == nil || (len(m) == 1 && m[0].inside == 0 && m[0].outside == 0 && m[0].count == 4294967295)
}

// hostOf translates an id inside the namespace to the parent namespace.
func (m idMap) hostOf(id int64) (int, bool) {
	for _, l := range m {
		if id >= l.inside && id < l.inside+l.count {
			return int(l.outside + id - l.inside), true
		}
	}
	return 0, false
}

// insideOf translates an id of the parent namespace into the namespace.
func (m idMap) insideOf(id int64) (int, bool) {
	for _, l := range m {
		if id >= l.outside && id < l.outside+l.count {
			return int(l.inside + id - l.outside), true
		}
	}
	return 0, false
}

type maps struct{ uid, gid idMap }

// selfMaps reads this process's maps once. They cannot change after the
// constructor ran: Join ends in exec, never in a setns from Go.
var selfMaps = sync.OnceValue(func() maps {
	var m maps
	for _, x := range []struct {
		path string
		dst  *idMap
	}{{"/proc/self/uid_map", &m.uid}, {"/proc/self/gid_map", &m.gid}} {
		b, err := os.ReadFile(x.path)
		if err == nil {
			*x.dst, _ = parseIDMap(string(b))
		}
	}
	return m
})
