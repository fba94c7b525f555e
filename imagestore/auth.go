//go:build !skiff_local

package imagestore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
)

// apply makes sys use c instead of the auth file, when c is set.
func (c Credentials) apply(sys *types.SystemContext) {
	if c.Username == "" && c.IdentityToken == "" {
		return
	}
	sys.DockerAuthConfig = &types.DockerAuthConfig{Username: c.Username, Password: c.Password, IdentityToken: c.IdentityToken}
}

// normalizeRegistry turns what users type after `login` into the key
// credentials are stored under; empty means Docker Hub.
func normalizeRegistry(registry string) string {
	registry = strings.TrimPrefix(strings.TrimPrefix(registry, "https://"), "http://")
	registry = strings.TrimSuffix(registry, "/")
	switch registry {
	case "", "index.docker.io", "registry-1.docker.io", "index.docker.io/v1":
		return "docker.io"
	}
	return registry
}

// Login checks the credentials against the registry and stores them in the
// auth file. Wrong credentials are errdefs.ErrUnauthenticated and store nothing.
func (s *Store) Login(ctx context.Context, registry, username, password string, o LoginOptions) (string, error) {
	registry = normalizeRegistry(registry)
	if username == "" || password == "" {
		return "", fmt.Errorf("login to %s: username and password are required (-u USER, -p PASS or --password-stdin): %w", registry, errdefs.ErrInvalidArgument)
	}
	sys := s.sys(o.TLSVerify)
	if err := docker.CheckAuth(ctx, sys, username, password, registry); err != nil {
		switch kind := registryKind(err); {
		case errdefs.IsUnauthorized(kind), errdefs.IsPermissionDenied(kind):
			return "", fmt.Errorf("login to %s failed: wrong username or password: %w", registry, kind)
		case errdefs.IsUnavailable(kind):
			return "", fmt.Errorf("login to %s failed: registry unreachable: %s: %w", registry, lastCause(err.Error()), kind)
		case kind != nil:
			return "", fmt.Errorf("login to %s failed: %v: %w", registry, err, kind)
		}
		return "", fmt.Errorf("login to %s failed: %w", registry, err)
	}
	path, err := config.SetCredentials(sys, registry, username, password)
	if err != nil {
		return "", fmt.Errorf("storing credentials for %s: %w", registry, err)
	}
	return path, nil
}

// Logout forgets the credentials for registry. Not being logged in is not an
// error (Docker's behaviour); the result tells whether anything was removed.
func (s *Store) Logout(registry string) (bool, error) {
	registry = normalizeRegistry(registry)
	err := config.RemoveAuthentication(s.sys(TLSDefault), registry)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, config.ErrNotLoggedIn) {
		return false, nil
	}
	return false, fmt.Errorf("removing credentials for %s: %w", registry, err)
}
