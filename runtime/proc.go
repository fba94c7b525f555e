package runtime

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// ProcessStartTime is field 22 of /proc/PID/stat (start time in clock
// ticks since boot), 0 when the process does not exist. A pid plus its start
// time names a process for good: pids are reused, start times are not.
//
// A zombie is gone, but for one whose other threads still run: a Go
// program (skiff-monitor becoming skiff-monitor-idle and back) calls
// execve from whichever thread it is on, and while the kernel makes that
// thread the leader the old leader reads as a zombie of the same pid and
// start time. Taken for dead there, a monitor in its execve had its
// container declared killed (exit 255) under load.
func ProcessStartTime(pid int) uint64 {
	fields := statFields(pid)
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 || fields[0] == "Z" && !execveZombie(pid) {
		return 0
	}
	v, _ := strconv.ParseUint(fields[19], 10, 64)
	return v
}

// execveZombie reports whether pid, read as a zombie, was a leader whose
// other thread execs: /proc/PID/status, in one read, shows it past the
// execve (no longer a zombie), or a zombie with live threads. A real
// zombie is a zombie of one thread. (Read apart, the state and the thread
// count may come from either side of the execve, and the new program
// starts with one thread.)
func execveZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	state, threads := statusField(b, "State:"), statusField(b, "Threads:")
	if !strings.HasPrefix(state, "Z") {
		return true // it has moved on: the execve is done
	}
	n, _ := strconv.Atoi(threads)
	return n > 1
}

// statusField is the value of a "Key:\tvalue" line of /proc/PID/status.
func statusField(b []byte, key string) string {
	_, rest, ok := strings.Cut(string(b), "\n"+key)
	if !ok {
		return ""
	}
	line, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(line)
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

// KillMonitors kills every skiff-monitor process (a container's, a name
// server, the rootless network holder, or skiff-monitor-idle, which a
// running container's monitor becomes) whose files are under runRoot, by
// its command line ("skiff-monitor MODE <path under runRoot>"); each
// container dies with its monitor. For starting over when the records
// cannot be trusted (system reset).
func KillMonitors(runRoot string) {
	entries, _ := os.ReadDir("/proc")
	var between []string // no command line: maybe a monitor in its execve
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if !killMonitor(pid, runRoot) {
			between = append(between, ent.Name())
		}
	}
	if len(between) > 0 {
		time.Sleep(20 * time.Millisecond)
		for _, name := range between {
			pid, _ := strconv.Atoi(name)
			killMonitor(pid, runRoot)
		}
	}
	time.Sleep(50 * time.Millisecond) // the parent-death signals land
}

// killMonitor kills pid if its command line is a monitor's of runRoot; it
// reports false when the process has no command line to read (gone, a
// kernel thread, or between two programs).
func killMonitor(pid int, runRoot string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	base := filepath.Base(args[0])
	if len(args) == 3 && (base == "skiff-monitor" || base == monitorio.IdleBinary) && strings.HasPrefix(args[2], runRoot+"/") {
		unix.Kill(pid, unix.SIGKILL)
	}
	return true
}
