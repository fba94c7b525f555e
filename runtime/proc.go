package runtime

import (
	"os"
	"strconv"
	"strings"
)

// ProcessStartTime is field 22 of /proc/PID/stat (start time in clock
// ticks since boot), 0 when the process does not exist. A pid plus its start
// time names a process for good: pids are reused, start times are not.
func ProcessStartTime(pid int) uint64 {
	fields := statFields(pid)
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 || fields[0] == "Z" {
		return 0
	}
	v, _ := strconv.ParseUint(fields[19], 10, 64)
	return v
}

// parentPid is field 4 of /proc/PID/stat, 0 when the process is gone.
func parentPid(pid int) int {
	fields := statFields(pid)
	if len(fields) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(fields[1])
	return p
}

// statFields are the fields of /proc/PID/stat from field 3 (the state)
// on, nil when the process does not exist.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	// The command name (field 2) may contain spaces and parentheses: the
	// fields after it start past the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}
