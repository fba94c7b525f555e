package api

import (
	"net/http"
	"time"

	"github.com/moby/moby/api/types/volume"

	"github.com/skiff-engine/skiff/engine"
)

// Volume endpoints: the local driver only, as the engine's.
func (s *Server) volumeRoutes() {
	m := s.mux
	m.HandleFunc("GET /volumes", s.volumeList)
	m.HandleFunc("POST /volumes/create", s.volumeCreate)
	m.HandleFunc("POST /volumes/prune", s.volumePrune)
	m.HandleFunc("GET /volumes/{name}", s.volumeInspect)
	m.HandleFunc("DELETE /volumes/{name}", s.volumeRemove)
}

func (s *Server) volumeList(w http.ResponseWriter, r *http.Request) {
	filters, err := filterArgs(r.URL.Query().Get("filters"))
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.VolumeList(r.Context(), engine.VolumeListOptions{Filters: filters})
	if err != nil {
		writeError(w, err)
		return
	}
	out := volume.ListResponse{Volumes: []volume.Volume{}, Warnings: []string{}}
	for _, v := range res.Volumes {
		out.Volumes = append(out.Volumes, volumeResponse(engine.VolumeInspect{CreatedAt: v.Created, Driver: v.Driver,
			Labels: v.Config.Labels, Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Config.Options, Scope: "local"}))
	}
	writeJSON(w, http.StatusOK, out)
}

// volumeCreate is POST /volumes/create: 201 with the volume, which is the
// existing one when the name is taken (Docker's).
func (s *Server) volumeCreate(w http.ResponseWriter, r *http.Request) {
	var req volume.CreateRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.VolumeCreate(r.Context(), engine.VolumeCreateOptions{Name: req.Name, Driver: req.Driver, Labels: req.Labels, Options: req.DriverOpts})
	if err != nil {
		writeError(w, err)
		return
	}
	in, err := s.e.VolumeInspect(r.Context(), res.Name, engine.VolumeInspectOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, volumeResponse(in.Volume))
}

func (s *Server) volumeInspect(w http.ResponseWriter, r *http.Request) {
	in, err := s.e.VolumeInspect(r.Context(), r.PathValue("name"), engine.VolumeInspectOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, volumeResponse(in.Volume))
}

func (s *Server) volumeRemove(w http.ResponseWriter, r *http.Request) {
	if _, err := s.e.VolumeRemove(r.Context(), r.PathValue("name"), engine.VolumeRemoveOptions{Force: boolParam(r, "force")}); err != nil {
		writeError(w, err)
		return
	}
	noContent(w)
}

// volumePrune is POST /volumes/prune. From API 1.42 Docker prunes only
// anonymous volumes unless the filter all=true; older clients mean all.
func (s *Server) volumePrune(w http.ResponseWriter, r *http.Request) {
	filters, err := filterArgs(r.URL.Query().Get("filters"))
	if err != nil {
		writeError(w, err)
		return
	}
	v := requestVersion(r)
	o := engine.VolumePruneOptions{Filters: filters, All: v != "" && compareVersions(v, "1.42") < 0}
	res, err := s.e.VolumePrune(r.Context(), o)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, volume.PruneReport{VolumesDeleted: nonNil(res.Removed), SpaceReclaimed: uint64(max(res.SpaceReclaimed, 0))})
}

// volumeResponse is moby's Volume of the engine's inspect document.
func volumeResponse(d engine.VolumeInspect) volume.Volume {
	out := volume.Volume{CreatedAt: d.CreatedAt.Truncate(time.Second).Format(time.RFC3339), Driver: d.Driver, Labels: d.Labels,
		Mountpoint: d.Mountpoint, Name: d.Name, Options: d.Options, Scope: d.Scope}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.Options == nil {
		out.Options = map[string]string{}
	}
	return out
}
