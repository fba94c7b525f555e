package engine

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/storage"
)

// Container records live in two places:
//
//	containers/storage's containers.json   ID, unique name, image, layer, and
//	                                       Config below as JSON metadata: one
//	                                       read lists every container
//	<storage dir>/userdata/                state.json (runtime.State, written by
//	                                       the monitor), config.json (the OCI
//	                                       spec), ctr.log, hosts, resolv.conf,
//	                                       hostname, lock
//	<runroot>/c/<id>/                      monitor.json, attach.sock, monitor.pid
//	<runroot>/runc/<id>/                   libcontainer's state
//
// The per-container flock (userdata/lock) serializes start, stop and remove
// across processes; libcontainer has no cross-process lock of its own.

// ContainerConfig is what `create` decided: everything needed to start the container
// again, and what inspect shows.
type ContainerConfig struct {
	Name        string              `json:"name"`
	Image       string              `json:"image"` // as the user typed it
	ImageID     string              `json:"image_id"`
	ImageName   string              `json:"image_name"` // resolved full name
	Created     time.Time           `json:"created"`
	Entrypoint  []string            `json:"entrypoint,omitempty"`
	Cmd         []string            `json:"cmd,omitempty"`
	Labels      map[string]string   `json:"labels,omitempty"`
	Tty         bool                `json:"tty,omitempty"`
	OpenStdin   bool                `json:"open_stdin,omitempty"`
	StopSignal  string              `json:"stop_signal,omitempty"`
	StopTimeout int                 `json:"stop_timeout"`
	AutoRemove  bool                `json:"auto_remove,omitempty"`
	LogDriver   string              `json:"log_driver"`
	LogMaxSize  int64               `json:"log_max_size,omitempty"`
	LogMaxFiles int                 `json:"log_max_files,omitempty"`
	NetworkMode string              `json:"network_mode"`
	RunTimeout  int                 `json:"run_timeout,omitempty"`  // --timeout, seconds
	RemoveImage bool                `json:"remove_image,omitempty"` // --rmi
	Spec        runtime.SpecOptions `json:"spec"`
}

// Container is one container as the engine sees it.
type Container struct {
	ID      string
	Name    string
	ImageID string
	Created time.Time
	Config  ContainerConfig
	State   runtime.State
	dir     string // persistent userdata directory
}

// StatePath is where the monitor records the container's State.
func (c *Container) StatePath() string { return filepath.Join(c.dir, "state.json") }

// LogPath is the container's log file.
func (c *Container) LogPath() string { return filepath.Join(c.dir, "ctr.log") }

// The files a container bind-mounts at /etc/hosts, /etc/hostname and
// /etc/resolv.conf, in its directory.
const (
	hostsFile      = "hosts"
	hostnameFile   = "hostname"
	resolvConfFile = "resolv.conf"
)

// HostsFile, HostnameFile and ResolvConfFile are the paths of those files.
func (c *Container) HostsFile() string      { return filepath.Join(c.dir, hostsFile) }
func (c *Container) HostnameFile() string   { return filepath.Join(c.dir, hostnameFile) }
func (c *Container) ResolvConfFile() string { return filepath.Join(c.dir, resolvConfFile) }

// Running reports a container whose monitor is alive and whose process runs.
func (c *Container) Running() bool {
	return c.State.Status == runtime.StatusRunning || c.State.Status == runtime.StatusPaused
}

// ShortID is Docker's 12-character ID.
func (c *Container) ShortID() string { return c.ID[:12] }

func (e *Engine) containerFromRecord(r storage.Container) (*Container, error) {
	c := &Container{ID: r.ID, Name: r.Name, ImageID: r.ImageID, Created: r.Created}
	if err := json.Unmarshal([]byte(r.Metadata), &c.Config); err != nil {
		return nil, fmt.Errorf("container %s: corrupt record: %w", r.ID, err)
	}
	c.dir = e.store.DirOf(r.ID)
	st, err := runtime.ReadState(c.StatePath())
	if err != nil {
		return nil, err
	}
	c.State = checkLiveness(st)
	return c, nil
}

// checkLiveness turns the record of a monitor that died (kill -9, reboot)
// into an exited state: a running container needs its monitor.
func checkLiveness(st runtime.State) runtime.State {
	if st.Status != runtime.StatusRunning && st.Status != runtime.StatusPaused {
		return st
	}
	if st.MonitorPid > 0 && runtime.ProcessStartTime(st.MonitorPid) == st.MonitorStart {
		return st
	}
	st.Status = runtime.StatusExited
	st.Error = "the container's monitor is gone (killed, or the machine rebooted)"
	if st.FinishedAt.IsZero() {
		st.ExitCode = 255
	}
	return st
}

// lookupContainer finds a container by full ID, name, or unique ID prefix.
func (e *Engine) lookupContainer(ref string) (*Container, error) {
	if _, err := e.imageStore(); err != nil {
		return nil, err
	}
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return nil, fmt.Errorf("container name or ID must not be empty: %w", errdefs.ErrInvalidArgument)
	}
	if r, err := e.store.Container(ref); err == nil {
		return e.containerFromRecord(r)
	}
	all, err := e.store.Containers()
	if err != nil {
		return nil, err
	}
	var match *storage.Container
	for i := range all {
		if strings.HasPrefix(all[i].ID, ref) {
			if match != nil {
				return nil, fmt.Errorf("multiple containers match %q: use more of the ID: %w", ref, errdefs.ErrInvalidArgument)
			}
			match = &all[i]
		}
	}
	if match == nil {
		return nil, fmt.Errorf("no such container: %s: %w", ref, errdefs.ErrNotFound)
	}
	return e.containerFromRecord(*match)
}

// listContainers reads every record once.
func (e *Engine) listContainers() ([]*Container, error) {
	if _, err := e.imageStore(); err != nil {
		return nil, err
	}
	all, err := e.store.Containers()
	if err != nil {
		return nil, err
	}
	out := make([]*Container, 0, len(all))
	for _, r := range all {
		c, err := e.containerFromRecord(r)
		if err != nil {
			continue // a record being created or removed right now
		}
		out = append(out, c)
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
