package runtime

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
)

// This file is the engine's side of the start-up handshake (described at
// the top of monitor.go): forking the monitor, handing it its config, and
// reading what it reports.

// MonitorProcess is a skiff-monitor forked ahead of need: its runtime starts
// while the engine prepares the container, and it waits on its control pipe
// until its config is written. Pid and Start name it (a pid plus its start
// time is never reused); the monitor records the same pair in State.
type MonitorProcess struct {
	ID    string // the container it is for
	Pid   int
	Start uint64
	bin   string
	ctl   *os.File // write end of the control pipe (MonitorControlFd)
	sync  *os.File // read end of the handshake pipe (its fd 3)
	// warm ends this process's WarmCgroupAttach, begun before the fork:
	// the grace period it waits for then runs while the monitor starts
	// up and the engine creates the container, and the monitor's own
	// warming (from its start until the container is in its cgroups)
	// finds the lock on its fast path.
	warm func()
}

// MonitorBinary finds skiff-monitor (see HelperBinary).
func MonitorBinary() (string, error) { return HelperBinary("skiff-monitor") }

// LeanMonitor is skiff-monitor built without the network's code (the
// skiff_nonet tag): half its size, so it starts the sooner, and so does
// the container init libcontainer re-executes it as. It runs execs and
// the containers that have no network of their own; one handed a network
// becomes skiff-monitor (execve).
const LeanMonitor = "skiff-monitor-lean"

// LeanMonitorBinary finds skiff-monitor-lean, or skiff-monitor where it
// is not installed (it does all the lean one does).
func LeanMonitorBinary() (string, error) {
	if p, err := HelperBinary(LeanMonitor); err == nil {
		return p, nil
	}
	return MonitorBinary()
}

// HelperBinary finds one of skiff's other programs (skiff-monitor,
// skiff-full) beside the running binary, then on PATH, then in the libexec
// directories.
func HelperBinary(name string) (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/libexec/skiff", "/usr/local/libexec/skiff"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found beside skiff or on PATH: install all of skiff's binaries (make install): %w", name, errdefs.ErrNotFound)
}

// ForkMonitor starts the monitor of container id, whose config will be
// runDir/monitor.json, in its own session: skiff-monitor when network
// (the container will have a network for it to set up, MonitorConfig.
// Network), else skiff-monitor-lean, which becomes skiff-monitor when it
// finds a network after all. stdio are the caller's stdin, stdout and
// stderr for the passthrough log driver (PassthroughFds), nil otherwise.
// A monitor that is never handed a config must be abandoned.
func ForkMonitor(id, runDir string, network bool, stdio []*os.File) (*MonitorProcess, error) {
	find := LeanMonitorBinary
	if network {
		find = MonitorBinary
	}
	bin, err := find()
	if err != nil {
		return nil, err
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		syncR.Close()
		syncW.Close()
		return nil, err
	}
	warm := WarmCgroupAttach()
	pid, start, err := forkMonitor(bin, filepath.Join(runDir, "monitor.json"), append([]*os.File{syncW, ctlR}, stdio...))
	syncW.Close()
	ctlR.Close()
	if err != nil {
		warm()
		syncR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	return &MonitorProcess{ID: id, Pid: pid, Start: start, bin: bin, ctl: ctlW, sync: syncR, warm: warm}, nil
}

// forkMonitor starts bin with the argument config in its own session, its
// stdio on /dev/null and extra as its fds 3, 4, ..., and returns its pid
// and start time; it reaps the monitor if it exits while we still run. It is syscall's fork and exec, not os/exec's:
// a process's first os.StartProcess checks that pidfds work by forking a
// child that exits at once, 0.15 ms of every run's way to its create, and
// the monitor's pid is all the engine keeps of it (with its start time:
// pids are checked with that pair, never a handle).
func forkMonitor(bin, config string, extra []*os.File) (pid int, start uint64, err error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer null.Close()
	files := []uintptr{null.Fd(), null.Fd(), null.Fd()}
	for _, f := range extra {
		files = append(files, f.Fd())
	}
	// Its arguments name its container, for ps and for whoever looks.
	pid, _, err = syscall.StartProcess(bin, []string{bin, "run", config}, &syscall.ProcAttr{
		Env:   append(os.Environ(), MonitorControlEnv+"="+strconv.Itoa(MonitorControlFd)),
		Files: files,
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return 0, 0, err
	}
	start = ProcessStartTime(pid) // before it can be reaped
	go func() {
		var ws syscall.WaitStatus
		for {
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
				return
			}
		}
	}()
	return pid, start, nil
}

// Abandon tells an unused monitor to exit (it reads the end of its control
// pipe). Safe on nil and after use.
func (m *MonitorProcess) Abandon() {
	if m == nil || m.ctl == nil {
		return
	}
	m.warm()
	m.ctl.Close()
	m.sync.Close()
	m.ctl, m.sync = nil, nil
}

// Go tells the monitor that mc is written and reads its report: with
// WaitAttach it returns once the monitor waits for its attach ("ready"),
// else once the container runs. A failed start is a *StartError.
func (m *MonitorProcess) Go(mc MonitorConfig) error {
	if m == nil || m.ctl == nil || m.ID != mc.ID {
		return fmt.Errorf("no monitor was started for container %s", mc.ID)
	}
	defer m.warm() // the monitor warms on its own until the start
	_, err := m.ctl.WriteString("go\n")
	m.ctl.Close()
	m.ctl = nil
	defer func() { m.sync.Close(); m.sync = nil }()
	if err != nil {
		return fmt.Errorf("the container monitor (%s) exited before it got its config: %w", m.bin, err)
	}
	r := bufio.NewReader(m.sync)
	line := readLine(r)
	if line == "" {
		return fmt.Errorf("the container monitor exited during start-up (see %s)", mc.StatePath)
	}
	if line == "ready" {
		if mc.WaitAttach {
			return nil
		}
		line = readLine(r)
	}
	if strings.HasPrefix(line, "started ") {
		return nil
	}
	return ParseStartError(strings.TrimPrefix(line, "error "))
}

func readLine(r *bufio.Reader) string {
	line, _ := r.ReadString('\n')
	return strings.TrimSpace(line)
}

// StartError is a container process that could not be started, with
// Docker's exit code for it: 127 the command was not found, 126 it cannot be
// invoked, 125 anything else. The monitor classifies libcontainer's error
// where it happens and reports code and message ("<code> <message>" on the
// handshake pipe and in FrameError).
type StartError struct {
	Code    int
	Message string
}

func (e *StartError) Error() string { return e.Message }

// ExitCode is the code a CLI exits with.
func (e *StartError) ExitCode() int { return e.Code }

// Encode is the wire form.
func (e *StartError) Encode() string { return strconv.Itoa(e.Code) + " " + e.Message }

// NewStartError classifies a failure to start a process.
func NewStartError(err error) *StartError {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	return &StartError{Code: StartExitCode(msg), Message: msg}
}

// ParseStartError reads the wire form; a message without a code is an
// engine failure (125).
func ParseStartError(s string) *StartError {
	code, msg, ok := strings.Cut(s, " ")
	if n, err := strconv.Atoi(code); ok && err == nil && n >= 125 && n <= 127 {
		return &StartError{Code: n, Message: msg}
	}
	if s == "" {
		s = "the container monitor exited without starting the container"
	}
	return &StartError{Code: 125, Message: s}
}
