package main

import (
	"errors"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Docker's exit codes: 125 the engine (or the command line) failed, 126 the
// container command cannot be invoked, 127 it was not found. Anything else is
// the container's own exit status.
const exitEngine = 125

// silentError carries an exit code for a failure already reported to the user.
type silentError struct{ code int }

func (e *silentError) Error() string { return "" }
func (e *silentError) ExitCode() int { return e.code }

// exitCode is the engine's one table from errors to exit codes
// (engine.Kinds), plus urfave/cli's own exit errors.
func exitCode(err error) int {
	var ce cli.ExitCoder
	if errors.As(err, &ce) && ce.ExitCode() != 0 && ce.ExitCode() != 1 {
		return ce.ExitCode()
	}
	return engine.ExitCode(err)
}

// oneLine keeps user-facing errors to one line: wrapped internals from
// libraries sometimes carry newlines.
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	s = strings.ReplaceAll(s, "\n", "; ")
	return trimKind(s, err)
}

// trimKind drops the kind's word that wrapping with %w appends ("...: not
// found"): the message before already says it better.
func trimKind(s string, err error) string {
	if k, ok := engine.KindOf(err); ok && strings.HasSuffix(s, ": "+k.Word) {
		return strings.TrimSuffix(s, ": "+k.Word)
	}
	return s
}

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
