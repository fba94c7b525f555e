package monitorio

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// HandoffEnv carries a Handoff across execve: skiff-monitor sets it when
// it becomes skiff-monitor-idle once its container runs, and the idle
// monitor when it becomes skiff-monitor again (the init exited, or a
// restart is due). Either unsets it at once: no child inherits it.
const HandoffEnv = "_SKIFF_MONITOR_HANDOFF"

// IdleBinary is the idle monitor's name, installed beside skiff-monitor.
const IdleBinary = "skiff-monitor-idle"

// A Handoff is what one monitor program passes the next: execve keeps the
// process (its pid and start time, which State records), its children (the
// container's init, which the kernel lets only its parent wait for) and
// every descriptor without close-on-exec; the Handoff names those
// descriptors and carries the run's state. The idle monitor reads no JSON:
// the part of the container's MonitorConfig it needs travels here too.
type Handoff struct {
	Config  string // the MonitorConfig's path (monitor.json)
	Monitor string // skiff-monitor's path, which the idle monitor becomes again

	Pid          int // the container's init, a child of this process
	StartedAt    time.Time
	RestartCount int
	Backoff      time.Duration // the last restart's wait (it doubles)

	// Descriptors, -1 for none. Stdin == Pty with a terminal.
	Listener, Notify, Stdin, Pty int
	Stdout, Stderr               int // output still to copy
	Clients                      []HandoffClient
	Height, Width                uint16 // terminal size a client asked for

	StopRequested    bool // SIGTERM came: no restart
	RestartRequested bool // --health-on-failure=restart killed the init

	// SetGOMAXPROCS: skiff-monitor put GOMAXPROCS=1 in the idle monitor's
	// environment (one P: an idle monitor needs no parallelism, and the
	// runtime's second P costs some 200 kB from the start), which the idle
	// monitor removes before any child sees it.
	SetGOMAXPROCS bool

	// From the MonitorConfig, for the idle monitor.
	ID, EventSpool, HealthPath string
	LogDriver, LogPath         string
	LogMaxSize                 int64
	LogMaxFiles                int
	StopSignal                 int
	StopTimeout                time.Duration
	Timeout                    time.Duration // kill the init once it ran this long; 0: never
	NotifySocket               string
	Health                     HandoffHealth // Interval 0: no healthcheck
	HealthOnFailure            string
}

// HandoffClient is an attach connection.
type HandoffClient struct {
	Fd    int
	Owner bool // sent FrameCleanupOwner
}

// HandoffHealth is a healthcheck's schedule, defaults filled in.
type HandoffHealth struct {
	Interval, Timeout, StartPeriod, StartInterval time.Duration
	Retries                                       int
	// Status and FailingStreak carry on a run's health when the monitor
	// goes idle after its start ("": a new run, which starts over).
	Status        string
	FailingStreak int
}

// Encode is the Handoff as HandoffEnv's value: "key=value" lines.
func (h *Handoff) Encode() string {
	var b []byte
	str := func(k, v string) { b = strconv.AppendQuote(append(append(b, k...), '='), v); b = append(b, '\n') }
	num := func(k string, v int64) {
		b = strconv.AppendInt(append(append(b, k...), '='), v, 10)
		b = append(b, '\n')
	}
	flag := func(k string, v bool) {
		if v {
			num(k, 1)
		}
	}
	str("config", h.Config)
	str("monitor", h.Monitor)
	num("pid", int64(h.Pid))
	num("started", h.StartedAt.UnixNano())
	num("restarts", int64(h.RestartCount))
	num("backoff", int64(h.Backoff))
	num("listener", int64(h.Listener))
	num("notify", int64(h.Notify))
	num("stdin", int64(h.Stdin))
	num("pty", int64(h.Pty))
	num("stdout", int64(h.Stdout))
	num("stderr", int64(h.Stderr))
	for _, c := range h.Clients {
		key := "client"
		if c.Owner {
			key = "owner"
		}
		num(key, int64(c.Fd))
	}
	num("height", int64(h.Height))
	num("width", int64(h.Width))
	flag("stop", h.StopRequested)
	flag("restart", h.RestartRequested)
	flag("gomaxprocs", h.SetGOMAXPROCS)
	str("id", h.ID)
	str("spool", h.EventSpool)
	str("health_path", h.HealthPath)
	str("log_driver", h.LogDriver)
	str("log_path", h.LogPath)
	num("log_max_size", h.LogMaxSize)
	num("log_max_files", int64(h.LogMaxFiles))
	num("stop_signal", int64(h.StopSignal))
	num("stop_timeout", int64(h.StopTimeout))
	num("timeout", int64(h.Timeout))
	str("notify_socket", h.NotifySocket)
	num("health_interval", int64(h.Health.Interval))
	num("health_timeout", int64(h.Health.Timeout))
	num("health_start_period", int64(h.Health.StartPeriod))
	num("health_start_interval", int64(h.Health.StartInterval))
	num("health_retries", int64(h.Health.Retries))
	str("health_status", h.Health.Status)
	num("health_streak", int64(h.Health.FailingStreak))
	str("health_on_failure", h.HealthOnFailure)
	return string(b)
}

