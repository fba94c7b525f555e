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
// ticks since boot), 0 when the process does not exist, is a zombie or is
// exiting. A pid plus its start time names a process for good: pids are
// reused, start times are not.
//
// A zombie is gone: its threads are exiting (a kill -9 of a monitor leaves
// one thread or two exiting for some milliseconds) or have exited, and
// nothing of it runs again. So is a leader that is exiting but not yet a
// zombie (PF_EXITING in field 9): after a kill -9 it has already let go
// of its memory (its cmdline reads empty) and only the kernel's
// bookkeeping is left. Both hold because skiff's monitors call execve only
// from their main thread (cmd/skiff-monitor, skiff-monitor-idle): an
// execve from another thread kills the old leader (exiting, then a zombie)
// of the same pid and start time while the kernel swaps the threads.
func ProcessStartTime(pid int) uint64 { return startTimeOf(statFields(pid)) }

// pfExiting is PF_EXITING of linux/sched.h: the task is in do_exit.
const pfExiting = 0x4

// startTimeOf is ProcessStartTime of the stat fields from field 3 on.
func startTimeOf(fields []string) uint64 {
	// fields[0] is field 3 (state); field 9 (flags) is fields[6]; field
	// 22 is fields[19].
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" {
		return 0
	}
	if flags, err := strconv.ParseUint(fields[6], 10, 64); err != nil || flags&pfExiting != 0 {
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
	if len(args) == 3 && (base == "skiff-monitor" || base == LeanMonitor || base == monitorio.IdleBinary) && strings.HasPrefix(args[2], runRoot+"/") {
		unix.Kill(pid, unix.SIGKILL)
	}
	return true
}
