package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/skiff-engine/skiff/engine"
)

// Image endpoints. Image names carry slashes and colons
// (/images/localhost:5000/a/b:1/json), so the per-image routes take the
// rest of the path and split the verb off its end.
func (s *Server) imageRoutes() {
	m := s.mux
	m.HandleFunc("GET /images/json", s.imageList)
	m.HandleFunc("POST /images/create", s.imageCreate)
	m.HandleFunc("GET /images/get", s.imageSaveMany)
	m.HandleFunc("POST /images/load", s.imageLoad)
	m.HandleFunc("POST /images/prune", s.imagePrune)
	m.HandleFunc("GET /images/search", answer501("image search: skiff searches no registry; use the registry's own web page or API"))
	m.HandleFunc("GET /images/{ref...}", s.imageByName)
	m.HandleFunc("POST /images/{ref...}", s.imageByName)
	m.HandleFunc("DELETE /images/{ref...}", s.imageRemove)
	m.HandleFunc("POST /commit", s.imageCommit)
	m.HandleFunc("POST /build", answer501("skiff has no builder yet: build with buildah or docker buildx and load the result (docker load, skiff load)"))
	m.HandleFunc("GET /distribution/{ref...}", s.distributionInspect)
}

// answer501 answers 501 with msg.
func answer501(msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%s: %w", msg, errdefs.ErrNotImplemented))
	}
}

func pageNotFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, errorBody{Message: "page not found"})
}

// imageByName routes /images/{name}/{verb}.
func (s *Server) imageByName(w http.ResponseWriter, r *http.Request) {
	i := strings.LastIndex(r.PathValue("ref"), "/")
	if i <= 0 {
		pageNotFound(w)
		return
	}
	name, verb := r.PathValue("ref")[:i], r.PathValue("ref")[i+1:]
	switch r.Method + " " + verb {
	case "GET json":
		s.imageInspect(w, r, name)
	case "GET history":
		s.imageHistory(w, r, name)
	case "GET get":
		s.imageSave(w, r, []string{name})
	case "POST tag":
		s.imageTag(w, r, name)
	case "POST push":
		s.imagePush(w, r, name)
	default:
		pageNotFound(w)
	}
}

func (s *Server) imageList(w http.ResponseWriter, r *http.Request) {
	filters, err := filterArgs(r.URL.Query().Get("filters"))
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.ImageList(r.Context(), engine.ImageListOptions{All: boolParam(r, "all"), Filters: filters})
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]image.Summary, 0, len(res.Images))
	for _, img := range res.Images {
		var labels map[string]string
		if in, err := s.e.ImageInspect(r.Context(), img.ID, engine.ImageInspectOptions{}); err == nil {
			labels = in.Image.Config.Labels
		}
		out = append(out, imageSummary(img, labels))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) imageInspect(w http.ResponseWriter, r *http.Request, name string) {
	res, err := s.e.ImageInspect(r.Context(), name, engine.ImageInspectOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, imageInspectResponse(res.Image))
}

func (s *Server) imageHistory(w http.ResponseWriter, r *http.Request, name string) {
	res, err := s.e.ImageHistory(r.Context(), name, engine.ImageHistoryOptions{})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, imageHistoryResponse(res.Entries))
}

// imageTag is POST /images/{name}/tag?repo=&tag=: 201, no body.
func (s *Server) imageTag(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	if q.Get("repo") == "" {
		writeError(w, fmt.Errorf("tag needs a repository (?repo=NAME&tag=TAG): %w", errdefs.ErrInvalidArgument))
		return
	}
	if _, err := s.e.ImageTag(r.Context(), name, engine.ImageTagOptions{Target: repoTag(r)}); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// imageRemove is DELETE /images/{name}: Docker's list of what was
// untagged and deleted. noprune changes nothing: skiff keeps no parent
// images to prune.
func (s *Server) imageRemove(w http.ResponseWriter, r *http.Request) {
	res, err := s.e.ImageRemove(r.Context(), r.PathValue("ref"), engine.ImageRemoveOptions{Force: boolParam(r, "force")})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, imageDeleteResponse(res))
}

// imageCreate is POST /images/create: a pull (fromImage, tag, platform,
// X-Registry-Auth) or an import (fromSrc=- with the tarball as the body).
func (s *Server) imageCreate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if src := q.Get("fromSrc"); src != "" {
		s.imageImport(w, r, src)
		return
	}
	from := q.Get("fromImage")
	if from == "" {
		writeError(w, fmt.Errorf("create an image with fromImage (a pull) or fromSrc (an import): %w", errdefs.ErrInvalidArgument))
		return
	}
	platform, err := platformParam(q.Get("platform"))
	if err != nil {
		writeError(w, err)
		return
	}
	sw := newProgressStream(w)
	_, err = s.e.ImagePull(r.Context(), pullName(from, q.Get("tag")), engine.ImagePullOptions{
		Platform: platform, Progress: sw, JSON: true, Auth: registryAuth(r.Header.Get(registry.AuthHeader)),
	})
	sw.end(r, err)
}

