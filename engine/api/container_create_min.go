package api

import (
	"net/http"

	"github.com/skiff-engine/skiff/engine"
)

// A minimal POST /containers/create (Image, Cmd, Entrypoint, Env, Labels,
// Tty, OpenStdin, HostConfig.AutoRemove and RestartPolicy) until helper
// B's containerCreateOptions replaces this file at merge.

type createMinBody struct {
	Image      string
	Cmd        []string
	Entrypoint []string
	Env        []string
	Labels     map[string]string
	Tty        bool
	OpenStdin  bool
	HostConfig struct {
		AutoRemove    bool
		RestartPolicy engine.RestartPolicy
	}
}

func (s *Server) containerCreate(w http.ResponseWriter, r *http.Request) {
	var b createMinBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, err)
		return
	}
	o := engine.ContainerCreateOptions{Name: r.URL.Query().Get("name"), Image: b.Image, Pull: "never",
		Cmd: b.Cmd, Entrypoint: b.Entrypoint, EntrypointSet: b.Entrypoint != nil, Env: b.Env, Labels: b.Labels,
		Tty: b.Tty, OpenStdin: b.OpenStdin, AutoRemove: b.HostConfig.AutoRemove, RestartPolicy: b.HostConfig.RestartPolicy}
	res, err := s.e.ContainerCreate(r.Context(), o)
	if err != nil {
		writeError(w, err)
		return
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	writeJSON(w, http.StatusCreated, struct {
		ID       string `json:"Id"`
		Warnings []string
	}{res.ID, res.Warnings})
}
