package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// containerResize is POST /containers/{id}/resize?h=&w=: 200 and no body.
func (s *Server) containerResize(w http.ResponseWriter, r *http.Request) {
	var size [2]uint16
	for i, name := range []string{"h", "w"} {
		n, err := strconv.ParseUint(r.URL.Query().Get(name), 10, 16)
		if err != nil {
			writeError(w, fmt.Errorf("invalid %s %q: want a number of characters: %w", name, r.URL.Query().Get(name), errdefs.ErrInvalidArgument))
			return
		}
		size[i] = uint16(n)
	}
	if _, err := s.e.ContainerResize(r.Context(), r.PathValue("id"), engine.ContainerResizeOptions{Height: size[0], Width: size[1]}); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
