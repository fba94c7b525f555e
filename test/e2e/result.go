package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Result is a finished command.
type Result struct {
	Args     []string
	Stdout   string
	Stderr   string
	ExitCode int   // 128+N when killed by signal N; -1 when it did not start
	Err      error // it could not start, or the timeout killed it
	Duration time.Duration
}

// Expect is what Assert checks. Zero fields are not checked, except Code.
type Expect struct {
	Code      int    // exit code
	Stdout    string // substring of stdout
	Stderr    string // substring of stderr
	NotStdout string // must not be in stdout
}

// Assert fails the test unless the result matches e.
func (r *Result) Assert(t testing.TB, e Expect) *Result {
	t.Helper()
	var bad []string
	if r.Err != nil {
		bad = append(bad, r.Err.Error())
	}
	if r.ExitCode != e.Code {
		bad = append(bad, fmt.Sprintf("exit code %d, want %d", r.ExitCode, e.Code))
	}
	if !strings.Contains(r.Stdout, e.Stdout) {
		bad = append(bad, fmt.Sprintf("stdout does not contain %q", e.Stdout))
	}
	if !strings.Contains(r.Stderr, e.Stderr) {
		bad = append(bad, fmt.Sprintf("stderr does not contain %q", e.Stderr))
	}
	if e.NotStdout != "" && strings.Contains(r.Stdout, e.NotStdout) {
		bad = append(bad, fmt.Sprintf("stdout contains %q", e.NotStdout))
	}
	if len(bad) > 0 {
		t.Fatalf("%s\n%s", strings.Join(bad, "; "), r)
	}
	return r
}

// MustSucceed fails the test unless the command exited 0.
func (r *Result) MustSucceed(t testing.TB) *Result {
	t.Helper()
	return r.Assert(t, Expect{})
}

// MustFail fails the test unless the command exited with code (any
// non-zero code when code is 0) and stderr contains substr.
func (r *Result) MustFail(t testing.TB, code int, substr string) *Result {
	t.Helper()
	if code == 0 && r.ExitCode > 0 {
		code = r.ExitCode
	}
	if code == 0 {
		t.Fatalf("want a failure, got exit %d\n%s", r.ExitCode, r)
	}
	return r.Assert(t, Expect{Code: code, Stderr: substr})
}

// Out is stdout without surrounding white space.
func (r *Result) Out() string { return strings.TrimSpace(r.Stdout) }

// Lines are stdout's non-empty lines.
func (r *Result) Lines() []string {
	var out []string
	for l := range strings.SplitSeq(r.Stdout, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// String shows the command and its output, for failure messages.
func (r *Result) String() string {
	return fmt.Sprintf("$ %s\nexit %d after %v\n--- stdout\n%s\n--- stderr\n%s", shellQuote(r.Args), r.ExitCode,
		r.Duration.Round(time.Millisecond), tail(r.Stdout, 4000), tail(r.Stderr, 4000))
}
