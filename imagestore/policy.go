//go:build !skiff_local

package imagestore

import (
	"errors"
	"fmt"

	"github.com/containerd/errdefs"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/configfile"
)

// policyContext returns the signature policy: the configured one if any file
// exists, else accept anything (Docker verifies no signatures either).
func (s *Store) policyContext(sys *types.SystemContext) (*signature.PolicyContext, error) {
	policy, err := signature.DefaultPolicy(sys)
	if err != nil {
		if s.opts.PolicyPath != "" || !errors.Is(err, configfile.ErrConfigFileNotFound) {
			return nil, fmt.Errorf("signature policy: %v: %w", err, errdefs.ErrInvalidArgument)
		}
		policy = &signature.Policy{Default: []signature.PolicyRequirement{signature.NewPRInsecureAcceptAnything()}}
	}
	return signature.NewPolicyContext(policy)
}
