package runtime

import (
	"strings"

	"golang.org/x/sys/unix"
)

// What execve(2) accepts as a new program's arguments and environment
// (fs/exec.c): each string, with its NUL, at most MAX_ARG_STRLEN; all of
// them, with a pointer each and the file name, at most a quarter of the
// stack's soft limit, capped at 6 MiB (3/4 of _STK_LIM) and never below
// ARG_MAX. Past these the container's init fails with E2BIG after the
// container exists; checked first, the run is refused before anything is
// created.
const (
	maxArgStrlen = 32 * 4096
	argMax       = 32 * 4096
	argStackCap  = 6 << 20
)

// CheckProcessSize refuses args and env that execve would refuse, as
// errdefs.ErrInvalidArgument naming the variable or argument. ulimits are
// the container's: a --ulimit stack changes the total allowed.
func CheckProcessSize(args, env []string, ulimits []Ulimit) error {
	stack := uint64(unix.RLIM_INFINITY)
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &rl) == nil {
		stack = rl.Cur
	}
	for _, u := range ulimits {
		if strings.EqualFold(u.Name, "stack") {
			stack = u.Soft
		}
	}
	return checkProcessSize(args, env, stack)
}

func checkProcessSize(args, env []string, stack uint64) error {
	for i, a := range args {
		if len(a)+1 > maxArgStrlen {
			return invalidf("argument %d of the command is %d bytes: Linux allows %d per argument or environment variable", i, len(a), maxArgStrlen-1)
		}
	}
	for _, kv := range env {
		if len(kv)+1 > maxArgStrlen {
			name, _, _ := strings.Cut(kv, "=")
			return invalidf("environment variable %s is %d bytes: Linux allows %d per variable or argument", name, len(kv), maxArgStrlen-1)
		}
	}
	limit := uint64(argStackCap)
	if stack/4 < limit {
		limit = stack / 4
	}
	limit = max(limit, argMax)
	total := uint64(8 * (max(len(args), 1) + len(env)))
	if len(args) > 0 {
		total += uint64(len(args[0]) + 1) // the file name, copied too
	}
	for _, s := range append(args[:len(args):len(args)], env...) {
		total += uint64(len(s) + 1)
	}
	if total > limit {
		return invalidf("the command and environment take %d bytes: Linux allows %d with a stack limit of %s (a quarter of it, at most %d)", total, limit, limitString(stack), argStackCap)
	}
	return nil
}
