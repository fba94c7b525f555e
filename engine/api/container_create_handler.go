package api

import (
	"net/http"

	"github.com/moby/moby/api/types/container"
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
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, containerCreateResponse(res))
}
