package engine

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/runtime"
)

// Container records:
//
//	<graphroot>/skiff.db                   the containers table (statedb): ID,
//	                                       unique name, image, lifecycle status,
//	                                       Config and the last folded State
//	<graphroot>/storage/...                the writable layer (containers/storage,
//	                                       a record without a name)
//	<graphroot>/containers/<id>/           lock, ctr.log, and (Container.bootDir)
//	                                       state.json (the monitor's
//	                                       runtime.State), hosts, resolv.conf,
//	                                       hostname
//	<runroot>/c/<id>/                      monitor.json, attach.sock, monitor.pid,
//	                                       config.json (the start's OCI spec), and
//	                                       a --rm container's bootDir files
//	<runroot>/runc/<id>/                   libcontainer's state
//
// create makes the directory, then the row, then the layer; rm removes the
// layer, then the directory's contents, then the row: a kill -9 at any point
// leaves a row that rm -f finishes, never a layer without a row.
//
// The per-container flock (<dir>/lock) serializes start, stop, pause and
// remove across processes; libcontainer has no cross-process lock of its own.

// ContainerConfig is what `create` decided: everything needed to start the container
// again, and what inspect shows.
type ContainerConfig struct {
	Image       string              `json:"image"` // as the user typed it
	ImageID     string              `json:"image_id"`
	ImageName   string              `json:"image_name"` // resolved full name
	Created     time.Time           `json:"created"`
	Entrypoint  []string            `json:"entrypoint,omitempty"`
	Cmd         []string            `json:"cmd,omitempty"`
	Labels      map[string]string   `json:"labels,omitempty"`
	Tty         bool                `json:"tty,omitempty"`
	OpenStdin   bool                `json:"open_stdin,omitempty"`
	StdinOnce   bool                `json:"stdin_once,omitempty"` // the attach that ends the input closes the container's stdin
	StopSignal  string              `json:"stop_signal,omitempty"`
	StopTimeout int                 `json:"stop_timeout"`
	AutoRemove  bool                `json:"auto_remove,omitempty"`
	LogDriver   string              `json:"log_driver"`
	LogMaxSize  int64               `json:"log_max_size,omitempty"`
	LogMaxFiles int                 `json:"log_max_files,omitempty"`
	NetworkMode string              `json:"network_mode"` // resolved: container:ID, never NAME
	Network     ContainerNetwork    `json:"network"`
	RunTimeout  int                 `json:"run_timeout,omitempty"`  // --timeout, seconds
	RemoveImage bool                `json:"remove_image,omitempty"` // --rmi
	Spec        runtime.SpecOptions `json:"spec"`

	// CreateCommand is the command line that created the container
	// (podman's), for generate systemd --new; empty when made through the API.
	CreateCommand []string `json:"create_command,omitempty"`
	// SdNotify is --sdnotify: monitor, container or ignore; "" is monitor
	// when a start is given a NOTIFY_SOCKET (see notifyMode).
	SdNotify string `json:"sdnotify,omitempty"`

	// RestartPolicy is run by the monitor (runtime.MonitorConfig); the
	// zero value is Docker's "no".
	RestartPolicy runtime.RestartPolicy `json:"restart_policy,omitzero"`

	// Healthcheck is the merged check the monitor runs (nil: none;
	// Test ["NONE"]: disabled); HealthOnFailure is podman's action.
	Healthcheck     *runtime.Healthcheck `json:"healthcheck,omitempty"`
	HealthOnFailure string               `json:"health_on_failure,omitempty"`

	// AnonymousVolumes were made for the container (-v /path, the image's
	// VOLUMEs), and are recorded anonymous: rm -v and --rm remove them.
	AnonymousVolumes []string `json:"anonymous_volumes,omitempty"`
}

// Container is one container as the engine sees it.
type Container struct {
	ID      string
	Name    string
	ImageID string
	Created time.Time
	Config  ContainerConfig
	State   runtime.State // Status is the lifecycle status
	dir     string        // skiff's directory of the container
	run     string        // its directory under the run root (Engine.runDir)
}

// bootDir holds the container's state.json and the files it bind-mounts
// at /etc/hosts, /etc/hostname and /etc/resolv.conf: its directory, which
// survives a reboot, except for a container removed when it exits (--rm),
// which never outlives a boot: its run directory, on the run root's tmpfs,
// where they cost no new inodes and no disk metadata on the way to the
// start and the exit (a --rm container's files are written at each start,
// launch).
func (c *Container) bootDir() string {
	if c.Config.AutoRemove && c.run != "" {
		return c.run
	}
	return c.dir
}

// StatePath is where the monitor records the container's State.
func (c *Container) StatePath() string { return filepath.Join(c.bootDir(), "state.json") }

// LogPath is the container's log file.
func (c *Container) LogPath() string { return filepath.Join(c.dir, "ctr.log") }

// The files a container bind-mounts at /etc/hosts, /etc/hostname and
// /etc/resolv.conf, in its bootDir.
const (
	hostsFile      = "hosts"
	hostnameFile   = "hostname"
	resolvConfFile = "resolv.conf"
)

// HostsFile, HostnameFile and ResolvConfFile are the paths of those files.
func (c *Container) HostsFile() string      { return filepath.Join(c.bootDir(), hostsFile) }
func (c *Container) HostnameFile() string   { return filepath.Join(c.bootDir(), hostnameFile) }
func (c *Container) ResolvConfFile() string { return filepath.Join(c.bootDir(), resolvConfFile) }

