package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// Healthchecks: the engine resolves a container's check (its flags over
// the image's HEALTHCHECK, Docker's merge) into a Healthcheck in its
// MonitorConfig; the monitor runs it as an exec into the container and
// records the outcome in a Health file beside the container's State:
//
//	<dir of StatePath>/health.json   Health, rewritten atomically after every check
//
// The monitor is the only writer: `skiff healthcheck run` asks it over the
// attach socket (FrameHealthcheck) instead of running the check itself.

// Healthcheck is Docker's Config.Healthcheck. Test is ["CMD", arg...],
// ["CMD-SHELL", command] (run by /bin/sh -c), ["NONE"] (no check), or
// empty (the image's). A zero duration or retry count is the default.
type Healthcheck struct {
	Test          []string      `json:"Test,omitempty"`
	Interval      time.Duration `json:"Interval,omitempty"`
	Timeout       time.Duration `json:"Timeout,omitempty"`
	StartPeriod   time.Duration `json:"StartPeriod,omitempty"`
	StartInterval time.Duration `json:"StartInterval,omitempty"`
	Retries       int           `json:"Retries,omitempty"`
}

// Docker's defaults for the zero values of a Healthcheck.
const (
	DefaultHealthInterval      = 30 * time.Second
	DefaultHealthTimeout       = 30 * time.Second
	DefaultHealthStartInterval = 5 * time.Second
	DefaultHealthRetries       = 3
	// MinHealthDuration is the shortest interval, timeout, start period
	// or start interval Docker accepts (other than 0, the default).
	MinHealthDuration = time.Millisecond
	// MaxHealthOutput is how much of a check's output is kept, as Docker.
	MaxHealthOutput = 4096
	// MaxHealthLog is how many results Health keeps, as Docker.
	MaxHealthLog = monitorio.MaxHealthLog
)

// Disabled reports a check that is "NONE" (or has no test at all).
func (h *Healthcheck) Disabled() bool {
	return h == nil || len(h.Test) == 0 || h.Test[0] == "NONE"
}

// Argv is the command a check runs.
func (h *Healthcheck) Argv() ([]string, error) {
	switch {
	case h.Disabled():
		return nil, errors.New("no healthcheck")
	case h.Test[0] == "CMD" && len(h.Test) > 1:
		return h.Test[1:], nil
	case h.Test[0] == "CMD-SHELL" && len(h.Test) == 2:
		return []string{"/bin/sh", "-c", h.Test[1]}, nil
	}
	return nil, fmt.Errorf("healthcheck test %q: use [\"CMD\", arg...], [\"CMD-SHELL\", command] or [\"NONE\"]", h.Test)
}

// Check validates a Healthcheck with Docker's rules and messages.
func (h *Healthcheck) Check() error {
	if h == nil {
		return nil
	}
	if len(h.Test) > 0 && h.Test[0] != "NONE" {
		if _, err := h.Argv(); err != nil {
			return err
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}, {"StartInterval", h.StartInterval}} {
		if d.v != 0 && d.v < MinHealthDuration {
			return fmt.Errorf("%s in Healthcheck cannot be less than %s", d.name, MinHealthDuration)
		}
	}
	if h.Retries < 0 {
		return errors.New("Retries in Healthcheck cannot be negative")
	}
	return nil
}

// WithDefaults fills the zero fields with Docker's defaults.
func (h Healthcheck) WithDefaults() Healthcheck {
	if h.Interval == 0 {
		h.Interval = DefaultHealthInterval
	}
	if h.Timeout == 0 {
		h.Timeout = DefaultHealthTimeout
	}
	if h.StartInterval == 0 {
		h.StartInterval = DefaultHealthStartInterval
	}
	if h.Retries == 0 {
		h.Retries = DefaultHealthRetries
	}
	return h
}

// What the monitor does when a check finds the container unhealthy
// (podman's --health-on-failure).
const (
	HealthOnFailureNone    = "none"
	HealthOnFailureKill    = "kill"
	HealthOnFailureRestart = "restart"
	HealthOnFailureStop    = "stop"
)

// HealthOnFailureActions are the valid actions.
var HealthOnFailureActions = []string{HealthOnFailureNone, HealthOnFailureKill, HealthOnFailureRestart, HealthOnFailureStop}

// Health statuses, Docker's.
const (
	HealthNone      = monitorio.HealthNone // no healthcheck (ps --filter health=none)
	HealthStarting  = monitorio.HealthStarting
	HealthHealthy   = monitorio.HealthHealthy
	HealthUnhealthy = monitorio.HealthUnhealthy
)

// Health is Docker's State.Health.
type Health struct {
	Status        string         `json:"Status"`
	FailingStreak int            `json:"FailingStreak"`
	Log           []HealthResult `json:"Log"`
}

// HealthResult is one check, Docker's keys. ExitCode -1: the check could
// not run or did not end within its timeout.
type HealthResult struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

// HealthPath is where the monitor of the container whose State is at
// statePath records its Health.
func HealthPath(statePath string) string {
	return filepath.Join(filepath.Dir(statePath), "health.json")
}

// WriteHealth records h at path atomically.
func WriteHealth(path string, h Health) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b, 0o600, false)
}

// ReadHealth reads a Health; a missing file is (nil, nil).
func ReadHealth(path string) (*Health, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h Health
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("health %s: %w", path, err)
	}
	return &h, nil
}

// HealthReply answers a FrameHealthcheck: the check's result and the
// status it left, or Error when no check could be run.
type HealthReply struct {
	Status string       `json:"status,omitempty"`
	Result HealthResult `json:"result"`
	Error  string       `json:"error,omitempty"`
}

// Healthcheck asks the monitor for a check now (FrameHealthcheck) and
// waits for its answer, skipping the container's output, which the monitor
// sends every client.
func (a *AttachConn) Healthcheck() (HealthReply, error) {
	var reply HealthReply
	if err := WriteFrame(a.c, FrameHealthcheck, nil); err != nil {
		return reply, err
	}
	for {
		typ, payload, err := a.ReadFrame()
		if err != nil {
			return reply, err
		}
		if typ == FrameHealthcheck {
			return reply, json.Unmarshal(payload, &reply)
		}
	}
}
