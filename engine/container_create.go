package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/netns"
	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/storage"
)

// ContainerCreateOptions are a new container's options, typed and shaped
// as Docker's Config and HostConfig (field names follow moby's
// api/types/container), so that the command line (cmd/skiff parses its
// flags into them) and the API (its JSON maps onto them) create containers
// alike. Nothing here is command-line syntax: the environment is merged
// already, sizes are bytes, files are read. ContainerCreate validates them
// once, through runtime.CheckOptions.
type ContainerCreateOptions struct {
	ID           string // "" chooses one; else from NewContainerID (to start its monitor ahead)
	Name         string
	Image        string
	Pull         string    // missing (default), always, never
	PullProgress io.Writer // pull output when the image must be pulled

	// The process, as Docker's Config.
	Cmd           []string // replaces the image's CMD when not empty
	Entrypoint    []string // with EntrypointSet replaces the image's ENTRYPOINT (empty: none) and drops its CMD
	EntrypointSet bool
	Env           []string // NAME=value, applied over the image's; later ones win
	WorkingDir    string
	User          string // name, uid, name:group or uid:gid; "" for the image's
	GroupAdd      []string
	Hostname      string // "" for the short ID (the host's name with NetworkMode host)
	Labels        map[string]string
	Tty           bool
	OpenStdin     bool
	StdinOnce     bool   // Docker's: the first attach's end of input closes stdin (the API's attach reads it)
	StopSignal    string // "" for the image's, else SIGTERM
	StopTimeout   *int   // seconds; nil for 10

	// The host side, as Docker's HostConfig.
	Mounts         []Mount  // binds, volumes and tmpfs, in order
	VolumesFrom    []string // CONTAINER[:ro|rw]: that container's binds and volumes too
	ReadonlyRootfs bool
	Privileged     bool
	CapAdd         []string
	CapDrop        []string
	Security       SecurityOptions
	Resources      Resources
	Kernel         Kernel // namespaces shared with the host, /dev/shm, sysctls, OOM score, devices
	LogConfig      ContainerLogConfig
	NetworkMode    string // see ContainerNetworkModes
	Init           bool
	AutoRemove     bool
	RestartPolicy  RestartPolicy // run by the monitor; none with AutoRemove

	// Healthcheck is merged over the image's HEALTHCHECK (nil: the
	// image's; Test ["NONE"]: none); HealthOnFailure is podman's action
	// when the container turns unhealthy: none, kill, restart or stop.
	Healthcheck     *Healthcheck
	HealthOnFailure string

	// Networking, as Docker's HostConfig and Config.
	PortBindings    []PortBinding // -p
	PublishAllPorts bool          // -P: every exposed port to a random host port
	ExposedPorts    []Port        // besides the image's EXPOSE
	DNS             []string      // nameservers, replacing the host's
	DNSSearch       []string
	DNSOptions      []string
	ExtraHosts      []string // "name:address"; address HostGateway is the host
	NetworkAliases  []string // on the first network (a user network)
	IPAddress       string   // a fixed address on the first network (rootful)
	MacAddress      string
	// Networks are the container's further networks (eth1, eth2...),
	// Docker's further --network flags and NetworkingConfig; bridge-type
	// networks only, rootful.
	Networks []EndpointOptions

	// podman's options (container_extra.go).
	Replace     bool   // remove an existing container of this Name first
	Timezone    string // a zone of the host's /usr/share/zoneinfo, or "local"
	RunTimeout  uint   // seconds the container may run before SIGKILL; 0: no limit
	RemoveImage bool   // with AutoRemove: remove the image too, unless in use
	// SdNotify (podman's --sdnotify) says who tells systemd the container
	// is ready when a start is given a NOTIFY_SOCKET: SdNotifyMonitor
	// (once its process runs), SdNotifyContainer (the container itself, whose
	// messages the monitor relays) or SdNotifyIgnore; "" is SdNotifyMonitor.
	SdNotify string
	// CreateCommand is the command line that asked for the container, kept
	// for generate systemd --new.
	CreateCommand []string
}

