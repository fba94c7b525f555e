package userns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// monitorComm is the name of skiff's per-container monitor (cmd/skiff-monitor),
// leanComm that of its build without the network's code (skiff-monitor-lean),
// idleComm that of the idle monitor either becomes while its container runs
// (cmd/skiff-monitor-idle), as the kernel keeps them: 15 bytes.
const (
	monitorComm = "skiff-monitor"
	leanComm    = "skiff-monitor-l"
	idleComm    = "skiff-monitor-i"
)

// rejoinMonitors starts a pause process inside the user and mount
// namespaces of a running monitor of this run root and returns its pid. The
// pause died, but the monitors (and their containers, mounts and network
// namespaces) still live in its namespaces: a fresh namespace would leave
// them unreachable. It fails when no monitor runs or none can be joined;
// the caller then creates fresh namespaces.
func rejoinMonitors(dir string) (int, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "c", "*", "monitor.pid"))
	err := errors.New("no container monitor runs")
	for _, f := range files {
		pid, perr := readPid(f)
		config := filepath.Join(filepath.Dir(f), "monitor.json")
		if perr != nil || !isMonitor(pid, config) || !otherUserNS(pid) {
			continue
		}
		pause, jerr := joinMonitor(pid, config)
		if jerr == nil {
			return pause, nil
		}
		err = jerr
	}
	return 0, err
}

// joinMonitor opens the monitor's namespaces, checks that pid still is that
// monitor (it could have exited and its pid been reused meanwhile), and
// starts a pause process in them.
func joinMonitor(pid int, config string) (int, error) {
	user, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return 0, err
	}
	defer user.Close()
	mnt, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err != nil {
		return 0, err
	}
	defer mnt.Close()
	if !isMonitor(pid, config) {
		return 0, fmt.Errorf("monitor %d exited", pid)
	}
	return spawnPauseIn(user, mnt)
}

// runningMonitors counts the live monitors of the run root dir.
func runningMonitors(dir string) int {
	files, _ := filepath.Glob(filepath.Join(dir, "c", "*", "monitor.pid"))
	n := 0
	for _, f := range files {
		if pid, err := readPid(f); err == nil && isMonitor(pid, filepath.Join(filepath.Dir(f), "monitor.json")) {
			n++
		}
	}
	return n
}

// isMonitor reports that pid is a live monitor of ours started for config
// (argv "skiff-monitor run <config>", or skiff-monitor-lean's or -idle's).
func isMonitor(pid int, config string) bool {
	if !isOurs(pid, monitorComm) && !isOurs(pid, leanComm) && !isOurs(pid, idleComm) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	for try := 0; err == nil && len(b) == 0 && try < 5; try++ {
		// Between its two programs (execve): no command line for an instant.
		time.Sleep(10 * time.Millisecond)
		b, err = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	}
	if err != nil {
		return false
	}
	argv := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	return len(argv) == 3 && argv[1] == "run" && argv[2] == config
}

// otherUserNS reports that pid is in a user namespace other than ours.
func otherUserNS(pid int) bool {
	theirs, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	ours, err2 := os.Readlink("/proc/self/ns/user")
	return err1 == nil && err2 == nil && theirs != ours
}
