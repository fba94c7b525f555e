package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// terminalSize is a resize's h and w (container and exec resize).
func terminalSize(r *http.Request) ([2]uint16, error) {
	var size [2]uint16
	for i, name := range []string{"h", "w"} {
		n, err := strconv.ParseUint(r.URL.Query().Get(name), 10, 16)
		if err != nil {
			return size, fmt.Errorf("invalid %s %q: want a number of characters: %w", name, r.URL.Query().Get(name), errdefs.ErrInvalidArgument)
		}
		size[i] = uint16(n)
	}
	return size, nil
}

// containerResize is POST /containers/{id}/resize?h=&w=: 200 and no body.
func (s *Server) containerResize(w http.ResponseWriter, r *http.Request) {
	size, err := terminalSize(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := s.e.ContainerResize(r.Context(), r.PathValue("id"), engine.ContainerResizeOptions{Height: size[0], Width: size[1]}); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
