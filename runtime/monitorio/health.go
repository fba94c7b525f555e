package monitorio

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// Health statuses, Docker's.
const (
	HealthNone      = "none" // no healthcheck (ps --filter health=none)
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// MaxHealthLog is how many results a Health file keeps, as Docker.
const MaxHealthLog = 5

// NextHealth applies one check's outcome by Docker's rules to a status
// and failing streak: a pass makes the container healthy; a failure adds
// to the streak, and the retries-th in a row makes it unhealthy, except
// that failures in the start period before any pass do not count
// (inStartPeriod: the check started within it).
func NextHealth(status string, streak int, pass, inStartPeriod bool, retries int) (string, int) {
	if pass {
		return HealthHealthy, 0
	}
	if status == HealthStarting && inStartPeriod {
		return status, streak
	}
	streak++
	if streak >= retries {
		status = HealthUnhealthy
	}
	return status, streak
}

// HealthFile is a Health file as the idle monitor keeps it: its results
// as the JSON objects they were written as (runtime.HealthResult's), so
// that it never decodes one.
type HealthFile struct {
	Status        string
	FailingStreak int
	Log           [][]byte
}

// ReadHealthLog reads the results of the Health file at path (none when
// it is missing or unreadable): a new run keeps the log, not the status.
func ReadHealthLog(path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	// The file is encoding/json's: "Log" comes after Status (a plain
	// word) and FailingStreak, so its first occurrence is the key.
	i := bytes.Index(b, []byte(`"Log":[`))
	if i < 0 {
		return nil
	}
	return splitJSONArray(b[i+len(`"Log":[`):])
}

// splitJSONArray splits the elements of an array of objects whose '[' was
// just read, up to its ']'.
func splitJSONArray(b []byte) [][]byte {
	var out [][]byte
	depth, start, inString, escaped := 0, -1, false, false
	for i, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{':
			if depth == 0 {
				start = i
			}
			depth++
		case c == '}':
			depth--
			if depth == 0 && start >= 0 {
				out = append(out, bytes.Clone(b[start:i+1]))
				start = -1
			}
		case c == ']' && depth == 0:
			return out
		}
	}
	return nil // truncated: keep nothing rather than a part
}

// Add appends a result, keeping the last MaxHealthLog.
func (h *HealthFile) Add(result []byte) {
	h.Log = append(h.Log, result)
	if n := len(h.Log); n > MaxHealthLog {
		h.Log = append([][]byte(nil), h.Log[n-MaxHealthLog:]...)
	}
}

// Marshal is the file's content, as runtime.WriteHealth writes a Health.
func (h *HealthFile) Marshal() []byte {
	b := AppendJSONString(appendJSONKey([]byte{'{'}, true, "Status"), h.Status)
	b = appendJSONInt(b, false, "FailingStreak", h.FailingStreak)
	b = appendJSONKey(b, false, "Log")
	if h.Log == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range h.Log {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, r...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// AppendHealthResult appends a check's result as runtime.HealthResult
// marshals.
func AppendHealthResult(b []byte, start, end time.Time, exitCode int, output string) []byte {
	b = appendJSONTime(appendJSONKey(append(b, '{'), true, "Start"), start)
	b = appendJSONTime(appendJSONKey(b, false, "End"), end)
	b = appendJSONInt(b, false, "ExitCode", exitCode)
	b = AppendJSONString(appendJSONKey(b, false, "Output"), output)
	return append(b, '}')
}

// AppendHealthReply appends a FrameHealthcheck answer as
// runtime.HealthReply marshals: the status and result of the check, or an
// error (result: a zero one) when none ran.
func AppendHealthReply(b []byte, status string, result []byte, errMsg string) []byte {
	b = append(b, '{')
	first := true
	if status != "" {
		b = AppendJSONString(appendJSONKey(b, true, "status"), status)
		first = false
	}
	b = appendJSONKey(b, first, "result")
	if result == nil {
		result = AppendHealthResult(nil, time.Time{}, time.Time{}, 0, "")
	}
	b = append(b, result...)
	if errMsg != "" {
		b = AppendJSONString(appendJSONKey(b, false, "error"), errMsg)
	}
	return append(b, '}')
}

// ParseCheckOutput reads what `skiff-monitor health` prints: the check's
// exit code on a line, then its result as a JSON object.
func ParseCheckOutput(out []byte) (exitCode int, result []byte, ok bool) {
	line, rest, found := bytes.Cut(out, []byte("\n"))
	if !found {
		return 0, nil, false
	}
	code, err := strconv.Atoi(string(line))
	rest = bytes.TrimSpace(rest)
	if err != nil || len(rest) < 2 || rest[0] != '{' || rest[len(rest)-1] != '}' {
		return 0, nil, false
	}
	return code, rest, true
}