// The typed parts of ContainerCreateOptions are runtime's, which validates
// them.
type (
	Mount              = runtime.Mount
	SecurityOptions    = runtime.SecurityOptions
	Resources          = runtime.Resources
	Kernel             = runtime.Kernel
	Device             = runtime.Device
	Ulimit             = runtime.Ulimit
	ContainerLogConfig = runtime.LogConfig // LogConfig is skiff.toml's [log]
	RestartPolicy      = runtime.RestartPolicy
)

// ContainerCreateResult names the new container.
type ContainerCreateResult struct {
	ID       string
	Name     string
	Warnings []string
}

// ContainerCreate validates every option, resolves the image (pulling it
// when allowed), and writes the record. A failure leaves nothing behind.
func (e *Engine) ContainerCreate(ctx context.Context, o ContainerCreateOptions) (ContainerCreateResult, error) {
	res, ev, err := e.containerCreate(ctx, o)
	if err == nil {
		e.record(ctx, ev)
	}
	return res, err
}

// containerCreate is ContainerCreate but returns its create event instead
// of recording it: a run records it in the transaction of its start's
// first state (ContainerStartOptions.pending), one transaction fewer.
func (e *Engine) containerCreate(ctx context.Context, o ContainerCreateOptions) (ContainerCreateResult, statedb.Event, error) {
	o.Name = strings.TrimPrefix(o.Name, "/") // Docker's API names containers "/web"
	if o.Name != "" && !validName(o.Name, 2) {
		return ContainerCreateResult{}, statedb.Event{}, invalid("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", o.Name)
	}
	if o.ID != "" && !validID(o.ID) {
		return ContainerCreateResult{}, statedb.Event{}, invalid("invalid container ID %q: 64 lowercase hex digits", o.ID)
	}
	e.prefetchCreate()
	cfg, err := e.buildConfig(ctx, o)
	if err != nil {
		return ContainerCreateResult{}, statedb.Event{}, err
	}
	if err := e.replaceContainer(ctx, o); err != nil {
		return ContainerCreateResult{}, statedb.Event{}, err
	}
	return e.commitContainer(o, cfg)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}

