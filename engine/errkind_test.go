package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
)

func TestErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		err        error
		exit, http int
	}{
		{fmt.Errorf("No such container: x: %w", errdefs.ErrNotFound), 125, 404},
		{invalid("bad"), 125, 400},
		{&InvalidTransitionError{Container: "c", From: runtime.StatusExited, To: runtime.StatusPaused}, 125, 409},
		{fmt.Errorf("wrapped: %w", &ExitError{Code: 127, Err: errors.New("not found")}), 127, 500},
		{&runtime.StartError{Code: 126, Message: "permission denied"}, 126, 500},
		{fmt.Errorf("creds: %w", errdefs.ErrUnauthenticated), 125, 401},
		{fmt.Errorf("needs a freezer: %w", errdefs.ErrFailedPrecondition), 125, 412},
		{context.DeadlineExceeded, 125, 504},
		{errors.New("something else"), 125, 500},
	} {
		if got := ExitCode(tc.err); got != tc.exit {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.exit)
		}
		if got := HTTPStatus(tc.err); got != tc.http {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tc.err, got, tc.http)
		}
	}
}