// platformParam is the platform query value as the engine takes it,
// os/arch[/variant]: the string form, or the JSON OCI platform newer
// clients send.
func platformParam(v string) (string, error) {
	if !strings.HasPrefix(v, "{") {
		return v, nil
	}
	var p ocispec.Platform
	if err := json.Unmarshal([]byte(v), &p); err != nil || p.OS == "" || p.Architecture == "" {
		return "", fmt.Errorf("invalid platform %q: use os/arch[/variant] or the JSON of an OCI platform: %w", v, errdefs.ErrInvalidArgument)
	}
	return strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/"), nil
}

// repoTag is the name the query's repo and tag give (tag, commit,
// import): "" without a repo.
func repoTag(r *http.Request) string {
	q := r.URL.Query()
	if q.Get("repo") == "" || q.Get("tag") == "" {
		return q.Get("repo")
	}
	return q.Get("repo") + ":" + q.Get("tag")
}

// pullName joins fromImage and tag as Docker does: a tag replaces the
// name's own, a digest is name@digest, neither is :latest (skiff pulls no
// "all tags").
func pullName(from, tag string) string {
	if tag == "" {
		return from
	}
	name := from
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	if strings.Contains(tag, ":") { // sha256:...
		return name + "@" + tag
	}
	return name + ":" + tag
}

// imageImport is POST /images/create?fromSrc=-: the body is the root
// filesystem tarball; Docker's answer is the new ID as a status message.
func (s *Server) imageImport(w http.ResponseWriter, r *http.Request, src string) {
	if src != "-" {
		writeError(w, fmt.Errorf("import from %q: skiff imports only the request body (fromSrc=-); download the tarball and send it: %w", src, errdefs.ErrInvalidArgument))
		return
	}
	q := r.URL.Query()
	res, err := s.e.ImageImport(r.Context(), engine.ImageImportOptions{Input: r.Body, Reference: repoTag(r), Changes: q["changes"], Message: q.Get("message")})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, jsonstream.Message{Status: "sha256:" + res.Image.ID})
}