// buildConfig turns options and the image into a ContainerConfig, and
// validates the result once (runtime.CheckOptions) before anything exists.
func (e *Engine) buildConfig(ctx context.Context, o ContainerCreateOptions) (ContainerConfig, error) {
	cfg := ContainerConfig{Image: o.Image, Created: time.Now().UTC(), Tty: o.Tty, OpenStdin: o.OpenStdin, StdinOnce: o.StdinOnce,
		AutoRemove: o.AutoRemove, StopTimeout: 10, RunTimeout: int(o.RunTimeout), RemoveImage: o.RemoveImage,
		LogDriver: firstNonEmpty(o.LogConfig.Type, runtime.LogJSONFile), LogMaxSize: o.LogConfig.MaxSize,
		LogMaxFiles: max(o.LogConfig.MaxFile, 1), CreateCommand: slices.Clone(o.CreateCommand)}
	var err error
	if cfg.SdNotify, err = checkSdNotify(o.SdNotify); err != nil {
		return cfg, err
	}
	if o.StopTimeout != nil {
		cfg.StopTimeout = *o.StopTimeout
	}
	if err := runtime.CheckLogConfig(o.LogConfig, o.Tty); err != nil {
		return cfg, err
	}
	if err := runtime.CheckRestartPolicy(o.RestartPolicy, o.AutoRemove); err != nil {
		return cfg, err
	}
	cfg.RestartPolicy = o.RestartPolicy
	spec, err := e.specOptions(o)
	if err != nil {
		return cfg, err
	}
	img, imgCfg, err := e.resolveImage(ctx, o)
	if err != nil {
		return cfg, err
	}
	mode, network, err := e.resolveNetwork(o, slices.Collect(maps.Keys(imgCfg.Config.ExposedPorts)))
	if err != nil {
		return cfg, err
	}
	cfg.NetworkMode, cfg.Network = mode, network
	spec.NetNS = specNetNS(mode)
	cfg.ImageID = img.ID
	if cfg.Healthcheck, cfg.HealthOnFailure, err = e.resolveHealthcheck(o, img.ID); err != nil {
		return cfg, err
	}
	if len(img.Names) > 0 {
		cfg.ImageName = img.Names[0]
	}
	c := imgCfg.Config
	cfg.Entrypoint, cfg.Cmd = command(c.Entrypoint, c.Cmd, o)
	spec.Args = append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
	spec.Cwd = firstNonEmpty(o.WorkingDir, c.WorkingDir)
	spec.User = firstNonEmpty(o.User, c.User)
	if spec.Env, err = runtime.MergeEnv(c.Env, o.Env); err != nil {
		return cfg, err
	}
	if err := applyTimezone(&spec, o.Timezone); err != nil {
		return cfg, err
	}
	if cfg.AnonymousVolumes, err = e.resolveMounts(ctx, &spec, o.VolumesFrom, c.Volumes); err != nil {
		return cfg, err
	}
	if err := runtime.CheckOptions(spec); err != nil {
		return cfg, err
	}
	cfg.StopSignal = firstNonEmpty(o.StopSignal, c.StopSignal, "SIGTERM")
	if _, err := runtime.ParseSignal(cfg.StopSignal); err != nil {
		return cfg, invalid("invalid stop signal %q", cfg.StopSignal)
	}
	cfg.Labels = maps.Clone(c.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	maps.Copy(cfg.Labels, o.Labels)
	cfg.Spec = spec
	return cfg, nil
}

// resolveImage finds the image locally, pulling it as --pull allows.
func (e *Engine) resolveImage(ctx context.Context, o ContainerCreateOptions) (imagestore.Image, *imgspecv1.Image, error) {
	is, err := e.imageStore()
	if err != nil {
		return imagestore.Image{}, nil, err
	}
	if o.Image == "" {
		return imagestore.Image{}, nil, invalid("an image name is required")
	}
	pull := firstNonEmpty(o.Pull, "missing")
	switch pull {
	case "missing", "always", "never":
	default:
		return imagestore.Image{}, nil, invalid("invalid pull policy %q: use missing, always or never", pull)
	}
	img, cfg, err := is.Config(ctx, o.Image)
	if pull == "always" || (errdefs.IsNotFound(err) && pull == "missing") {
		if !imagestore.CanTransfer {
			return imagestore.Image{}, nil, imagestore.ErrTransferElsewhere // said once, by the build that pulls
		}
		if errdefs.IsNotFound(err) && o.PullProgress != nil {
			fmt.Fprintf(o.PullProgress, "Unable to find image '%s' locally\n", o.Image)
		}
		if _, err := is.Pull(ctx, o.Image, imagestore.PullOptions{Progress: o.PullProgress}); err != nil {
			return imagestore.Image{}, nil, err
		}
		return is.Config(ctx, o.Image)
	}
	if errdefs.IsNotFound(err) {
		return imagestore.Image{}, nil, fmt.Errorf("No such image: %s (and the pull policy is never): %w", o.Image, errdefs.ErrNotFound)
	}
	return img, cfg, err
}

// command is the ENTRYPOINT and CMD the container runs, by Docker's rules:
// a set entrypoint replaces the image's and drops its CMD; a command given
// replaces CMD.
func command(entry, cmd []string, o ContainerCreateOptions) ([]string, []string) {
	if o.EntrypointSet {
		entry, cmd = o.Entrypoint, nil
	}
	if len(o.Cmd) > 0 {
		cmd = o.Cmd
	}
	return slices.Clone(entry), slices.Clone(cmd)
}

// commitContainer writes the container: its directory, its row (which
// claims the name), its writable layer, and the files it mounts. Any
// failure removes what was written; a kill -9 leaves a row that rm removes.
func (e *Engine) commitContainer(o ContainerCreateOptions, cfg ContainerConfig) (ContainerCreateResult, statedb.Event, error) {
	if err := e.openDB(); err != nil {
		return ContainerCreateResult{}, statedb.Event{}, err
	}
	id := o.ID
	if id == "" {
		id = NewContainerID()
	}
	cfg.Spec.ID = id
	if cfg.Spec.UTSMode != "host" { // the host's name, whatever it is at each start
		cfg.Spec.Hostname = runtime.Hostname(cfg.Spec)
	}
	meta, err := json.Marshal(cfg)
	if err != nil {
		return ContainerCreateResult{}, statedb.Event{}, err
	}
	dir := e.containerDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ContainerCreateResult{}, statedb.Event{}, err
	}
	// The container's lock is held until it is complete: an rm of the
	// name just claimed waits, and then removes a whole container.
	unlock, err := lockContainer(&Container{ID: id, dir: dir})
	if err != nil {
		os.RemoveAll(dir)
		return ContainerCreateResult{}, statedb.Event{}, err
	}
	defer unlock()
	row := statedb.Container{ID: id, Name: o.Name, ImageID: cfg.ImageID, Created: cfg.Created,
		Status: string(runtime.StatusCreated), Config: meta}
	for attempt := 0; ; attempt++ {
		if o.Name == "" {
			row.Name = generateName()
		}
		err = e.db.CreateContainer(context.Background(), row)
		if errdefs.IsConflict(err) && o.Name == "" && attempt < 10 {
			continue
		}
		break
	}
	if err != nil {
		os.RemoveAll(dir)
		return ContainerCreateResult{}, statedb.Event{}, err
	}
	res := ContainerCreateResult{ID: id, Name: row.Name}
	var volumes []string // made for this container
	fail := func(err error) (ContainerCreateResult, statedb.Event, error) {
		e.store.DeleteContainer(id)
		os.RemoveAll(dir)
		e.db.DeleteContainer(context.Background(), id, 0)
		e.dropVolumes(volumes)
		return ContainerCreateResult{}, statedb.Event{}, err
	}
	// After the row: a volume prune or rm sees the container using them.
	if volumes, err = e.createVolumes(context.Background(), &cfg); err != nil {
		return fail(err)
	}
	if err := e.store.CreateContainer(storage.CreateOptions{ID: id, ImageID: cfg.ImageID, Volatile: cfg.AutoRemove}); err != nil {
		return fail(err)
	}
	if !cfg.AutoRemove { // a --rm container's are written by its start (launch)
		if err := writeContainerFiles(dir, &cfg); err != nil {
			return fail(err)
		}
	}
	return res, containerEventRow(&Container{ID: id, Name: row.Name, Config: cfg}, "create", nil), nil
}

// NewContainerID is 64 random hex digits whose short form is never all
// digits (a short ID must not read as a number), as Docker's.
func NewContainerID() string {
	b := make([]byte, 32)
	for {
		rand.Read(b)
		id := hex.EncodeToString(b)
		if strings.Trim(id[:12], "0123456789") != "" {
			return id
		}
	}
}

// writeContainerFiles writes the hosts, hostname and resolv.conf files the
// container bind-mounts (their paths: Container.HostsFile and friends).
func writeContainerFiles(dir string, cfg *ContainerConfig) error {
	hostname := runtime.Hostname(cfg.Spec)
	files := map[string][]byte{
		hostsFile:      hostsContent(hostname, "127.0.1.1", "", cfg.Network.ExtraHosts),
		hostnameFile:   []byte(hostname + "\n"),
		resolvConfFile: netns.ResolvConf(netns.HostResolvConf(), resolvOptions(cfg)),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return err
		}
	}
	return nil
}
