package e2e

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cleanup stops what the test started and removes its directory.
// SKIFF_E2E_KEEP=1 keeps the directory (processes are stopped anyway).
func (s *Skiff) cleanup() {
	// Containers still there are removed by skiff first: killed below
	// instead, a rootful container would leave its cgroups on the host
	// (1810 empty directories under /sys/fs/cgroup/*/skiff after a day of
	// make test, from tests that end with a container running).
	s.quiet("rm", "-a", "-f")
	namespaces := pauseNamespaces(s.Dir)
	if _, err := os.Stat(filepath.Join(s.RunRoot, "pause.pid")); err == nil && s.Mode == Rootless {
		if s.account.cred == nil && os.Geteuid() != 0 {
			// Files owned by subordinate ids: only the namespace can remove them.
			s.quiet("unshare", "rm", "-rf", s.Root, s.RunRoot)
		}
		s.quiet("system", "migrate")
	}
	s.killStarted()
	stopProcesses(s.Dir, namespaces)
	unmountBelow(s.Dir)
	if os.Getenv("SKIFF_E2E_KEEP") != "" {
		s.t.Logf("SKIFF_E2E_KEEP: kept %s", s.Dir)
		return
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		s.t.Errorf("cleanup: %v", err)
	}
}

// quiet runs skiff for cleanup, ignoring the outcome, with a short timeout.
func (s *Skiff) quiet(args ...string) {
	cmd := s.Cmd(args...)
	if err := cmd.Start(); err != nil {
		return
	}
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	cmd.Wait()
	timer.Stop()
}

// pauseNamespaces are the user namespaces of the live pause processes
// recorded below dir (a test's directory, or a whole run's).
func pauseNamespaces(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "run", "skiff", "pause.pid"))
	more, _ := filepath.Glob(filepath.Join(dir, "*", "run", "skiff", "pause.pid"))
	self, _ := os.Readlink("/proc/self/ns/user")
	var out []string
	for _, f := range append(files, more...) {
		b, _ := os.ReadFile(f)
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
		ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/user")
		// A recycled pid or a pause outside any namespace must not make us kill the host.
		if err == nil && ns != self && strings.TrimSpace(string(comm)) == "skiff-pause" {
			out = append(out, ns)
		}
	}
	return out
}

// stopProcesses SIGKILLs, until none is left, every process whose
// environment says it belongs to dir (or below), every process in one of
// the user namespaces, and all their descendants.
func stopProcesses(dir string, userNS []string) {
	for round := 0; round < 100; round++ {
		victims := testProcesses(dir, userNS)
		if len(victims) == 0 {
			return
		}
		for _, pid := range victims {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testProcesses(dir string, userNS []string) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	var roots []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 1 || pid == os.Getpid() {
			continue
		}
		ppid, state, ok := procStat(pid)
		if !ok || state == 'Z' || state == 'X' {
			continue
		}
		children[ppid] = append(children[ppid], pid)
		if belongs(pid, dir, userNS) {
			roots = append(roots, pid)
		}
	}
	seen := map[int]bool{}
	for len(roots) > 0 {
		pid := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		if !seen[pid] {
			seen[pid] = true
			roots = append(roots, children[pid]...)
		}
	}
	var out []int
	for pid := range seen {
		out = append(out, pid)
	}
	slices.Sort(out)
	return out
}

func belongs(pid int, dir string, userNS []string) bool {
	p := "/proc/" + strconv.Itoa(pid)
	if len(userNS) > 0 {
		if ns, err := os.Readlink(p + "/ns/user"); err == nil && slices.Contains(userNS, ns) {
			return true
		}
	}
	env, err := os.ReadFile(p + "/environ")
	if err != nil {
		return false
	}
	for kv := range bytes.SplitSeq(env, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(markerEnv+"=")); ok {
			return string(v) == dir || strings.HasPrefix(string(v), dir+"/")
		}
	}
	return false
}

// procStat reads the parent pid and state from /proc/<pid>/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')') // comm may hold spaces and parentheses
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// unmountBelow detaches every mount at or below dir in our mount
// namespace, deepest first. Rootless mounts live in the pause's namespace
// and went away with it.
func unmountBelow(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			points = append(points, mp)
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, mp := range points {
		syscall.Unmount(mp, syscall.MNT_DETACH)
	}
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