// imagePush is POST /images/{name}/push?tag=. As dockerd, the
// credentials come from X-Registry-Auth, or (older clients) the body;
// a request with neither is a 400.
func (s *Server) imagePush(w http.ResponseWriter, r *http.Request, name string) {
	auth, err := pushAuth(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if t := r.URL.Query().Get("tag"); t != "" {
		name = pullName(name, t)
	}
	sw := newProgressStream(w)
	_, err = s.e.ImagePush(r.Context(), name, engine.ImagePushOptions{Progress: sw, JSON: true, Auth: auth})
	sw.end(r, err)
}

// pushAuth reads a push's credentials: the header (an undecodable one is
// no credentials, as dockerd), else the body's JSON.
func pushAuth(r *http.Request) (engine.Credentials, error) {
	if h := r.Header.Get(registry.AuthHeader); h != "" {
		return registryAuth(h), nil
	}
	var ac registry.AuthConfig
	if err := json.NewDecoder(r.Body).Decode(&ac); err != nil {
		return engine.Credentials{}, fmt.Errorf("bad parameters and missing X-Registry-Auth: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return credentials(ac), nil
}

// registryAuth decodes X-Registry-Auth (base64url JSON AuthConfig); an
// empty or undecodable header is no credentials: the stored logins apply.
func registryAuth(h string) engine.Credentials {
	if h == "" {
		return engine.Credentials{}
	}
	h = strings.TrimRight(h, "=")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(h); err != nil {
			return engine.Credentials{}
		}
	}
	var ac registry.AuthConfig
	if json.Unmarshal(b, &ac) != nil {
		return engine.Credentials{}
	}
	return credentials(ac)
}

func credentials(ac registry.AuthConfig) engine.Credentials {
	if ac.Username == "" && ac.Auth != "" { // "user:password", base64
		if b, err := base64.StdEncoding.DecodeString(ac.Auth); err == nil {
			ac.Username, ac.Password, _ = strings.Cut(string(b), ":")
		}
	}
	return engine.Credentials{Username: ac.Username, Password: ac.Password, IdentityToken: ac.IdentityToken}
}

// progressStream is a pull's or push's JSON message stream. It holds the
// first message back, so that a failure before the registry answered
// anything (a bad name, an unknown repository, refused credentials) is a
// plain error status, as dockerd's, and sends the 200 with the second;
// a failure after it goes in the stream as Docker's error message.
type progressStream struct {
	w     http.ResponseWriter
	held  []byte
	began bool
}

func newProgressStream(w http.ResponseWriter) *progressStream { return &progressStream{w: w} }

func (p *progressStream) Write(b []byte) (int, error) {
	if !p.began && p.held == nil {
		p.held = append([]byte(nil), b...)
		return len(b), nil
	}
	p.begin()
	n, err := p.w.Write(b)
	flush(p.w)
	return n, err
}

func (p *progressStream) begin() {
	if p.began {
		return
	}
	p.began = true
	p.w.Header().Set("Content-Type", "application/json")
	p.w.WriteHeader(http.StatusOK)
	p.w.Write(p.held)
	flush(p.w)
}

// streamError is Docker's in-stream failure: errorDetail and the older
// error string, which the docker CLI 28 still reads.
type streamError struct {
	jsonstream.Message
	ErrorMessage string `json:"error,omitempty"`
}

// end finishes the stream after the transfer returned err.
func (p *progressStream) end(r *http.Request, err error) {
	switch {
	case err == nil:
		p.begin()
	case r.Context().Err() != nil:
		// the client went: nobody to tell
	case !p.began && errdefs.IsUnauthorized(err):
		// dockerd answers a registry's refusal with 500, not 401: on a
		// 401 the docker CLI prompts for a login (and waits forever
		// without a terminal).
		writeJSON(p.w, http.StatusInternalServerError, errorBody{Message: errorMessage(err)})
	case !p.began:
		writeError(p.w, err)
	default:
		msg := errorMessage(err)
		json.NewEncoder(p.w).Encode(streamError{Message: jsonstream.Message{Error: &jsonstream.Error{Message: msg}}, ErrorMessage: msg})
		flush(p.w)
	}
}

// imageSave streams the docker-archive of names; an error before the
// first byte is a JSON error.
func (s *Server) imageSave(w http.ResponseWriter, r *http.Request, names []string) {
	lw := &lazyWriter{w: w, contentType: "application/x-tar"}
	_, err := s.e.ImageSave(r.Context(), engine.ImageSaveOptions{Images: names, Output: lw})
	if err != nil && !lw.started {
		writeError(w, err)
		return
	}
	lw.start()
}

// imageSaveMany is GET /images/get?names=a&names=b.
func (s *Server) imageSaveMany(w http.ResponseWriter, r *http.Request) {
	names := r.URL.Query()["names"]
	if len(names) == 0 {
		writeError(w, fmt.Errorf("save needs at least one image (?names=NAME): %w", errdefs.ErrInvalidArgument))
		return
	}
	s.imageSave(w, r, names)
}

// imageLoad is POST /images/load: the body is the archive; the answer is
// Docker's "Loaded image" stream lines (quiet or not).
func (s *Server) imageLoad(w http.ResponseWriter, r *http.Request) {
	res, err := s.e.ImageLoad(r.Context(), engine.ImageLoadOptions{Input: r.Body})
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for _, line := range loadedLines(res) {
		enc.Encode(jsonstream.Message{Stream: line})
	}
}

func (s *Server) imagePrune(w http.ResponseWriter, r *http.Request) {
	filters, err := filterArgs(r.URL.Query().Get("filters"))
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := s.e.ImagePrune(r.Context(), engine.ImagePruneOptions{Filters: filters})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, imagePruneReport(res))
}

// imageCommit is POST /commit: the container's changes as a new image.
// The body's Config is applied like --change instructions.
func (s *Server) imageCommit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var cfg *container.Config
	if err := decodeBody(r, &cfg); err != nil {
		writeError(w, err)
		return
	}
	pause := q.Get("pause") == "" || boolParam(r, "pause") // Docker pauses unless told not to
	o := engine.ContainerCommitOptions{Reference: repoTag(r), Changes: append(q["changes"], configChanges(cfg)...),
		Message: q.Get("comment"), Author: q.Get("author"), Pause: pause}
	res, err := s.e.ContainerCommit(r.Context(), q.Get("container"), o)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, container.CommitResponse{ID: "sha256:" + res.Image.ID})
}

// distributionInspect is GET /distribution/{name}/json: the registry's
// manifest descriptor and platforms.
func (s *Server) distributionInspect(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("ref"), "/json")
	if !ok || name == "" {
		pageNotFound(w)
		return
	}
	res, err := s.e.ImageDistribution(r.Context(), name, engine.ImageDistributionOptions{Auth: registryAuth(r.Header.Get(registry.AuthHeader))})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, registry.DistributionInspect{Descriptor: res.Descriptor, Platforms: res.Platforms})
}