// DecodeHandoff reads what Encode wrote.
func DecodeHandoff(s string) (Handoff, error) {
	h := Handoff{Listener: -1, Notify: -1, Stdin: -1, Pty: -1, Stdout: -1, Stderr: -1}
	for _, line := range strings.Split(s, "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return h, errors.New("handoff: bad line " + strconv.Quote(line))
		}
		var err error
		if strings.HasPrefix(v, `"`) {
			var sv string
			if sv, err = strconv.Unquote(v); err == nil {
				err = h.setString(k, sv)
			}
		} else {
			var n int64
			if n, err = strconv.ParseInt(v, 10, 64); err == nil {
				err = h.setNumber(k, n)
			}
		}
		if err != nil {
			return h, errors.New("handoff: " + k + ": " + err.Error())
		}
	}
	if h.Pid <= 0 || h.Config == "" {
		return h, errors.New("handoff: no pid or config")
	}
	return h, nil
}

func (h *Handoff) setString(k, v string) error {
	p := map[string]*string{"config": &h.Config, "monitor": &h.Monitor, "id": &h.ID, "spool": &h.EventSpool,
		"health_path": &h.HealthPath, "log_driver": &h.LogDriver, "log_path": &h.LogPath,
		"notify_socket": &h.NotifySocket, "health_on_failure": &h.HealthOnFailure, "health_status": &h.Health.Status}[k]
	if p == nil {
		return errors.New("unknown key")
	}
	*p = v
	return nil
}

func (h *Handoff) setNumber(k string, n int64) error {
	ints := map[string]*int{"pid": &h.Pid, "restarts": &h.RestartCount, "listener": &h.Listener, "notify": &h.Notify,
		"stdin": &h.Stdin, "pty": &h.Pty, "stdout": &h.Stdout, "stderr": &h.Stderr, "log_max_files": &h.LogMaxFiles,
		"stop_signal": &h.StopSignal, "health_retries": &h.Health.Retries, "health_streak": &h.Health.FailingStreak}
	durations := map[string]*time.Duration{"backoff": &h.Backoff, "stop_timeout": &h.StopTimeout, "timeout": &h.Timeout,
		"health_interval": &h.Health.Interval, "health_timeout": &h.Health.Timeout,
		"health_start_period": &h.Health.StartPeriod, "health_start_interval": &h.Health.StartInterval}
	switch k {
	case "started":
		h.StartedAt = time.Unix(0, n).UTC()
	case "client", "owner":
		h.Clients = append(h.Clients, HandoffClient{Fd: int(n), Owner: k == "owner"})
	case "height":
		h.Height = uint16(n)
	case "width":
		h.Width = uint16(n)
	case "stop":
		h.StopRequested = n != 0
	case "restart":
		h.RestartRequested = n != 0
	case "gomaxprocs":
		h.SetGOMAXPROCS = n != 0
	case "log_max_size":
		h.LogMaxSize = n
	default:
		if p := ints[k]; p != nil {
			*p = int(n)
		} else if p := durations[k]; p != nil {
			*p = time.Duration(n)
		} else {
			return errors.New("unknown key")
		}
	}
	return nil
}
