package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine"
)

// The archive endpoints serve the engine's archive operations (those of
// skiff cp), whose paths resolve inside the container: a symlink there
// never reaches the host's files.

// pathStatHeader carries the stat of the path, base64 JSON (Docker's).
const pathStatHeader = "X-Docker-Container-Path-Stat"

// archivePath is the required ?path=.
func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", fmt.Errorf("required query parameter 'path' is missing: %w", errdefs.ErrInvalidArgument)
	}
	return p, nil
}

func setPathStat(w http.ResponseWriter, st engine.ContainerPathStat) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(b))
	return nil
}

// containerArchiveHead answers the stat header only (a missing path:
// 404, its message in no body, as HEAD has none).
func (s *Server) containerArchiveHead(w http.ResponseWriter, r *http.Request) {
	p, err := archivePath(r)
	var res engine.ContainerStatPathResult
	if err == nil {
		res, err = s.e.ContainerStatPath(r.Context(), r.PathValue("id"), engine.ContainerStatPathOptions{Path: p})
	}
	if err == nil {
		err = setPathStat(w, res.Stat)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// containerArchiveGet streams the tar of the path after the stat header;
// an error during the stream cuts it short.
func (s *Server) containerArchiveGet(w http.ResponseWriter, r *http.Request) {
	p, err := archivePath(r)
	var res engine.ContainerArchiveGetResult
	if err == nil {
		res, err = s.e.ContainerArchiveGet(r.Context(), r.PathValue("id"), engine.ContainerArchiveGetOptions{Path: p})
	}
	if err != nil {
		writeError(w, err)
		return
	}
	defer res.Content.Close()
	if err := setPathStat(w, res.Stat); err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	io.Copy(w, res.Content)
}

// containerArchivePut extracts the tar body into the directory path:
// Docker's noOverwriteDirNonDir and copyUIDGID.
func (s *Server) containerArchivePut(w http.ResponseWriter, r *http.Request) {
	p, err := archivePath(r)
	if err == nil {
		_, err = s.e.ContainerArchivePut(r.Context(), r.PathValue("id"), engine.ContainerArchivePutOptions{
			Path: p, Content: r.Body, NoOverwriteDirNonDir: boolParam(r, "noOverwriteDirNonDir"), CopyUIDGID: boolParam(r, "copyUIDGID")})
	}
	if err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
