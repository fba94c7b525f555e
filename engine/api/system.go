package api

import (
	"encoding/json"
	"fmt"
	"github.com/moby/moby/api/types/image"
	"net/http"
	"sort"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// notSwarmManager is Docker's 503 for swarm reads on a node outside a swarm
// (the docker CLI's info and node commands expect it).
const notSwarmManager = `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /_ping", s.ping)
	m.HandleFunc("HEAD /_ping", s.ping)
	m.HandleFunc("GET /version", s.version)
	m.HandleFunc("GET /info", s.info)
	m.HandleFunc("GET /events", s.events)
	m.HandleFunc("GET /system/df", s.systemDf)
	m.HandleFunc("POST /auth", s.auth)
	s.containerRoutes()
	s.execRoutes()
	s.imageRoutes()
	s.volumeRoutes()
	s.networkRoutes()
	for _, p := range []string{"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"} {
		m.HandleFunc("GET "+p, notManager)
		m.HandleFunc(p+"/", notImplemented("swarm"))
	}
	for _, p := range []string{"/plugins", "/session", "/grpc"} {
		m.HandleFunc(p, notImplemented(p[1:]))
		m.HandleFunc(p+"/", notImplemented(p[1:]))
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Message: "page not found"})
	})
}

func notManager(w http.ResponseWriter, r *http.Request) {
	writeError(w, fmt.Errorf("%s: %w", notSwarmManager, errdefs.ErrUnavailable))
}

func notImplemented(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("skiff does not implement %s (%s %s): %w", what, r.Method, r.URL.Path, errdefs.ErrNotImplemented))
	}
}

// ping answers OK (HEAD: no body); the middleware set the headers.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte("OK"))
	}
}

// version is Docker's server side of `version`.
func (s *Server) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, engine.Version(s.serverVersion()).Server)
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	info, err := s.e.SystemInfo(r.Context(), engine.SystemInfoOptions{Version: s.serverVersion()})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) systemDf(w http.ResponseWriter, r *http.Request) {
	df, err := s.e.SystemDf(r.Context(), engine.SystemDfOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, systemDfResponse(df))
}

// dfContainer and dfVolume are the entries of Docker's /system/df (the
// form before API 1.52, which the docker CLI up to 28 reads).
type dfContainer struct {
	ID         string `json:"Id"`
	Names      []string
	Image      string
	ImageID    string
	Command    string
	Created    int64
	State      string
	Status     string
	SizeRw     int64
	SizeRootFs int64
	Labels     map[string]string
	Mounts     []struct{}
}

type dfVolume struct {
	Name       string
	Driver     string
	Mountpoint string
	Labels     map[string]string
	Scope      string
	Options    map[string]string
	UsageData  struct{ Size, RefCount int64 }
}

// systemDfResponse is GET /system/df: LayersSize, Images (image
// summaries with SharedSize and Containers), Containers (with their
// sizes), Volumes (with UsageData) and an empty BuildCache.
func systemDfResponse(df engine.SystemDfResult) map[string]any {
	images := make([]image.Summary, 0, len(df.Images))
	for _, u := range df.Images {
		sum := imageSummary(u.Image, nil)
		sum.SharedSize, sum.Containers = u.SharedSize, int64(u.Containers)
		images = append(images, sum)
	}
	containers := make([]dfContainer, 0, len(df.Containers))
	for _, u := range df.Containers {
		c := u.Container
		labels := c.Config.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		containers = append(containers, dfContainer{ID: c.ID, Names: []string{"/" + c.Name}, Image: c.Config.Image, ImageID: c.ImageID,
			Command: c.Command(), Created: c.Created.Unix(), State: dockerState(c), Status: c.Status(),
			SizeRw: u.SizeRw, SizeRootFs: u.SizeRootFs, Labels: labels, Mounts: []struct{}{}})
	}
	volumes := make([]dfVolume, 0, len(df.Volumes))
	for _, v := range df.Volumes {
		dv := dfVolume{Name: v.Name, Driver: "local", Scope: "local", Labels: map[string]string{}, Options: map[string]string{}}
		dv.UsageData.Size, dv.UsageData.RefCount = v.Size, int64(v.Links)
		volumes = append(volumes, dv)
	}
	return map[string]any{"LayersSize": df.LayersSize, "Images": images, "Containers": containers,
		"Volumes": volumes, "BuildCache": []struct{}{}}
}

// auth has no registry login of its own through the API yet beyond the
// engine's: it checks the credentials the engine's way and stores them.
func (s *Server) auth(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username, Password, ServerAddress string
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, err)
		return
	}
	if _, err := s.e.Login(r.Context(), body.ServerAddress, engine.LoginOptions{Username: body.Username, Password: body.Password}); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"Status": "Login Succeeded", "IdentityToken": ""})
}

// events streams newline-delimited events, the 200 flushed before the
// first; it follows until `until` passes or the client goes.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now()
	var o engine.EventsOptions
	var err error
	if v := q.Get("since"); v != "" {
		if o.Since, err = engine.ParseTimestamp(v, now); err != nil {
			writeError(w, fmt.Errorf("since: %v: %w", err, errdefs.ErrInvalidArgument))
			return
		}
	}
	if v := q.Get("until"); v != "" {
		if o.Until, err = engine.ParseTimestamp(v, now); err != nil {
			writeError(w, fmt.Errorf("until: %v: %w", err, errdefs.ErrInvalidArgument))
			return
		}
	}
	if o.Filters, err = filterArgs(q.Get("filters")); err != nil {
		writeError(w, err)
		return
	}
	o.Follow = o.Until.IsZero() || o.Until.After(now)
	started := false
	o.Ready = func() {
		started = true
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		flush(w)
	}
	enc := json.NewEncoder(w)
	err = s.e.Events(r.Context(), o, func(ev engine.Event) error {
		if err := enc.Encode(ev); err != nil {
			return err
		}
		flush(w)
		return nil
	})
	if err != nil && !started {
		writeError(w, err)
	}
}

// filterArgs flattens Docker's filters JSON, {"key":{"value":true}} or the
// older {"key":["value"]}, into the engine's "key=value" filters.
func filterArgs(raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("invalid filter: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		var set map[string]bool
		if err := json.Unmarshal(m[k], &set); err == nil {
			vals := make([]string, 0, len(set))
			for v, on := range set {
				if on {
					vals = append(vals, v)
				}
			}
			sort.Strings(vals)
			for _, v := range vals {
				out = append(out, k+"="+v)
			}
			continue
		}
		var list []string
		if err := json.Unmarshal(m[k], &list); err != nil {
			return nil, fmt.Errorf("invalid filter %q: %w", k, errdefs.ErrInvalidArgument)
		}
		for _, v := range list {
			out = append(out, k+"="+v)
		}
	}
	return out, nil
}
