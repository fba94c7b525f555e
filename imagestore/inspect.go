package imagestore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	cstorage "go.podman.io/storage"

	"github.com/skiff-engine/skiff/runtime"
)

// Config reads the OCI config of a local image (by anything Lookup takes).
// The Image has no Size: measuring it walks every layer, and only inspect
// needs it.
func (s *Store) Config(ctx context.Context, input string) (Image, *imgspecv1.Image, error) {
	img, _, err := s.lookup(input)
	if err != nil {
		return Image{}, nil, err
	}
	cfg, err := s.config(ctx, img, input)
	if err != nil {
		return Image{}, nil, err
	}
	return s.fromStorage(img, false), cfg, nil
}

// config reads the image's config blob, which containers/image stores as
// big data under the config's digest (the image ID); for anything else it
// goes through containers/image's storage transport (configByTransport;
// bin/skiff hands such an image to skiff-full).
func (s *Store) config(ctx context.Context, img *cstorage.Image, input string) (*imgspecv1.Image, error) {
	if b, err := s.cs.ImageBigData(img.ID, "sha256:"+img.ID); err == nil {
		var cfg imgspecv1.Image
		if json.Unmarshal(b, &cfg) == nil {
			return &cfg, nil
		}
	}
	return s.configByTransport(ctx, img, input)
}

// Healthcheck is the HEALTHCHECK of the local image whose ID is id, nil
// when it has none. Docker's image config carries it (config.Healthcheck);
// an OCI config has no such field, and Config's OCI form drops it, so it
// is read from the config blob as stored.
func (s *Store) Healthcheck(id string) (*runtime.Healthcheck, error) {
	b, err := s.cs.ImageBigData(id, "sha256:"+id)
	if err != nil {
		return nil, nil // not stored under its digest: not a docker config
	}
	var cfg struct {
		Config *struct {
			Healthcheck *runtime.Healthcheck `json:"Healthcheck"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("image %s: its config: %w", id, err)
	}
	if cfg.Config == nil {
		return nil, nil
	}
	return cfg.Config.Healthcheck, nil
}

// HistoryEntry is one row of `history`.
type HistoryEntry struct {
	ID        string // image ID for the top entry, "<missing>" below (Docker's)
	Created   time.Time
	CreatedBy string
	Size      int64
	Comment   string
	Tags      []string
}

// History lists the image's build steps, newest first, with the size of the
// layer each step added.
func (s *Store) History(ctx context.Context, input string) ([]HistoryEntry, error) {
	img, cfg, err := s.Config(ctx, input)
	if err != nil {
		return nil, err
	}
	sizes := s.layerSizes(img.TopLayer) // bottom-up
	var out []HistoryEntry
	li := 0
	for _, h := range cfg.History {
		e := HistoryEntry{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment}
		if h.Created != nil {
			e.Created = *h.Created
		}
		if !h.EmptyLayer && li < len(sizes) {
			e.Size = sizes[li]
			li++
		}
		out = append(out, e)
	}
	if len(cfg.History) == 0 {
		for _, size := range sizes {
			out = append(out, HistoryEntry{ID: "<missing>", Size: size})
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 0 {
		out[0].ID = img.ID
		out[0].Tags = img.Names
	}
	return out, nil
}

// layerSizes walks from the top layer to the base; returns bottom-up sizes.
func (s *Store) layerSizes(top string) []int64 {
	var sizes []int64
	for id := top; id != ""; {
		l, err := s.cs.Layer(id)
		if err != nil {
			break
		}
		sizes = append([]int64{l.UncompressedSize}, sizes...)
		id = l.Parent
	}
	return sizes
}

// Inspect is Docker's image inspect JSON, plus podman's Digest.
type Inspect struct {
	ID            string         `json:"Id"`
	Digest        string         `json:"Digest"`
	RepoTags      []string       `json:"RepoTags"`
	RepoDigests   []string       `json:"RepoDigests"`
	Parent        string         `json:"Parent"`
	Comment       string         `json:"Comment"`
	Created       string         `json:"Created"`
	DockerVersion string         `json:"DockerVersion"`
	Author        string         `json:"Author"`
	Config        InspectConfig  `json:"Config"`
	Architecture  string         `json:"Architecture"`
	Variant       string         `json:"Variant,omitempty"`
	Os            string         `json:"Os"`
	Size          int64          `json:"Size"`
	VirtualSize   int64          `json:"VirtualSize"`
	GraphDriver   GraphDriver    `json:"GraphDriver"`
	RootFS        InspectRootFS  `json:"RootFS"`
	Metadata      map[string]any `json:"Metadata"`
}

// InspectConfig is the container config part of Docker's image inspect.
type InspectConfig struct {
	Hostname     string              `json:"Hostname"`
	User         string              `json:"User"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	Image        string              `json:"Image"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   []string            `json:"Entrypoint"`
	Labels       map[string]string   `json:"Labels"`
	StopSignal   string              `json:"StopSignal,omitempty"`
}

// GraphDriver names the storage driver and its paths.
type GraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

// InspectRootFS lists the layer diff IDs, bottom first.
type InspectRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

// InspectImage builds Docker's inspect document for a local image.
func (s *Store) InspectImage(ctx context.Context, input string) (Inspect, error) {
	img, cfg, err := s.Config(ctx, input)
	if err != nil {
		return Inspect{}, err
	}
	if size, err := s.cs.ImageSize(img.ID); err == nil {
		img.Size = size
	}
	out := Inspect{
		ID:           "sha256:" + img.ID,
		Digest:       img.Digest.String(),
		RepoTags:     []string{},
		RepoDigests:  img.RepoDigests(),
		Author:       cfg.Author,
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		Size:         img.Size,
		VirtualSize:  img.Size,
		GraphDriver:  GraphDriver{Name: s.cs.GraphDriverName(), Data: map[string]string{}},
		RootFS:       InspectRootFS{Type: "layers", Layers: []string{}},
		Metadata:     map[string]any{"LastTagTime": "0001-01-01T00:00:00Z"},
	}
	if out.RepoDigests == nil {
		out.RepoDigests = []string{}
	}
	for _, n := range img.Names {
		out.RepoTags = append(out.RepoTags, FamiliarName(n))
	}
	if cfg.Created != nil {
		out.Created = cfg.Created.UTC().Format(time.RFC3339Nano)
	}
	for _, d := range cfg.RootFS.DiffIDs {
		out.RootFS.Layers = append(out.RootFS.Layers, d.String())
	}
	if n := len(cfg.History); n > 0 {
		out.Comment = cfg.History[n-1].Comment
	}
	c := cfg.Config
	out.Config = InspectConfig{
		User: c.User, ExposedPorts: c.ExposedPorts, Env: c.Env, Cmd: c.Cmd, Volumes: c.Volumes,
		WorkingDir: c.WorkingDir, Entrypoint: c.Entrypoint, Labels: c.Labels, StopSignal: c.StopSignal,
	}
	if img.TopLayer != "" {
		out.GraphDriver.Data["LayerID"] = img.TopLayer
	}
	return out, nil
}
