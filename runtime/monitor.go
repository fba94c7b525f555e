// Package runtime turns a container's configuration into an OCI runtime
// spec and drives libcontainer with it. It knows nothing of images or
// registries: the engine hands it a root filesystem path and an image config.
//
// This file is the contract between the engine (in the skiff CLI) and
// skiff-monitor, the per-container process that calls libcontainer:
//
//	<RunDir>/                      one per container, under the run root
//	    monitor.json               MonitorConfig, written by the engine before the fork
//	    attach.sock                the monitor's attach socket (protocol below)
//	    monitor.pid                the monitor's pid, written by the monitor
//	    stop-requested             the user's stop: the restart policy ends (StopRequestFile)
//	    restart-policy             an update's restart policy, read at each exit (RestartPolicyFile)
//	<Bundle>/config.json           the OCI runtime spec (Root.Path is absolute)
//	<StatePath>                    State, rewritten atomically by the monitor at each change
//	<StateRoot>/<id>/              libcontainer's own state
//
// Start-up handshake: the engine starts skiff-monitor (argv: "skiff-monitor",
// "run", <RunDir>/monitor.json) with fd 3 the write end of a pipe and fd 4
// the read end of another (MonitorControlFd), in its own session, before it
// has written monitor.json (the monitor's start-up overlaps that work); it
// then writes "go" to fd 4 and closes it. The monitor writes "ready" (or an error) to fd 3; without
// WaitAttach a second line ("started" or "error") follows, then fd 3 closes:
//
//	"ready\n"        the attach socket listens; with MonitorConfig.WaitAttach the
//	                 monitor now waits for one attach connection before starting
//	"started <pid>\n" the container process runs (pid in the caller's pid namespace)
//	"error <message>\n" nothing runs; the monitor exits after recording State
//
// With WaitAttach the monitor writes "ready\n", accepts one connection, starts
// the container, and then reports "started"/"error" on the attach socket as a
// FrameStarted/FrameError frame (fd 3 is closed after "ready"). A failed
// start is recorded in State (exited, 125/126/127, Error), followed by
// FrameExit with that code, and the exit command still runs.
package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// MonitorConfig is everything skiff-monitor needs to run one container.
type MonitorConfig struct {
	ID        string `json:"id"`
	Bundle    string `json:"bundle"`     // directory with config.json (the OCI spec)
	StateRoot string `json:"state_root"` // libcontainer root directory
	RunDir    string `json:"run_dir"`    // attach.sock, monitor.pid
	StatePath string `json:"state_path"` // where State is recorded (survives a reboot, except a --rm container's)

	// LogDriver passthrough: the engine passes its caller's stdin, stdout
	// and stderr as fds 5, 6 and 7 (PassthroughFds), and they become the
	// container's own (no pipes, no log, nothing for attach to stream).
	LogDriver   string `json:"log_driver"` // json-file (default), k8s-file, none, passthrough
	LogPath     string `json:"log_path"`
	LogMaxSize  int64  `json:"log_max_size"`  // bytes; 0 = unlimited
	LogMaxFiles int    `json:"log_max_files"` // Docker's max-file: files in all, current included; <= 1 truncates in place

	Terminal   bool `json:"terminal"`    // allocate a pty (run -t)
	Stdin      bool `json:"stdin"`       // keep stdin open for attach (run -i)
	WaitAttach bool `json:"wait_attach"` // foreground run: wait for the first attach before starting

	// StopSignal and StopTimeout (seconds) are the container's: SIGTERM to
	// the monitor (a system shutdown) stops it as `skiff stop` does, the
	// stop signal, then SIGKILL after the timeout. "" and nil: SIGTERM, 10.
	StopSignal  string `json:"stop_signal,omitempty"`
	StopTimeout *int   `json:"stop_timeout,omitempty"`

	// Timeout (seconds, podman's --timeout): the container gets SIGKILL
	// when it runs longer; 0: no limit.
	Timeout int `json:"timeout,omitempty"`

	// Volatile: the container is removed when it exits (--rm), so its
	// final state need not survive a crash (no fsync).
	Volatile bool `json:"volatile,omitempty"`

	// Rootless: inside skiff's user namespace, cgroups are not delegated.
	Rootless bool `json:"rootless"`

	// Network, when set, is set up by the monitor between the init's
	// creation and its command's start, and torn down at its exit: a
	// netns.Config in JSON, which only the monitor that sets it up reads
	// (see ForkMonitor), so that this package, which the lean monitor
	// links, does not link the network's.
	Network json.RawMessage `json:"network,omitempty"`

	// ExitCommand runs after the container exited and State is recorded,
	// unless an attached client sent FrameCleanupOwner (it cleans up itself).
	// It unmounts the rootfs, releases the run directory and libcontainer
	// state, and removes --rm containers.
	ExitCommand []string `json:"exit_command,omitempty"`

	// RestartPolicy is run by the monitor: after the container exits it
	// may start it again (see StatusRestarting, StopRequestFile).
	RestartPolicy RestartPolicy `json:"restart_policy,omitzero"`

	// EventSpool is the directory where the monitor records the events it
	// alone sees (see WriteSpoolEvent); "" records none.
	EventSpool string `json:"event_spool,omitempty"`

	// Healthcheck, when set and not disabled, is run by the monitor while
	// the container runs (see health.go), with Docker's defaults for its
	// zero fields; HealthOnFailure is podman's action when it finds the
	// container unhealthy ("" is none).
	Healthcheck     *Healthcheck `json:"healthcheck,omitempty"`
	HealthOnFailure string       `json:"health_on_failure,omitempty"`

	// NotifySocket is systemd's NOTIFY_SOCKET given to the start ("": none).
	// The monitor sends it MAINPID=<its pid> and READY=1 once the
	// container's process runs; with NotifyContainer it relays instead what
	// the container sends to <RunDir>/NotifyDir/NotifySocketName (mounted
	// at ContainerNotifySocket), MAINPID still its own.
	NotifySocket    string `json:"notify_socket,omitempty"`
	NotifyContainer bool   `json:"notify_container,omitempty"`
}

