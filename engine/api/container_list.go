package api

import (
	"fmt"
	"net/http"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// listEntry is one container of GET /containers/json, Docker's
// keys.
type listEntry struct {
	ID         string `json:"Id"`
	Names      []string
	Image      string
	ImageID    string
	Command    string
	Created    int64
	Ports      []portSummary
	SizeRw     int64 `json:",omitempty"`
	SizeRootFs int64 `json:",omitempty"`
	Labels     map[string]string
	State      string
	Status     string
	HostConfig struct{ NetworkMode string }
	Mounts     []struct{}
}

type portSummary struct {
	IP          string `json:",omitempty"`
	PrivatePort int
	PublicPort  int `json:",omitempty"`
	Type        string
}

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
	o := engine.ContainerListOptions{All: boolParam(r, "all"), Last: limit, Filters: filters, Size: boolParam(r, "size")}
	res, err := s.e.ContainerList(r.Context(), o)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]listEntry, 0, len(res.Containers))
	for _, c := range res.Containers {
		cs := listEntry{ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Config.Image, ImageID: c.ImageID,
			Command: c.Command(), Created: c.Created.Unix(), Ports: []portSummary{}, Labels: c.Config.Labels,
			State: dockerState(c), Status: c.Status(), Mounts: []struct{}{}}
		if cs.Labels == nil {
			cs.Labels = map[string]string{}
		}
		cs.HostConfig.NetworkMode = c.Config.NetworkMode
		for _, p := range res.Ports[c.ID] {
			cs.Ports = append(cs.Ports, portSummary{IP: p.HostIP, PrivatePort: p.ContainerPort, PublicPort: p.HostPort, Type: p.Proto})
		}
		if sz, ok := res.Sizes[c.ID]; ok {
			cs.SizeRw, cs.SizeRootFs = sz.RW, sz.RootFS
		}
		out = append(out, cs)
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
