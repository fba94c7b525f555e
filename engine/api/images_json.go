package api

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/storage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/skiff-engine/skiff/engine"
)

// imageSummary is one entry of GET /images/json. Docker's -1 for the
// counts it computes only when asked (Containers, SharedSize).
func imageSummary(img engine.Image, labels map[string]string) image.Summary {
	out := image.Summary{ID: "sha256:" + img.ID, Created: img.Created.Unix(), Size: img.Size,
		SharedSize: -1, Containers: -1, Labels: labels, RepoTags: []string{}, RepoDigests: nonNil(img.RepoDigests())}
	for _, n := range img.Names {
		out.RepoTags = append(out.RepoTags, engine.FamiliarName(n))
	}
	return out
}

// imageInspectResponse is GET /images/{name}/json in moby's shape.
func imageInspectResponse(in engine.ImageInspect) image.InspectResponse {
	c := in.Config
	out := image.InspectResponse{ID: in.ID, RepoTags: nonNil(in.RepoTags), RepoDigests: nonNil(in.RepoDigests),
		Comment: in.Comment, Created: in.Created, Author: in.Author, Architecture: in.Architecture, Variant: in.Variant,
		Os: in.Os, Size: in.Size, GraphDriver: &storage.DriverData{Name: in.GraphDriver.Name, Data: in.GraphDriver.Data},
		RootFS: image.RootFS{Type: in.RootFS.Type, Layers: in.RootFS.Layers},
		Config: &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{User: c.User, ExposedPorts: c.ExposedPorts,
			Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, Volumes: c.Volumes, WorkingDir: c.WorkingDir,
			Labels: c.Labels, StopSignal: c.StopSignal}},
	}
	return out
}

// imageHistoryResponse is GET /images/{name}/history: the top entry's ID
// and tags are the image's, those below are "<missing>" as Docker's.
func imageHistoryResponse(entries []engine.HistoryEntry) []image.HistoryResponseItem {
	out := []image.HistoryResponseItem{}
	for _, e := range entries {
		h := image.HistoryResponseItem{ID: e.ID, CreatedBy: e.CreatedBy, Size: e.Size, Comment: e.Comment}
		if !e.Created.IsZero() {
			h.Created = e.Created.Unix()
		}
		if e.ID != "<missing>" {
			h.ID = "sha256:" + e.ID
			h.Tags = []string{}
			for _, t := range e.Tags {
				h.Tags = append(h.Tags, engine.FamiliarName(t))
			}
		}
		out = append(out, h)
	}
	return out
}

// imageDeleteResponse is DELETE /images/{name}: every name untagged, then
// every image deleted.
func imageDeleteResponse(r engine.RemoveResult) []image.DeleteResponse {
	out := []image.DeleteResponse{}
	for _, n := range r.Untagged {
		out = append(out, image.DeleteResponse{Untagged: n})
	}
	for _, id := range r.Deleted {
		out = append(out, image.DeleteResponse{Deleted: id})
	}
	return out
}

// imagePruneReport is POST /images/prune's answer.
func imagePruneReport(r engine.ImagePruneResult) image.PruneReport {
	out := image.PruneReport{ImagesDeleted: []image.DeleteResponse{}, SpaceReclaimed: uint64(max(r.Reclaimed, 0))}
	for _, id := range r.Deleted {
		out.ImagesDeleted = append(out.ImagesDeleted, image.DeleteResponse{Deleted: id})
	}
	return out
}

// loadedLines are POST /images/load's stream lines, as dockerd words them.
func loadedLines(r engine.ImageLoadResult) []string {
	var out []string
	for _, n := range r.Names {
		out = append(out, "Loaded image: "+n+"\n")
	}
	for _, id := range r.IDs {
		if !strings.HasPrefix(id, "sha256:") {
			id = "sha256:" + id
		}
		out = append(out, "Loaded image ID: "+id+"\n")
	}
	return out
}

// configChanges turns a commit request's Config into the Dockerfile
// instructions the engine's commit applies (what --change takes).
func configChanges(c *container.Config) []string {
	if c == nil {
		return nil
	}
	var out []string
	if len(c.Cmd) > 0 {
		out = append(out, "CMD "+jsonList(c.Cmd))
	}
	if len(c.Entrypoint) > 0 {
		out = append(out, "ENTRYPOINT "+jsonList(c.Entrypoint))
	}
	for _, e := range c.Env {
		if k, v, ok := strings.Cut(e, "="); ok {
			out = append(out, "ENV "+k+"="+quoteValue(v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		out = append(out, "LABEL "+k+"="+quoteValue(c.Labels[k]))
	}
	var ports []string
	for p := range c.ExposedPorts {
		ports = append(ports, p.String())
	}
	slices.Sort(ports)
	for _, p := range ports {
		out = append(out, "EXPOSE "+p)
	}
	if c.User != "" {
		out = append(out, "USER "+c.User)
	}
	if c.WorkingDir != "" {
		out = append(out, "WORKDIR "+c.WorkingDir)
	}
	if c.StopSignal != "" {
		out = append(out, "STOPSIGNAL "+c.StopSignal)
	}
	return out
}

func jsonList(l []string) string {
	b, _ := json.Marshal(l)
	return string(b)
}

// quoteValue quotes v for the key=value forms (the changes parser takes
// either quote and no escapes).
func quoteValue(v string) string {
	if strings.Contains(v, `"`) {
		return "'" + v + "'"
	}
	return `"` + v + `"`
}
