package runtime

// Container logs. The monitor writes them with a LogWriter, the engine's
// `logs` reads them with ReadLog. Two formats, one entry per line:
//
//	json-file  Docker's: {"log":"hello\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
//	k8s-file   CRI's:    2024-05-01T10:00:00.123456789Z stdout F hello
//
// An entry is a line of output; a line longer than MaxLogLine, or the
// unterminated rest of the output at exit, is a partial entry: in json-file
// its "log" lacks the "\n", in k8s-file its tag is P instead of F.
// Timestamps are UTC. With a maximum size the log rotates as Docker's does:
// before an entry would take the file past the size, <log>.N-1 becomes
// <log>.N ... <log> becomes <log>.1, keeping MaxFiles-1 rotated files (with
// MaxFiles <= 1 the file is truncated instead).

import "github.com/skiff-engine/skiff/runtime/monitorio"

// The writer lives in monitorio, which skiff-monitor-idle shares.
const (
	LogJSONFile    = monitorio.LogJSONFile
	LogK8sFile     = monitorio.LogK8sFile
	LogNone        = monitorio.LogNone
	LogPassthrough = monitorio.LogPassthrough
	StreamStdout   = monitorio.StreamStdout
	StreamStderr   = monitorio.StreamStderr
	// MaxLogLine is the longest entry; longer lines are split (Docker's 16 KiB).
	MaxLogLine = monitorio.MaxLogLine
)

// LogWriter appends a container's output to its log file (monitorio's).
type LogWriter = monitorio.LogWriter

// OpenLog opens (appends to) the log at path for driver json-file (or "")
// or k8s-file.
func OpenLog(path, driver string, maxSize int64, maxFiles int) (*LogWriter, error) {
	return monitorio.OpenLog(path, driver, maxSize, maxFiles)
}

// CheckLogConfig validates a container's log configuration; terminal says
// the container has a terminal. Errors are errdefs InvalidArgument.
func CheckLogConfig(l LogConfig, terminal bool) error {
	switch l.Type {
	case "", LogJSONFile, LogK8sFile, LogNone, LogPassthrough:
	default:
		return invalidf("unknown log driver %q: use json-file, k8s-file, none or passthrough", l.Type)
	}
	if l.Type == LogPassthrough && terminal {
		return invalidf("the passthrough log driver hands the container the caller's stdio as they are: it cannot also have a terminal")
	}
	if l.MaxSize < 0 {
		return invalidf("log max-size %d: want a size of 0 (no limit) or more", l.MaxSize)
	}
	if l.MaxFile < 0 {
		return invalidf("log max-file %d: want a number of files, at least 1", l.MaxFile)
	}
	return nil
}

func streamIndex(stream string) int {
	if stream == StreamStderr {
		return 1
	}
	return 0
}
