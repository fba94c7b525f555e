package userns

// #include "constructor.h"
import "C"

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Join makes sure the calling process runs inside the user's namespace when
// it works rootless. It must be called first thing in main (after
// containers/storage's reexec.Init).
//
// Rootful (real root, identity uid_map): nothing to do. Already inside (the
// C constructor joined, or a parent was inside): export the variables
// containers/storage reads and return. Otherwise the slow path creates or
// finds the pause process under pause.lock and re-executes this binary with
// the same argv, so Join returns only with an error: the pause could not be
// made, or the re-executed process still could not join it.
func Join(warn io.Writer) error {
	if !Rootless() {
		return nil
	}
	if err := checkRuntimeDirEnv(); err != nil {
		return err
	}
	dir, err := ensureStateDir()
	if err != nil {
		return err
	}
	if inside() {
		remember()
		os.Unsetenv(reexecEnv) // a nested skiff (e.g. under `skiff unshare`) starts afresh
		os.Setenv("_CONTAINERS_USERNS_CONFIGURED", "done")
		os.Setenv("_CONTAINERS_ROOTLESS_UID", strconv.Itoa(HostUID()))
		os.Setenv("_CONTAINERS_ROOTLESS_GID", strconv.Itoa(HostGID()))
		return nil
	}
	why := C.GoString(C.skiff_userns_why())
	if C.skiff_userns_joined() < 0 {
		return fmt.Errorf("joining skiff's user namespace failed half way (%s); run `skiff system migrate` and retry", why)
	}
	if os.Getenv(reexecEnv) == "1" {
		return fmt.Errorf("created the rootless pause process but could not join it (%s); run `skiff system migrate` and retry", why)
	}
	if err := ensurePause(dir, warn); err != nil {
		return err
	}
	remember()
	env := append(withoutEnv(os.Environ(), noJoinEnv, reexecEnv), reexecEnv+"=1")
	err = syscall.Exec("/proc/self/exe", os.Args, env)
	return fmt.Errorf("re-executing skiff inside its user namespace: %w", err)
}

// withoutEnv drops the named variables from env.
func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// ensurePause makes sure a live pause process is recorded in pause.pid,
// creating one if needed: inside the namespaces of a running monitor when
// there is one (the old pause died under running containers), else in fresh
// namespaces. The lock serialises concurrent first invocations: whoever
// comes second finds the first one's pause.
func ensurePause(dir string, warn io.Writer) error {
	unlock, err := lockState(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if pid, err := readPidFile(dir); err == nil && isPause(pid) {
		return nil
	}
	pid, err := rejoinMonitors(dir)
	if err != nil {
		pid, err = startPause(warn)
	}
	if err != nil {
		return err
	}
	if err := writePidFile(dir, pid); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		return err
	}
	return nil
}

// lockState takes pause.lock and returns its release.
func lockState(dir string) (func(), error) {
	f, err := os.OpenFile(dir+"/pause.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the pause lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// readPidFile returns the pid recorded in dir/pause.pid.
func readPidFile(dir string) (int, error) { return readPid(dir + "/pause.pid") }

// readPid reads a pid file ("%d\n").
func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: no pid in %q", path, b)
	}
	return pid, nil
}

// writePidFile replaces dir/pause.pid atomically, so a concurrent fast join
// in C never reads half a number.
func writePidFile(dir string, pid int) error {
	tmp := fmt.Sprintf("%s/.pause.pid.%d", dir, os.Getpid())
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the pause pid file: %w", err)
	}
	if err := os.Rename(tmp, dir+"/pause.pid"); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the pause pid file: %w", err)
	}
	return nil
}

// isPause mirrors the constructor's check: a live, non-zombie process owned
// by us whose comm is skiff-pause. Anything else means a stale pid file.
func isPause(pid int) bool { return isOurs(pid, pauseComm) }

// isOurs reports a live, non-zombie process owned by us named comm.
func isOurs(pid int, comm string) bool {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	var st syscall.Stat_t
	if syscall.Stat(path, &st) != nil || int(st.Uid) != os.Geteuid() {
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || len(s) < end+3 {
		return false
	}
	state := s[end+2]
	return s[open+1:end] == comm && state != 'Z' && state != 'X'
}

// Nested reports that this process started inside the namespace rather
// than joining it itself: its parent was inside (`skiff unshare`, a
// container's exit command), so the mounts it makes are visible to the
// commands that started it.
func Nested() bool { return inside() && C.skiff_userns_joined() == 0 }
