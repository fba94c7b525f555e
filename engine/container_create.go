package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	units "github.com/docker/go-units"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/netns"
	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/storage"
)

// ContainerCreateOptions are `create`/`run` flags, already split from the
// command line but not yet validated.
type ContainerCreateOptions struct {
	ID           string // "" chooses one; else from NewContainerID (to start its monitor ahead)
	Name         string
	Image        string
	Pull         string    // missing (default), always, never
	PullProgress io.Writer // pull output when the image must be pulled

	Command       []string // arguments after the image
	Entrypoint    string
	EntrypointSet bool // --entrypoint given ("" clears the image's)
	Env           []string
	EnvFiles      []string
	Workdir       string
	User          string
	GroupAdd      []string
	Hostname      string
	Labels        []string // key=value
	Tty           bool
	Interactive   bool

	Volumes     []string // -v SRC:DST[:ro]
	Tmpfs       []string // --tmpfs DST[:OPTS]
	ReadOnly    bool
	Privileged  bool
	CapAdd      []string
	CapDrop     []string
	SecurityOpt []string
	Memory      string
	CPUs        float64
	PidsLimit   int64
	Ulimits     []string
	Init        bool

	StopSignal  string
	StopTimeout int // -1: default (10 s)
	AutoRemove  bool
	LogDriver   string
	LogOpts     []string
	Network     string
	CIDFile     string

	// podman's run/create options (container_extra.go).
	Replace     bool   // remove an existing container of this Name first
	Timezone    string // a zone of the host's /usr/share/zoneinfo, or "local"
	RunTimeout  int    // seconds the container may run before SIGKILL; 0: no limit
	RemoveImage bool   // with AutoRemove: remove the image too, unless in use
}

// ContainerCreateResult names the new container.
type ContainerCreateResult struct {
	ID       string
	Name     string
	Warnings []string
}

var (
	validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)
	validID   = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ContainerCreate validates every option, resolves the image (pulling it
// when allowed), and writes the record. A failure leaves nothing behind.
func (e *Engine) ContainerCreate(ctx context.Context, o ContainerCreateOptions) (ContainerCreateResult, error) {
	o.Name = strings.TrimPrefix(o.Name, "/") // Docker's API names containers "/web"
	if o.Name != "" && !validName.MatchString(o.Name) {
		return ContainerCreateResult{}, invalid("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", o.Name)
	}
	if o.ID != "" && !validID.MatchString(o.ID) {
		return ContainerCreateResult{}, invalid("invalid container ID %q: 64 lowercase hex digits", o.ID)
	}
	if o.CIDFile != "" {
		if _, err := os.Stat(o.CIDFile); err == nil {
			return ContainerCreateResult{}, invalid("container ID file found, make sure the other container isn't running or delete %s", o.CIDFile)
		}
	}
	cfg, err := e.buildConfig(ctx, o)
	if err != nil {
		return ContainerCreateResult{}, err
	}
	if err := e.replaceContainer(ctx, o); err != nil {
		return ContainerCreateResult{}, err
	}
	return e.commitContainer(o, cfg)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidArgument)...)
}

