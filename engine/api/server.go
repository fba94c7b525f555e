// Package api serves Docker's Engine API over an engine: routing,
// versioning, Docker's headers and error bodies, and the idle accounting
// that lets `skiff system service` exit when nobody uses it. Handlers call
// the same engine operations as the CLI; the server keeps no state beyond
// its open connections.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// Options configure a Server.
type Options struct {
	Version string        // skiff's version, served as Docker's server version
	Idle    time.Duration // Serve returns after this long without a busy connection; 0: never
}

// Server is Docker's Engine API over one engine, opened for its life.
type Server struct {
	e    *engine.Engine
	opts Options
	mux  *http.ServeMux
	idle *idleTracker

	attaches attachQueue // attaches waiting for their container's start
	execs    execStreams // the terminal sizes of the execs streaming here
}

// New builds the server and its routes.
func New(e *engine.Engine, o Options) *Server {
	s := &Server{e: e, opts: o, mux: http.NewServeMux(), idle: newIdleTracker(o.Idle)}
	s.routes()
	return s
}

// Handler is the server's routing with its middleware (tests serve it
// directly).
func (s *Server) Handler() http.Handler { return s.middleware(s.mux) }

// Serve answers on ln until ctx ends or the server has been idle for
// Options.Idle, then stops accepting and waits for the requests still in
// flight (none is streaming when idle ends it).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ConnState:         s.idle.connState,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	case <-s.idle.done:
	}
	err := srv.Shutdown(context.Background())
	<-errc
	return err
}

// versionPrefix is the optional /vMAJOR.MINOR before a route.
var versionPrefix = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)$`)

// middleware sets Docker's headers on every response and strips and checks
// the API version prefix. The Host header is not checked (the Go client
// sends api.moby.localhost).
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Api-Version", engine.APIVersion)
		h.Set("Server", "Docker/"+s.serverVersion()+" (linux)")
		h.Set("Ostype", "linux")
		h.Set("Docker-Experimental", "false")
		h.Set("Builder-Version", "1")
		h.Set("Swarm", "inactive")
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
		h.Set("Pragma", "no-cache")
		if m := versionPrefix.FindStringSubmatch(r.URL.Path); m != nil {
			if err := checkVersion(m[1]); err != nil {
				writeError(w, err)
				return
			}
			r2 := r.WithContext(context.WithValue(r.Context(), versionKey{}, m[1]))
			u := *r.URL
			u.Path, u.RawPath = m[2], ""
			r2.URL = &u
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// versionKey is the context key of the request's API version.
type versionKey struct{}

// requestVersion is the API version the request's path names, "" (the
// newest) for an unversioned path.
func requestVersion(r *http.Request) string {
	v, _ := r.Context().Value(versionKey{}).(string)
	return v
}

func (s *Server) serverVersion() string {
	if s.opts.Version == "" {
		return "dev"
	}
	return s.opts.Version
}

// checkVersion refuses a version outside [MinAPIVersion, APIVersion] with
// Docker's messages.
func checkVersion(v string) error {
	switch {
	case compareVersions(v, engine.APIVersion) > 0:
		return fmt.Errorf("client version %s is too new. Maximum supported API version is %s: %w", v, engine.APIVersion, errdefs.ErrInvalidArgument)
	case compareVersions(v, engine.MinAPIVersion) < 0:
		return fmt.Errorf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version: %w", v, engine.MinAPIVersion, errdefs.ErrInvalidArgument)
	}
	return nil
}

// compareVersions compares MAJOR.MINOR versions numerically.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// errorBody is Docker's error response.
type errorBody struct {
	Message string `json:"message"`
}

// writeError answers err as Docker does: {"message": ...} with its kind's
// status. The kind's word that %w appended is not part of Docker's message.
func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, engine.HTTPStatus(err), errorBody{Message: errorMessage(err)})
}

// errorMessage is err's text as Docker's clients show it.
func errorMessage(err error) string {
	msg := err.Error()
	if k, ok := engine.KindOf(err); ok {
		msg = strings.TrimSuffix(msg, ": "+k.Word)
	}
	return msg
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decodeBody reads r's JSON body into v: malformed JSON or a field of the
// wrong type is InvalidArgument (400); an empty body leaves v as it is.
func decodeBody(r *http.Request, v any) error {
	if r.Body == nil {
		return nil
	}
	err := json.NewDecoder(r.Body).Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	return fmt.Errorf("invalid JSON: %v: %w", err, errdefs.ErrInvalidArgument)
}

// flush sends the status and headers now, before any body (streams whose
// clients wait for the headers before the first datum: events, wait, logs).
func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// boolParam is Docker's boolean query value: absent, "", "0", "false" and
// "no" are false (moby's httputils.BoolValue).
func boolParam(r *http.Request, name string) bool {
	switch strings.ToLower(strings.TrimSpace(r.URL.Query().Get(name))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}
