package api

import (
	"fmt"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"

	"github.com/skiff-engine/skiff/engine"
)

func (s *Server) containerList(w http.ResponseWriter, r *http.Request) {
	filters, err := filterArgs(r.URL.Query().Get("filters"))
	if err != nil {
		writeError(w, err)
		return
	}
	limit, err := intParam(r, "limit", -1)
	if err != nil {
		writeError(w, err)
		return
	}
	if limit == 0 { // Docker's 0 is "no limit"
		limit = -1
	}
	if limit < -1 {
		writeError(w, fmt.Errorf("invalid limit %d: %w", limit, errdefs.ErrInvalidArgument))
		return
	}
	o := engine.ContainerListOptions{All: boolParam(r, "all"), Last: limit, Filters: filters, Size: boolParam(r, "size"), Networks: true}
	res, err := s.e.ContainerList(r.Context(), o)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]container.Summary, 0, len(res.Containers))
	for _, c := range res.Containers {
		var size *engine.ContainerSize
		if sz, ok := res.Sizes[c.ID]; ok {
			size = &sz
		}
		out = append(out, containerSummary(c, res.Ports[c.ID], res.Networks[c.ID], size))
	}
	writeJSON(w, http.StatusOK, out)
}

// dockerState is Docker's State word: skiff's transitional ones are
// Docker's nearest (starting: created; stopping: running).
func dockerState(c *engine.Container) string {
	switch st := string(c.State.Status); st {
	case "starting":
		return "created"
	case "stopping":
		return "running"
	default:
		return st
	}
}