// buildConfig turns options and the image into a ContainerConfig.
func (e *Engine) buildConfig(ctx context.Context, o ContainerCreateOptions) (ContainerConfig, error) {
	cfg := ContainerConfig{Image: o.Image, Created: time.Now().UTC(), Tty: o.Tty, OpenStdin: o.Interactive,
		AutoRemove: o.AutoRemove, StopTimeout: 10}
	if o.StopTimeout >= 0 {
		cfg.StopTimeout = o.StopTimeout
	}
	if err := parseLogOptions(&cfg, o.LogDriver, o.LogOpts); err != nil {
		return cfg, err
	}
	if cfg.LogDriver == runtime.LogPassthrough && o.Tty {
		return cfg, invalid("--log-driver passthrough hands the container your stdio as they are: drop -t")
	}
	spec, err := e.specFromFlags(o)
	if err != nil {
		return cfg, err
	}
	if err := runtime.CheckOptions(spec); err != nil {
		return cfg, err
	}
	img, imgCfg, err := e.resolveImage(ctx, o)
	if err != nil {
		return cfg, err
	}
	cfg.ImageID = img.ID
	if len(img.Names) > 0 {
		cfg.ImageName = img.Names[0]
	}
	c := imgCfg.Config
	cfg.Entrypoint, cfg.Cmd = c.Entrypoint, c.Cmd
	spec.Args = mergeCommand(c.Entrypoint, c.Cmd, o)
	if len(spec.Args) == 0 {
		return cfg, invalid("no command specified: the image has no CMD or ENTRYPOINT; give one after the image name")
	}
	if o.EntrypointSet {
		cfg.Entrypoint = nil
		if o.Entrypoint != "" {
			cfg.Entrypoint = []string{o.Entrypoint}
		}
	}
	if len(o.Command) > 0 {
		cfg.Cmd = o.Command
	}
	if spec.Env, err = mergeEnv(c.Env, o.EnvFiles, o.Env); err != nil {
		return cfg, err
	}
	if err := applyExtraOptions(&cfg, &spec, o); err != nil {
		return cfg, err
	}
	spec.Cwd = firstNonEmpty(o.Workdir, c.WorkingDir)
	if spec.Cwd != "" && !filepath.IsAbs(spec.Cwd) {
		return cfg, invalid("the working directory %q is not an absolute path", spec.Cwd)
	}
	spec.User = firstNonEmpty(o.User, c.User)
	if err := runtime.CheckProcess(spec); err != nil {
		return cfg, err
	}
	cfg.StopSignal = firstNonEmpty(o.StopSignal, c.StopSignal, "SIGTERM")
	if _, err := runtime.ParseSignal(cfg.StopSignal); err != nil {
		return cfg, invalid("invalid stop signal %q", cfg.StopSignal)
	}
	if cfg.Labels, err = mergeLabels(c.Labels, o.Labels); err != nil {
		return cfg, err
	}
	cfg.NetworkMode = spec.NetNS
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
		return imagestore.Image{}, nil, invalid("invalid --pull %q: use missing, always or never", pull)
	}
	img, cfg, err := is.Config(ctx, o.Image)
	if pull == "always" || (errdefs.IsNotFound(err) && pull == "missing") {
		if errdefs.IsNotFound(err) && o.PullProgress != nil {
			fmt.Fprintf(o.PullProgress, "Unable to find image '%s' locally\n", o.Image)
		}
		if _, err := is.Pull(ctx, o.Image, imagestore.PullOptions{Progress: o.PullProgress}); err != nil {
			return imagestore.Image{}, nil, err
		}
		return is.Config(ctx, o.Image)
	}
	if errdefs.IsNotFound(err) {
		return imagestore.Image{}, nil, fmt.Errorf("no such image: %s (--pull=never): %w", o.Image, errdefs.ErrNotFound)
	}
	return img, cfg, err
}

// mergeCommand applies Docker's rules: --entrypoint replaces the image's
// ENTRYPOINT and drops its CMD; arguments after the image replace CMD.
func mergeCommand(entry, cmd []string, o ContainerCreateOptions) []string {
	if o.EntrypointSet {
		entry, cmd = nil, nil
		if o.Entrypoint != "" {
			entry = []string{o.Entrypoint}
		}
	}
	if len(o.Command) > 0 {
		cmd = o.Command
	}
	return append(append([]string{}, entry...), cmd...)
}

// mergeEnv layers the image's env, --env-file files, then -e. A bare -e KEY
// takes the value from the caller's environment, or is dropped.
func mergeEnv(image []string, files, flags []string) ([]string, error) {
	env := append([]string{}, image...)
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		for i, e := range env {
			if strings.HasPrefix(e, k+"=") {
				env[i] = kv
				return
			}
		}
		env = append(env, kv)
	}
	var all []string
	for _, f := range files {
		lines, err := readEnvFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, lines...)
	}
	all = append(all, flags...)
	for _, kv := range all {
		k, _, hasValue := strings.Cut(kv, "=")
		if k == "" || strings.ContainsAny(k, " \t") {
			return nil, invalid("invalid environment variable %q", kv)
		}
		if !hasValue {
			v, ok := os.LookupEnv(k)
			if !ok {
				continue
			}
			kv = k + "=" + v
		}
		set(kv)
	}
	return env, nil
}

func readEnvFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, invalid("--env-file %s: %v", path, errors.Unwrap(err))
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, nil
}

func mergeLabels(image map[string]string, flags []string) (map[string]string, error) {
	labels := map[string]string{}
	for k, v := range image {
		labels[k] = v
	}
	for _, l := range flags {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, invalid("invalid label %q: use key=value", l)
		}
		labels[k] = v
	}
	return labels, nil
}

func parseLogOptions(cfg *ContainerConfig, driver string, opts []string) error {
	cfg.LogDriver = firstNonEmpty(driver, "json-file")
	switch cfg.LogDriver {
	case "json-file", "k8s-file", "none", "passthrough":
	default:
		return invalid("unknown log driver %q: use json-file, k8s-file, none or passthrough", cfg.LogDriver)
	}
	cfg.LogMaxFiles = 1
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "max-size":
			n, err := units.RAMInBytes(v)
			if err != nil || n < 0 {
				return invalid("invalid --log-opt max-size=%s: use a size like 10m", v)
			}
			cfg.LogMaxSize = n
		case "max-file":
			var n int
			if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
				return invalid("invalid --log-opt max-file=%s: use a number >= 1", v)
			}
			cfg.LogMaxFiles = n
		default:
			return invalid("unknown --log-opt %q: use max-size= or max-file=", k)
		}
	}
	return nil
}

// commitContainer writes the container: its directory, its row (which
// claims the name), its writable layer, and the files it mounts. Any
// failure removes what was written; a kill -9 leaves a row that rm removes.
func (e *Engine) commitContainer(o ContainerCreateOptions, cfg ContainerConfig) (ContainerCreateResult, error) {
	if err := e.openDB(); err != nil {
		return ContainerCreateResult{}, err
	}
	id := o.ID
	if id == "" {
		id = NewContainerID()
	}
	cfg.Spec.ID, cfg.Spec.Hostname = id, containerHostname(id, o.Hostname, cfg.Spec.NetNS == "host")
	meta, err := json.Marshal(cfg)
	if err != nil {
		return ContainerCreateResult{}, err
	}
	dir := e.containerDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ContainerCreateResult{}, err
	}
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
		return ContainerCreateResult{}, err
	}
	res := ContainerCreateResult{ID: id, Name: row.Name}
	fail := func(err error) (ContainerCreateResult, error) {
		e.store.DeleteContainer(id)
		os.RemoveAll(dir)
		e.db.DeleteContainer(context.Background(), id)
		return ContainerCreateResult{}, err
	}
	if err := e.store.CreateContainer(storage.CreateOptions{ID: id, ImageID: cfg.ImageID, Volatile: cfg.AutoRemove}); err != nil {
		return fail(err)
	}
	if err := writeContainerFiles(dir, &cfg); err != nil {
		return fail(err)
	}
	if o.CIDFile != "" {
		f, err := os.OpenFile(o.CIDFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = f.WriteString(id)
			f.Close()
		}
		if err != nil {
			return fail(invalid("--cidfile %s: %v", o.CIDFile, err))
		}
	}
	return res, nil
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

// containerHostname is --hostname, else the short ID, else with
// --network host the host's name.
func containerHostname(id, given string, hostNet bool) string {
	if given != "" {
		return given
	}
	if hostNet {
		if h, err := os.Hostname(); err == nil {
			return h
		}
	}
	return id[:12]
}

// writeContainerFiles writes the hosts, hostname and resolv.conf files the
// container bind-mounts (their paths: Container.HostsFile and friends).
func writeContainerFiles(dir string, cfg *ContainerConfig) error {
	hostname := cfg.Spec.Hostname
	files := map[string][]byte{
		hostsFile:      netns.HostsFile(hostname, nil),
		hostnameFile:   []byte(hostname + "\n"),
		resolvConfFile: netns.ResolvConf(netns.HostResolvConf(), cfg.Spec.NetNS == "host"),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return err
		}
	}
	return nil
}
