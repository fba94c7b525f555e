//go:build !skiff_local

package imagestore

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"

	"github.com/containerd/errdefs"
	"github.com/docker/distribution/registry/api/errcode"
	v2 "github.com/docker/distribution/registry/api/v2"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
)

// registryKind is the errdefs kind of a registry failure, read from the
// typed errors containers/image and the distribution API return: the
// registry's error code, else its HTTP status, else the transport's error.
// nil when err carries none of them.
func registryKind(err error) error {
	var unauth docker.ErrUnauthorizedForCredentials
	if errors.As(err, &unauth) {
		return errdefs.ErrUnauthenticated
	}
	if errors.Is(err, docker.ErrTooManyRequests) {
		return errdefs.ErrResourceExhausted
	}
	var list errcode.Errors
	if errors.As(err, &list) && len(list) > 0 {
		return registryKind(list[0])
	}
	var coder errcode.ErrorCoder
	if errors.As(err, &coder) {
		if kind, ok := errorCodeKinds[coder.ErrorCode()]; ok {
			return kind
		}
	}
	var status docker.UnexpectedHTTPStatusError
	if errors.As(err, &status) {
		return httpStatusKind(status.StatusCode)
	}
	if errors.Is(err, syscall.ENOSPC) {
		return errdefs.ErrResourceExhausted
	}
	// A request that got no HTTP response: DNS, refused, timeout, TLS.
	var urlErr *url.Error
	var netErr net.Error
	if errors.As(err, &urlErr) || errors.As(err, &netErr) {
		return errdefs.ErrUnavailable
	}
	return nil
}

// errorCodeKinds: the distribution API's error codes (the JSON "code" of
// a registry's error response).
var errorCodeKinds = map[errcode.ErrorCode]error{
	errcode.ErrorCodeUnauthorized:       errdefs.ErrUnauthenticated,
	errcode.ErrorCodeDenied:             errdefs.ErrPermissionDenied,
	errcode.ErrorCodeUnsupported:        errdefs.ErrNotImplemented,
	errcode.ErrorCodeUnavailable:        errdefs.ErrUnavailable,
	errcode.ErrorCodeTooManyRequests:    errdefs.ErrResourceExhausted,
	v2.ErrorCodeNameUnknown:             errdefs.ErrNotFound,
	v2.ErrorCodeManifestUnknown:         errdefs.ErrNotFound,
	v2.ErrorCodeManifestBlobUnknown:     errdefs.ErrNotFound,
	v2.ErrorCodeBlobUnknown:             errdefs.ErrNotFound,
	v2.ErrorCodeBlobUploadUnknown:       errdefs.ErrNotFound,
	v2.ErrorCodeNameInvalid:             errdefs.ErrInvalidArgument,
	v2.ErrorCodeTagInvalid:              errdefs.ErrInvalidArgument,
	v2.ErrorCodeDigestInvalid:           errdefs.ErrInvalidArgument,
	v2.ErrorCodeSizeInvalid:             errdefs.ErrInvalidArgument,
	v2.ErrorCodeManifestInvalid:         errdefs.ErrInvalidArgument,
	v2.ErrorCodeManifestUnverified:      errdefs.ErrInvalidArgument,
	v2.ErrorCodeBlobUploadInvalid:       errdefs.ErrInvalidArgument,
	v2.ErrorCodePaginationNumberInvalid: errdefs.ErrInvalidArgument,
}

// httpStatusKind is for responses without a distribution error body.
func httpStatusKind(code int) error {
	switch {
	case code == http.StatusUnauthorized:
		return errdefs.ErrUnauthenticated
	case code == http.StatusForbidden:
		return errdefs.ErrPermissionDenied
	case code == http.StatusNotFound:
		return errdefs.ErrNotFound
	case code == http.StatusTooManyRequests:
		return errdefs.ErrResourceExhausted
	case code == http.StatusNotImplemented:
		return errdefs.ErrNotImplemented
	case code >= 500:
		return errdefs.ErrUnavailable
	case code >= 400:
		return errdefs.ErrInvalidArgument
	}
	return nil
}

// registryError turns containers/image's registry failures into one line
// that names the image and a kind the CLI and API can map.
func registryError(named reference.Named, err error) error {
	kind := registryKind(err)
	domain := reference.Domain(named)
	switch {
	case errdefs.IsUnauthorized(kind), errdefs.IsPermissionDenied(kind):
		return fmt.Errorf("%s: access denied: log in with `skiff login %s` or check the credentials: %w", named, domain, kind)
	case errdefs.IsNotFound(kind):
		return fmt.Errorf("%s: image not found in registry %s: %w", named, domain, kind)
	case errdefs.IsResourceExhausted(kind) && errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%s: no space left on device in the image store; free space or use --root elsewhere: %w", named, kind)
	case errdefs.IsResourceExhausted(kind):
		return fmt.Errorf("%s: registry %s refused: too many requests; try again later: %w", named, domain, kind)
	case errdefs.IsUnavailable(kind):
		return fmt.Errorf("%s: registry %s unreachable: %s: %w", named, domain, lastCause(err.Error()), kind)
	case kind != nil:
		return fmt.Errorf("%s: %v: %w", named, err, kind)
	}
	return fmt.Errorf("%s: %w", named, err)
}
