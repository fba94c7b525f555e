package runtime

import (
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
	"github.com/moby/sys/userns"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ulimitResources maps ulimit names (Docker's) to resources.
var ulimitResources = map[string]int{
	"as":         unix.RLIMIT_AS,
	"core":       unix.RLIMIT_CORE,
	"cpu":        unix.RLIMIT_CPU,
	"data":       unix.RLIMIT_DATA,
	"fsize":      unix.RLIMIT_FSIZE,
	"locks":      unix.RLIMIT_LOCKS,
	"memlock":    unix.RLIMIT_MEMLOCK,
	"msgqueue":   unix.RLIMIT_MSGQUEUE,
	"nice":       unix.RLIMIT_NICE,
	"nofile":     unix.RLIMIT_NOFILE,
	"nproc":      unix.RLIMIT_NPROC,
	"rss":        unix.RLIMIT_RSS,
	"rtprio":     unix.RLIMIT_RTPRIO,
	"rttime":     unix.RLIMIT_RTTIME,
	"sigpending": unix.RLIMIT_SIGPENDING,
	"stack":      unix.RLIMIT_STACK,
}

// defaultNofile caps the default soft RLIMIT_NOFILE.
const defaultNofile = 1 << 20

func limitString(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

func (u Ulimit) String() string {
	if u.Soft == u.Hard {
		return u.Name + "=" + limitString(u.Soft)
	}
	return u.Name + "=" + limitString(u.Soft) + ":" + limitString(u.Hard)
}

// containerRlimits: RLIMIT_NOFILE defaults to soft min(2^20, hard), hard =
// skiff's own hard limit (never more: on hosts such as this project's,
// even root cannot raise it, and podman and crun fail every run there);
// other limits are inherited from skiff. An explicit ulimit above what
// the container can be given is an error naming the limit. The last
// ulimit of a name wins.
func containerRlimits(ulimits []Ulimit, h host) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	if !slices.ContainsFunc(ulimits, func(u Ulimit) bool { return strings.EqualFold(u.Name, "nofile") }) {
		cur, _, err := h.rlimit(unix.RLIMIT_NOFILE)
		if err != nil {
			return nil, err
		}
		out = append(out, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: min(defaultNofile, cur), Hard: cur})
	}
	for _, u := range ulimits {
		u.Name = strings.ToLower(u.Name)
		res, ok := ulimitResources[u.Name]
		if !ok {
			return nil, invalidf("invalid ulimit type: %s", u.Name)
		}
		if u.Soft > u.Hard {
			return nil, invalidf("ulimit %s: the soft limit must be less than or equal to the hard limit", u)
		}
		_, ceiling, err := h.rlimit(res)
		if err != nil {
			return nil, err
		}
		if u.Hard > ceiling {
			return nil, invalidf("ulimit %s: the host's hard limit is %s", u, limitString(ceiling))
		}
		rl := specs.POSIXRlimit{Type: "RLIMIT_" + strings.ToUpper(u.Name), Soft: u.Soft, Hard: u.Hard}
		if i := slices.IndexFunc(out, func(r specs.POSIXRlimit) bool { return r.Type == rl.Type }); i >= 0 {
			out[i] = rl
		} else {
			out = append(out, rl)
		}
	}
	return out, nil
}

// hostRlimit returns this process's hard limit for resource and the
// highest hard limit a container can be given: the same, unless skiff holds
// CAP_SYS_RESOURCE in the initial user namespace, which may raise it (for
// RLIMIT_NOFILE up to fs.nr_open).
func hostRlimit(resource int) (cur, ceiling uint64, err error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(resource, &rl); err != nil {
		return 0, 0, err
	}
	if !canRaiseHardLimits() {
		return rl.Max, rl.Max, nil
	}
	if resource != unix.RLIMIT_NOFILE {
		return rl.Max, math.MaxUint64, nil
	}
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		return rl.Max, rl.Max, nil
	}
	nrOpen, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return rl.Max, rl.Max, nil
	}
	return rl.Max, max(rl.Max, nrOpen), nil
}

func canRaiseHardLimits() bool {
	if userns.RunningInUserNS() {
		return false
	}
	cs, err := capability.NewPid2(0)
	if err != nil || cs.Load() != nil {
		return false
	}
	return cs.Get(capability.EFFECTIVE, capability.CAP_SYS_RESOURCE)
}