// The socket a container that notifies systemd itself (--sdnotify
// container) sends to: the monitor listens in NotifyDir of its run
// directory, which the container sees at the directory of
// ContainerNotifySocket.
const (
	NotifyDir             = "notify"
	NotifySocketName      = "notify.sock"
	ContainerNotifySocket = "/run/notify/" + NotifySocketName
)

// MonitorControlFd: when open, the monitor waits for "go" on it (then end
// of file) before it reads its MonitorConfig; an end of file without "go"
// means the engine gave up, and the monitor exits.
const MonitorControlFd = 4

// MonitorControlEnv is set to "4" in the environment of a monitor given a
// control pipe.
const MonitorControlEnv = "_SKIFF_MONITOR_CONTROL_FD"

// PassthroughFds are where the monitor finds its caller's stdin, stdout and
// stderr with the passthrough log driver.
var PassthroughFds = [3]uintptr{5, 6, 7}

// Status is a container's lifecycle state. The monitor records only
// running, restarting and exited in its State file; the others are the
// engine's, kept in its state database (see engine/lifecycle.go for the transitions).
type Status string

const (
	StatusCreated  Status = "created"
	StatusStarting Status = "starting" // a start holds a monitor that has not started the process yet
	StatusRunning  Status = "running"
	StatusPaused   Status = "paused"
	StatusStopping Status = "stopping" // stop sent the stop signal and waits
	StatusExited   Status = "exited"
	StatusRemoving Status = "removing" // rm is under way (or was interrupted)

	// StatusRestarting: the monitor waits out the restart policy's backoff
	// between two runs (recorded by the monitor; counts as running).
	StatusRestarting Status = "restarting"
)

func (s Status) String() string { return string(s) }

