//go:build !skiff_local

package imagestore

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	"go.podman.io/image/v5/docker"
)

// The errors as containers/image returns them: wrapped with context, the
// registry's error code kept for errors.As.
func TestRegistryKind(t *testing.T) {
	manifestUnknown := errcode.Error{Code: v2.ErrorCodeManifestUnknown, Message: v2.ErrorCodeManifestUnknown.Message()}
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:1/v2/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		name string
		err  error
		want error // nil: no kind
	}{
		{"bad credentials", fmt.Errorf("reading manifest: %w", docker.ErrUnauthorizedForCredentials{Err: errors.New("401")}), errdefs.ErrUnauthenticated},
		{"unauthorized code", fmt.Errorf("initiating upload: %w", errcode.ErrorCodeUnauthorized.WithMessage("authentication required")), errdefs.ErrUnauthenticated},
		{"denied", fmt.Errorf("pushing: %w", errcode.Errors{errcode.ErrorCodeDenied.WithMessage("requested access to the resource is denied")}), errdefs.ErrPermissionDenied},
		{"manifest unknown", fmt.Errorf("reading manifest 9 in x/y: %w", manifestUnknown), errdefs.ErrNotFound},
		{"manifest unknown, reworded", fmt.Errorf("reading manifest: %w", fmt.Errorf("%s%.0w", manifestUnknown.Message, manifestUnknown)), errdefs.ErrNotFound},
		{"name unknown", fmt.Errorf("x: %w", errcode.Error{Code: v2.ErrorCodeNameUnknown}), errdefs.ErrNotFound},
		{"blob unknown", fmt.Errorf("x: %w", v2.ErrorCodeBlobUnknown), errdefs.ErrNotFound},
		{"tag invalid", fmt.Errorf("x: %w", errcode.Error{Code: v2.ErrorCodeTagInvalid}), errdefs.ErrInvalidArgument},
		{"too many requests", fmt.Errorf("x: %w", docker.ErrTooManyRequests), errdefs.ErrResourceExhausted},
		{"toomanyrequests code", fmt.Errorf("x: %w", errcode.ErrorCodeTooManyRequests.WithMessage("slow down")), errdefs.ErrResourceExhausted},
		{"HTTP 404 without a body", fmt.Errorf("fetching blob: %w", docker.UnexpectedHTTPStatusError{StatusCode: 404}), errdefs.ErrNotFound},
		{"HTTP 403", docker.UnexpectedHTTPStatusError{StatusCode: 403}, errdefs.ErrPermissionDenied},
		{"HTTP 502", fmt.Errorf("x: %w", docker.UnexpectedHTTPStatusError{StatusCode: 502}), errdefs.ErrUnavailable},
		{"HTTP 400", docker.UnexpectedHTTPStatusError{StatusCode: 400}, errdefs.ErrInvalidArgument},
		{"connection refused", fmt.Errorf("pinging container registry 127.0.0.1:1: %w", refused), errdefs.ErrUnavailable},
		{"HTTP answer to HTTPS", fmt.Errorf("ping: %w", &url.Error{Op: "Get", URL: "https://h/v2/", Err: errors.New("http: server gave HTTP response to HTTPS client")}), errdefs.ErrUnavailable},
		{"DNS", fmt.Errorf("x: %w", &net.DNSError{Err: "no such host", Name: "registry.invalid", IsNotFound: true}), errdefs.ErrUnavailable},
		{"disk full", fmt.Errorf("storing blob: %w", &fs.PathError{Op: "write", Path: "/store/tmp/blob", Err: syscall.ENOSPC}), errdefs.ErrResourceExhausted},
		{"the text alone is not a kind", errors.New("manifest unknown: 401 unauthorized: not found"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := registryKind(tc.err)
			if got != tc.want {
				t.Errorf("kind %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRegistryError(t *testing.T) {
	named, err := ParseName("127.0.0.1:5000/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		want string
		is   func(error) bool
	}{
		{fmt.Errorf("reading manifest 1: %w", errcode.Error{Code: v2.ErrorCodeManifestUnknown}),
			"127.0.0.1:5000/team/app:1: image not found in registry 127.0.0.1:5000", errdefs.IsNotFound},
		{errcode.ErrorCodeUnauthorized.WithMessage("authentication required"),
			"127.0.0.1:5000/team/app:1: access denied: log in with `skiff login 127.0.0.1:5000` or check the credentials", errdefs.IsUnauthorized},
		{fmt.Errorf("pinging container registry 127.0.0.1:5000: %w", &url.Error{Op: "Get", URL: "https://127.0.0.1:5000/v2/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}),
			"127.0.0.1:5000/team/app:1: registry 127.0.0.1:5000 unreachable: ", errdefs.IsUnavailable},
		{fmt.Errorf("writing blob: %w", &fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}),
			"127.0.0.1:5000/team/app:1: no space left on device in the image store", errdefs.IsResourceExhausted},
	} {
		got := registryError(named, tc.err)
		if !strings.HasPrefix(got.Error(), tc.want) || !tc.is(got) {
			t.Errorf("%v:\n got %v\nwant %s...", tc.err, got, tc.want)
		}
	}
}
