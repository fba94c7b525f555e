package e2e

// Helpers shared by the container cases (containers_*_test.go): polling,
// ps and inspect readers, the processes and mounts a runner's containers
// leave, and a real pseudo-terminal for -it.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var hexID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// eventually polls cond every 50 ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// psIDs are the full IDs `ps -a` lists.
func psIDs(t testing.TB, s *Skiff) []string {
	t.Helper()
	return s.Run("ps", "-a", "-q", "--no-trunc").MustSucceed(t).Lines()
}

// requireNoContainers fails unless `ps -a` lists nothing.
func requireNoContainers(t testing.TB, s *Skiff, after string) {
	t.Helper()
	if r := s.Run("ps", "-a"); r.ExitCode != 0 || len(r.Lines()) != 1 {
		t.Fatalf("after %s, ps -a should list no container:\n%s", after, r)
	}
}

// psRow is the `ps -a` line of one container (by name), "" when absent.
func psRow(t testing.TB, s *Skiff, name string) string {
	t.Helper()
	for _, l := range s.Run("ps", "-a").MustSucceed(t).Lines()[1:] {
		f := strings.Fields(l)
		if len(f) > 0 && f[len(f)-1] == name {
			return l
		}
	}
	return ""
}

// status is the STATUS column of a container, "" when ps -a lacks it.
func status(t testing.TB, s *Skiff, name string) string {
	t.Helper()
	return s.Run("ps", "-a", "--format", "{{.Names}}\t{{.Status}}").MustSucceed(t).statusOf(name)
}

func (r *Result) statusOf(name string) string {
	for _, l := range r.Lines() {
		if n, st, ok := strings.Cut(l, "\t"); ok && n == name {
			return st
		}
	}
	return ""
}

