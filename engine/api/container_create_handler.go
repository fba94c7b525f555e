package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/skiff-engine/skiff/engine"
)

// containerCreate is POST /containers/create: Docker's Config, HostConfig
// and NetworkingConfig mapped onto the engine's typed create options
// (containerCreateOptions), the same the CLI's flags become.
func (s *Server) containerCreate(w http.ResponseWriter, r *http.Request) {
	var req container.CreateRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	o, err := containerCreateOptions(r.URL.Query().Get("name"), &req, requestVersion(r))
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.ContainerCreate(r.Context(), o)
	var nn *engine.NetworkNotFoundError
	if errors.As(err, &nn) {
		// Not a 404: the docker CLI takes a 404 from create for a missing
		// image, pulls it, and then shows the pull's error instead.
		err = fmt.Errorf("%s: %w", nn.Error(), errdefs.ErrInvalidArgument)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, containerCreateResponse(res))
}
