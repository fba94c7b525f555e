package main

import (
	"errors"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"
)

// Docker's exit codes: 125 the engine (or the command line) failed, 126 the
// container command cannot be invoked, 127 it was not found. Anything else is
// the container's own exit status.
const (
	exitEngine      = 125
	exitCannotExec  = 126
	exitNotFound    = 127
	exitUsageHelper = 125
)

// exitCoder is implemented by errors that carry their own status, such as a
// container's exit code.
type exitCoder interface{ ExitCode() int }

// silentError carries an exit code for a failure already reported to the user.
type silentError struct{ code int }

func (e *silentError) Error() string { return "" }
func (e *silentError) ExitCode() int { return e.code }

// exitCode is the one table from errors to CLI exit codes. Every error kind
// of containerd/errdefs is an engine failure to Docker users: 125.
func exitCode(err error) int {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	var ce cli.ExitCoder
	if errors.As(err, &ce) && ce.ExitCode() != 0 && ce.ExitCode() != 1 {
		return ce.ExitCode()
	}
	return exitEngine
}

// oneLine keeps user-facing errors to one line: wrapped internals from
// libraries sometimes carry newlines.
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	s = strings.ReplaceAll(s, "\n", "; ")
	return trimKind(s, err)
}

// kindWords are the messages of the errdefs kinds. Wrapping with %w appends
// them ("...: not found"); the message before already says it better.
var kindWords = []struct {
	word string
	is   func(error) bool
}{
	{"not found", errdefs.IsNotFound}, {"invalid argument", errdefs.IsInvalidArgument},
	{"already exists", errdefs.IsAlreadyExists}, {"conflict", errdefs.IsConflict},
	{"unavailable", errdefs.IsUnavailable}, {"unauthorized", errdefs.IsUnauthorized},
	{"resource exhausted", errdefs.IsResourceExhausted}, {"failed precondition", errdefs.IsFailedPrecondition},
	{"not implemented", errdefs.IsNotImplemented}, {"permission denied", errdefs.IsPermissionDenied},
}

func trimKind(s string, err error) string {
	for _, k := range kindWords {
		if strings.HasSuffix(s, ": "+k.word) && k.is(err) {
			return strings.TrimSuffix(s, ": "+k.word)
		}
	}
	return s
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
