package engine

import (
	"errors"
	"net/http"

	"github.com/containerd/errdefs"
)

// Kind is one error kind of containerd/errdefs and what it becomes at each
// front end: the CLI's exit code and the API's HTTP status. Every engine
// error is wrapped with one of them where it is detected; Kinds is the one
// table both front ends read.
type Kind struct {
	Word       string // the kind's own message, which %w appends ("...: not found")
	Is         func(error) bool
	ExitCode   int // Docker's CLI: every engine failure is 125
	HTTPStatus int // Docker's API
}

// Kinds, most specific first.
var Kinds = []Kind{
	{"not found", errdefs.IsNotFound, 125, http.StatusNotFound},
	{"invalid argument", errdefs.IsInvalidArgument, 125, http.StatusBadRequest},
	{"already exists", errdefs.IsAlreadyExists, 125, http.StatusConflict},
	{"conflict", errdefs.IsConflict, 125, http.StatusConflict},
	{"failed precondition", errdefs.IsFailedPrecondition, 125, http.StatusPreconditionFailed},
	{"unauthorized", errdefs.IsUnauthorized, 125, http.StatusUnauthorized},
	{"permission denied", errdefs.IsPermissionDenied, 125, http.StatusForbidden},
	{"unavailable", errdefs.IsUnavailable, 125, http.StatusServiceUnavailable},
	{"resource exhausted", errdefs.IsResourceExhausted, 125, http.StatusTooManyRequests},
	{"not implemented", errdefs.IsNotImplemented, 125, http.StatusNotImplemented},
	{"deadline exceeded", errdefs.IsDeadlineExceeded, 125, http.StatusGatewayTimeout},
	{"data loss", errdefs.IsDataLoss, 125, http.StatusInternalServerError},
}

// exitCoder is an error that carries its own exit status: a container's
// exit code, or Docker's 126/127 for a command that could not be run.
type exitCoder interface{ ExitCode() int }

// KindOf is err's kind; ok is false for an error of no known kind.
func KindOf(err error) (k Kind, ok bool) {
	for _, k := range Kinds {
		if k.Is(err) {
			return k, true
		}
	}
	return Kind{}, false
}

// ExitCode is the CLI exit code for err: the code it carries, else its
// kind's, else 125 (the engine failed).
func ExitCode(err error) int {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	if k, ok := KindOf(err); ok {
		return k.ExitCode
	}
	return 125
}

// HTTPStatus is the API status for err: its kind's, else 500.
func HTTPStatus(err error) int {
	if k, ok := KindOf(err); ok {
		return k.HTTPStatus
	}
	return http.StatusInternalServerError
}