// State is the record of a container's last run, written by the monitor.
type State struct {
	Status       Status    `json:"status"`
	MonitorPid   int       `json:"monitor_pid,omitempty"`
	MonitorStart uint64    `json:"monitor_start,omitempty"` // /proc/PID/stat field 22, guards pid reuse
	Pid          int       `json:"pid,omitempty"`
	StartedAt    time.Time `json:"started_at,omitzero"`
	FinishedAt   time.Time `json:"finished_at,omitzero"`
	ExitCode     int       `json:"exit_code"`
	OOMKilled    bool      `json:"oom_killed,omitempty"`
	Error        string    `json:"error,omitempty"`
	// RestartCount is how often this run's monitor restarted the container
	// (its restart policy, or a healthcheck's restart); a user's start
	// begins again at 0, as Docker's does.
	RestartCount int `json:"restart_count,omitempty"`
	// ManuallyStopped: the run ended because the user stopped, killed or
	// removed it (StopRequestFile), which ends an unless-stopped policy
	// for good (`skiff system boot` leaves the container alone).
	ManuallyStopped bool `json:"manually_stopped,omitempty"`
}

// WriteState records st at path atomically. durable adds the fsyncs: for
// what must survive a crash (an exit status); a running state lost in a
// crash reads as the previous state, and a dead monitor makes that exited
// anyway.
func WriteState(path string, st State, durable bool) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b, 0o600, durable)
}

// WriteFileAtomic replaces path with data through a temporary file and a
// rename, so that a reader sees the old content or the new, never a part.
// durable fsyncs the file before the rename and the directory after it, so
// that the new content survives a crash of the machine too.
func WriteFileAtomic(path string, data []byte, perm os.FileMode, durable bool) error {
	return monitorio.WriteFileAtomic(path, data, perm, durable)
}

// ReadState reads a State; a missing file is a container never started.
func ReadState(path string) (State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return State{Status: StatusCreated}, nil
	}
	if err != nil {
		return State{}, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("state %s: %w", path, err)
	}
	return st, nil
}

// Attach protocol: the frames are monitorio's (described there), which
// skiff-monitor-idle shares.
const (
	FrameStdin        = monitorio.FrameStdin
	FrameStdout       = monitorio.FrameStdout
	FrameStderr       = monitorio.FrameStderr
	FrameExit         = monitorio.FrameExit
	FrameStdinClose   = monitorio.FrameStdinClose
	FrameResize       = monitorio.FrameResize
	FrameCleanupOwner = monitorio.FrameCleanupOwner
	FrameStarted      = monitorio.FrameStarted
	FrameError        = monitorio.FrameError
	FrameHealthcheck  = monitorio.FrameHealthcheck
	// MaxFrame bounds a frame's payload so a bad peer cannot make us allocate.
	MaxFrame = monitorio.MaxFrame
)

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, typ byte, payload []byte) error {
	return monitorio.WriteFrame(w, typ, payload)
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (byte, []byte, error) { return monitorio.ReadFrame(r) }

// DNSConfig is a user network's name server, run as `skiff-monitor dns
// <file>` in the namespace of the network's bridge (see netns.StartDNS).
type DNSConfig struct {
	Addr      string       `json:"addr"`       // the network's gateway (port 53)
	HostsFile string       `json:"hosts_file"` // the names of the network's running containers, kept by the engine
	Subnet    netip.Prefix `json:"subnet"`     // reverse lookups answered
	Upstream  []string     `json:"upstream"`   // the host's name servers, for every other name
	PidFile   string       `json:"pid_file"`   // written once it serves, removed when it exits
	// SharedNetns, rootless, is the directory of the shared network
	// namespace that holds the network's bridge (netns.SharedConfig.Dir).
	SharedNetns string `json:"shared_netns,omitempty"`
	// Peers is the directory of every network's names file, for clients
	// on several networks (netns.DNSConfig.Peers).
	Peers string `json:"peers,omitempty"`
}