// waitStatus polls until the container's STATUS starts with prefix.
func waitStatus(t testing.TB, s *Skiff, name, prefix string, timeout time.Duration) {
	t.Helper()
	var last string
	deadline := time.Now().Add(timeout)
	for {
		r := s.Run("ps", "-a", "--format", "{{.Names}}\t{{.Status}}")
		if last = r.statusOf(name); strings.HasPrefix(last, prefix) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: status %q after %v, want %q…", name, last, timeout, prefix)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inspect decodes `inspect` of one container.
func inspect(t testing.TB, s *Skiff, ref string) map[string]any {
	t.Helper()
	r := s.Run("container", "inspect", ref).MustSucceed(t)
	var docs []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("inspect %s: %v\n%s", ref, err, r)
	}
	return docs[0]
}

// field follows a dotted path through an inspect document.
func field(doc map[string]any, path string) (any, bool) {
	var v any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// logsUntil polls `logs` until stdout contains want.
func logsUntil(t testing.TB, s *Skiff, name, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := s.Run("logs", name)
		if strings.Contains(r.Stdout, want) {
			return r.Stdout
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, logs lack %q\n%s", timeout, want, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// proc is a process seen in /proc.
type proc struct {
	pid   int
	args  []string
	start uint64
}

// procs lists live (not zombie) processes whose command line satisfies match.
func procs(match func(args []string) bool) []proc {
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		start, ok := startTime(pid)
		if !ok {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if match(args) {
			out = append(out, proc{pid: pid, args: args, start: start})
		}
	}
	return out
}

// startTime is field 22 of /proc/PID/stat; false for a zombie or no process.
func startTime(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	return v, err == nil
}

// alive reports whether p still runs (same pid, same start time).
func (p proc) alive() bool {
	st, ok := startTime(p.pid)
	return ok && st == p.start
}

// monitors are the runner's skiff-monitor processes (run or exec, the
// lean build's, or skiff-monitor-idle, which a running container's monitor
// becomes): their command line names a file under its run root.
func monitors(s *Skiff) []proc {
	return procs(func(args []string) bool {
		base := filepath.Base(args[0])
		return (base == "skiff-monitor" || base == "skiff-monitor-lean" || base == "skiff-monitor-idle") && len(args) == 3 && strings.HasPrefix(args[2], s.RunRoot+"/")
	})
}

// waitNoMonitors fails unless the runner's monitors are all gone within timeout.
func waitNoMonitors(t testing.TB, s *Skiff, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := monitors(s)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("skiff-monitor processes left after %v: %v", timeout, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mounts are the mount points below the runner's directory, seen from
// where skiff mounts: our namespace rootful, the pause's rootless.
func mounts(t testing.TB, s *Skiff) []string {
	t.Helper()
	var info string
	if s.Rootless() {
		info = s.Run("unshare", "cat", "/proc/self/mountinfo").MustSucceed(t).Stdout
	} else {
		b, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		info = string(b)
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		if mp := unescapeMount(f[4]); mp == s.Dir || strings.HasPrefix(mp, s.Dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

// containerMounts are the mounts of container root filesystems (overlay
// "merged" directories, or anything in a container's own directories).
func containerMounts(t testing.TB, s *Skiff) []string {
	t.Helper()
	var out []string
	for _, mp := range mounts(t, s) {
		if strings.HasSuffix(mp, "/merged") || strings.Contains(mp, "-containers/") || strings.HasPrefix(mp, s.RunRoot+"/") {
			out = append(out, mp)
		}
	}
	return out
}

// runState lists what exists of a container under the run root.
func runState(s *Skiff, id string) []string {
	var out []string
	for _, p := range []string{filepath.Join(s.RunRoot, "c", id), filepath.Join(s.RunRoot, "runc", id)} {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// requireClean fails if anything of the runner's containers is left:
// records, rootfs mounts, monitors, run-root state.
func requireClean(t testing.TB, s *Skiff, after string, ids ...string) {
	t.Helper()
	requireNoContainers(t, s, after)
	waitNoMonitors(t, s, 10*time.Second)
	if m := containerMounts(t, s); len(m) > 0 {
		t.Fatalf("after %s, container mounts are left: %q", after, m)
	}
	for _, id := range ids {
		if left := runState(s, id); len(left) > 0 {
			t.Fatalf("after %s, run-root state is left: %q", after, left)
		}
	}
	for _, dir := range []string{"c", "runc"} {
		entries, _ := os.ReadDir(filepath.Join(s.RunRoot, dir))
		for _, e := range entries {
			var names []string
			if inside, err := os.ReadDir(filepath.Join(s.RunRoot, dir, e.Name())); err == nil {
				for _, f := range inside {
					names = append(names, f.Name())
				}
			}
			t.Errorf("after %s, %s is left in the run root, holding %q", after, filepath.Join(dir, e.Name()), names)
		}
	}
}

// syncBuffer collects a background command's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls the buffer until it contains want.
func (b *syncBuffer) waitFor(t testing.TB, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, output lacks %q:\n%s", timeout, want, tail(b.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// background is a command the test started and waits for later.
type background struct {
	cmd    *exec.Cmd
	out    syncBuffer
	errOut syncBuffer
	start  time.Time
	done   chan struct{}
	code   int
	dur    time.Duration
}

// streamLine is one line of a streamed output and when it arrived.
type streamLine struct {
	At   time.Time
	Text string
}

// startStreaming starts cmd in the background with its stdout's lines sent
// to the channel as they arrive (closed at end of file).
func startStreaming(t testing.TB, cmd *exec.Cmd) (<-chan streamLine, *background) {
	t.Helper()
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	bg := startBackground(t, cmd)
	lines := make(chan streamLine, 100)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- streamLine{At: time.Now(), Text: sc.Text()}
		}
		close(lines)
	}()
	return lines, bg
}

// startBackground starts cmd with its output collected.
func startBackground(t testing.TB, cmd *exec.Cmd) *background {
	t.Helper()
	b := &background{cmd: cmd, done: make(chan struct{}), code: -1}
	if cmd.Stdout == nil {
		cmd.Stdout = &b.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &b.errOut
	}
	cmd.WaitDelay = 5 * time.Second // a leaked child holding the pipes must not hang us
	b.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		b.dur = time.Since(b.start)
		if cmd.ProcessState != nil {
			b.code = exitCode(cmd.ProcessState)
		}
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// wait waits for the command and returns its exit code.
func (b *background) wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-b.done:
		return b.code
	case <-time.After(timeout):
		t.Fatalf("%s still runs after %v\nstdout:\n%s\nstderr:\n%s", shellQuote(b.cmd.Args), timeout, tail(b.out.String(), 2000), tail(b.errOut.String(), 2000))
		return -1
	}
}

func (b *background) String() string {
	return fmt.Sprintf("$ %s\nexit %d after %v\n--- stdout\n%s\n--- stderr\n%s", shellQuote(b.cmd.Args), b.code,
		b.dur.Round(time.Millisecond), tail(b.out.String(), 3000), tail(b.errOut.String(), 3000))
}

// console is the master side of a pseudo-terminal whose slave is the
// controlling terminal and stdio of one command.
type console struct {
	master *os.File
	out    syncBuffer
	eof    chan struct{}
}

// openConsole opens a pty pair (80x24) with the slave owned by the runner's user.
func openConsole(t testing.TB, s *Skiff) (*console, *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	name := "/dev/pts/" + strconv.Itoa(n)
	slave, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatal(err)
	}
	if s.UID() != 0 {
		os.Chown(name, s.UID(), s.GID())
	}
	c := &console{master: master, eof: make(chan struct{})}
	go func() {
		defer close(c.eof)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			c.out.Write(buf[:n])
			if err != nil { // EIO once the last holder of the slave is gone
				return
			}
		}
	}()
	t.Cleanup(func() { master.Close() })
	return c, slave
}

// startOnConsole starts cmd with a new pty as its stdio and controlling terminal.
func startOnConsole(t testing.TB, s *Skiff, cmd *exec.Cmd) (*console, *background) {
	t.Helper()
	c, slave := openConsole(t, s)
	defer slave.Close()
	cmd.Stdin = slave
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	cmd.Stdout, cmd.Stderr = slave, slave
	b := startBackground(t, cmd)
	return c, b
}

// typeText writes to the terminal as a user types.
func (c *console) typeText(t testing.TB, text string) {
	t.Helper()
	if _, err := c.master.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// skiffShell is the command line of `skiff args...` for sh -c, with the
// runner's global flags.
func skiffShell(s *Skiff, args ...string) string {
	cmd := s.Cmd(args...)
	return shellQuote(append([]string{cmd.Path}, cmd.Args[1:]...))
}

// setup loads busybox into the runner's store and, rootful, makes sure no
// container process outlives the test: the harness stops what carries its
// marker or lives in the rootless user namespace, but the init of a
// rootful container whose monitor died (a failing test) has neither.
func setup(t *testing.T, s *Skiff) string {
	t.Helper()
	if !s.Rootless() {
		t.Cleanup(func() { killContainerProcesses(s) })
	}
	return s.LoadBusybox()
}

// killContainerProcesses SIGKILLs every process in the cgroup of one of
// the runner's containers (libcontainer names it after the container ID).
func killContainerProcesses(s *Skiff) {
	entries, _ := os.ReadDir(filepath.Join(s.Root, "storage", "overlay-containers"))
	var ids []string
	for _, e := range entries {
		if hexID.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	if len(ids) == 0 {
		return
	}
	for round := 0; round < 50; round++ {
		var victims []proc
		dir, _ := os.ReadDir("/proc")
		for _, e := range dir {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, _ := os.ReadFile("/proc/" + e.Name() + "/cgroup")
			for _, id := range ids {
				if bytes.Contains(b, []byte("/"+id+"\n")) {
					if st, ok := startTime(pid); ok {
						victims = append(victims, proc{pid: pid, start: st})
					}
					break
				}
			}
		}
		if len(victims) == 0 {
			return
		}
		for _, p := range victims {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