// Running reports a container whose processes run: paused, starting and
// stopping ones count.
func (c *Container) Running() bool { return isRunning(c.State.Status) }

// ShortID is Docker's 12-character ID.
func (c *Container) ShortID() string { return c.ID[:12] }

// containerDir is skiff's directory of container id.
func (e *Engine) containerDir(id string) string {
	return filepath.Join(e.paths.GraphRoot, "containers", id)
}

// containerFromRow decodes a row and folds in what its monitor recorded.
// A damaged row still makes a Container, so that ps lists it and rm
// removes it.
func (e *Engine) containerFromRow(r statedb.Container) *Container {
	c := e.parseRow(r)
	e.fold(c)
	return c
}

// parseRow is containerFromRow without the fold: the row as recorded.
func (e *Engine) parseRow(r statedb.Container) *Container {
	c := &Container{ID: r.ID, Name: r.Name, ImageID: r.ImageID, Created: r.Created, dir: e.containerDir(r.ID), run: e.runDir(r.ID)}
	if err := json.Unmarshal(r.Config, &c.Config); err != nil {
		c.State.Error = fmt.Sprintf("damaged record: %v", err)
	} else if c.Config.Network.Endpoints == nil {
		c.Config.Network.Endpoints = legacyEndpoints(r.Config, c.Config.NetworkMode)
	}
	if err := json.Unmarshal(r.State, &c.State); err != nil {
		c.State = runtime.State{} // reads as a monitor gone, below
	}
	c.State.Status = runtime.Status(r.Status)
	return c
}

// legacyEndpoints reads the one network of a record written before
// containers had endpoints: the default network or a user one, with its
// settings beside the others. A record of today always has the
// endpoints key (null once the last network was disconnected).
func legacyEndpoints(config []byte, mode string) []Endpoint {
	switch {
	case mode == NetworkNone, mode == NetworkHost, mode == NetworkSlirp, mode == "",
		strings.HasPrefix(mode, networkContainer), strings.HasPrefix(mode, networkPath):
		return nil // never had one: no second decoding for them
	}
	var old struct {
		Network map[string]json.RawMessage `json:"network"`
	}
	if json.Unmarshal(config, &old) != nil {
		return nil
	}
	if _, ok := old.Network["endpoints"]; ok {
		return nil
	}
	var ep Endpoint
	for key, dst := range map[string]any{"network_id": &ep.NetworkID, "dns_server": &ep.DNSServer,
		"aliases": &ep.Aliases, "ip_address": &ep.IPAddress, "mac_address": &ep.MacAddress} {
		if v, ok := old.Network[key]; ok {
			json.Unmarshal(v, dst)
		}
	}
	if mode != NetworkBridge && ep.NetworkID == "" {
		return nil
	}
	return []Endpoint{ep}
}

// lookupContainer finds a container by full ID, name, or unique ID prefix.
func (e *Engine) lookupContainer(ref string) (*Container, error) {
	c, err := e.lookupRow(ref)
	if err == nil {
		e.fold(c)
	}
	return c, err
}

// lookupRow is lookupContainer without the fold.
func (e *Engine) lookupRow(ref string) (*Container, error) {
	if err := e.openDB(); err != nil {
		return nil, err
	}
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return nil, fmt.Errorf("container name or ID must not be empty: %w", errdefs.ErrInvalidArgument)
	}
	r, err := e.db.Container(context.Background(), ref)
	if err != nil {
		return nil, err
	}
	return e.parseRow(r), nil
}

// listContainers reads every record in one query, newest first.
func (e *Engine) listContainers() ([]*Container, error) {
	if err := e.openDB(); err != nil {
		return nil, err
	}
	rows, err := e.db.Containers(context.Background())
	if err != nil {
		return nil, err
	}
	out := make([]*Container, 0, len(rows))
	for _, r := range rows {
		out = append(out, e.containerFromRow(r))
	}
	return out, nil
}

// Docker-style names: adjective_surname of a scientist or engineer.
var (
	nameLeft = []string{"agile", "bold", "brave", "bright", "calm", "clever", "cool", "crisp", "daring", "eager",
		"fair", "fancy", "fervent", "focused", "gentle", "happy", "hardy", "hopeful", "keen", "kind",
		"lively", "loyal", "lucid", "merry", "modest", "nimble", "noble", "patient", "plucky", "polite",
		"proud", "quick", "quiet", "rapid", "serene", "sharp", "shy", "sleek", "steady", "stoic",
		"swift", "tender", "tidy", "trusty", "upbeat", "vivid", "warm", "wise", "witty", "zealous"}
	nameRight = []string{"babbage", "bohr", "boole", "cantor", "curie", "darwin", "dijkstra", "einstein", "euler", "faraday",
		"fermat", "fermi", "feynman", "galileo", "gauss", "hamilton", "hawking", "hilbert", "hopper", "hubble",
		"kepler", "knuth", "lamarr", "lovelace", "maxwell", "meitner", "mendel", "newton", "noether", "pascal",
		"pasteur", "planck", "ramanujan", "riemann", "ritchie", "sagan", "shannon", "tesla", "thompson", "turing",
		"volta", "wozniak", "yalow", "zuse", "goodall", "hypatia", "kalam", "lumiere", "morse", "nash"}
)

func pick(list []string) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
	return list[n.Int64()]
}

// generateName returns adjective_surname; callers retry on a clash.
func generateName() string { return pick(nameLeft) + "_" + pick(nameRight) }
