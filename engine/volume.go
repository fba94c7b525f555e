package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/storage"
)

// Volume records:
//
//	<graphroot>/skiff.db              the volumes table: unique name, driver
//	                                  ("local"), created, config (VolumeConfig)
//	<graphroot>/volumes/<name>/       the volume; flocked while its data is
//	                                  mounted, unmounted, filled or removed
//	<graphroot>/volumes/<name>/_data  its data, bind-mounted into containers;
//	                                  for a volume with driver options (tmpfs,
//	                                  a bind, a block device) the mount point
//	                                  of that, mounted while a container uses it
//
// create makes the directory (kept if it exists: it is empty unless a
// volume of the name exists), then the row, which claims the name; rm
// renames the directory away, then deletes the row, then the directory: a
// name is never reused with an old volume's data. A volume is in use while
// any container, running or not, names it in its mounts.

// Volume is one volume as the engine sees it.
type Volume struct {
	Name       string
	Driver     string
	Created    time.Time
	Mountpoint string // the data directory
	Config     VolumeConfig
	Size       int64 // bytes of data; -1 unless asked for (VolumeListOptions.Size)
}

// VolumeConfig is a volume's settings, kept as the row's JSON.
type VolumeConfig struct {
	Labels    map[string]string `json:"labels,omitempty"`
	Options   map[string]string `json:"options,omitempty"`   // the local driver's: type, device, o
	Anonymous bool              `json:"anonymous,omitempty"` // made for a container (-v /path, an image's VOLUME)
}

// checkVolumeName refuses a name Docker would, saying what a path needs.
func checkVolumeName(name string) error {
	if !validName(name, 2) {
		return invalid("invalid volume name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (two characters at least); to mount a host directory, give its absolute path", name)
	}
	return nil
}

func (e *Engine) volumesDir() string { return filepath.Join(e.paths.GraphRoot, "volumes") }

// volumeData is the data directory of volume name.
func (e *Engine) volumeData(name string) string {
	return filepath.Join(e.volumesDir(), name, "_data")
}

// newVolumeName is a name for an anonymous volume: 64 hex digits, as Docker's.
func newVolumeName() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// VolumeCreateOptions are `volume create`'s, as Docker's API takes them.
type VolumeCreateOptions struct {
	Name    string // "" for a random one
	Driver  string // "" or local
	Labels  map[string]string
	Options map[string]string // local driver: type, device, o
}

// VolumeCreateResult names the volume.
type VolumeCreateResult struct {
	Name string
}

// VolumeCreate records a volume and makes its directory. As Docker, a name
// that exists already is that volume, not an error.
func (e *Engine) VolumeCreate(ctx context.Context, o VolumeCreateOptions) (VolumeCreateResult, error) {
	name := o.Name
	if name == "" {
		name = newVolumeName()
	}
	if err := checkVolumeName(name); err != nil {
		return VolumeCreateResult{}, err
	}
	if o.Driver != "" && o.Driver != "local" {
		return VolumeCreateResult{}, invalid("volume driver %q is not supported: use local", o.Driver)
	}
	if err := e.checkVolumeOptions(o.Options); err != nil {
		return VolumeCreateResult{}, err
	}
	if err := e.openDB(); err != nil {
		return VolumeCreateResult{}, err
	}
	_, _, err := e.ensureVolume(ctx, name, VolumeConfig{Labels: o.Labels, Options: o.Options})
	return VolumeCreateResult{Name: name}, err
}

// ensureVolume makes volume name unless it exists, and reports whether
// this call made it. The directory comes first: of two processes making
// one volume, the one that finds the row made by the other finds its
// directory too.
func (e *Engine) ensureVolume(ctx context.Context, name string, cfg VolumeConfig) (*Volume, bool, error) {
	if err := makeVolumeDirs(e.volumeData(name)); err != nil {
		return nil, false, fmt.Errorf("volume %s: %w", name, err)
	}
	b, _ := json.Marshal(cfg)
	row, created, err := e.db.EnsureVolume(ctx, statedb.Volume{Name: name, Driver: "local", Created: time.Now().UTC(), Config: b})
	if err != nil {
		return nil, false, err
	}
	if created {
		e.event(ctx, EventVolume, "create", name, map[string]string{"driver": row.Driver})
	}
	v, err := e.volumeFromRow(row)
	return v, created, err
}

// makeVolumeDirs makes a volume's directory, private to the store's owner
// as the containers' are (containers reach the data through their mounts,
// other users of the host not at all), and its data directory.
func makeVolumeDirs(data string) error {
	dir := filepath.Dir(data)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	if err := os.Mkdir(data, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return nil
}

func (e *Engine) volumeFromRow(r statedb.Volume) (*Volume, error) {
	v := &Volume{Name: r.Name, Driver: r.Driver, Created: r.Created, Mountpoint: e.volumeData(r.Name), Size: -1}
	if err := json.Unmarshal(r.Config, &v.Config); err != nil {
		return nil, fmt.Errorf("volume %s: damaged record: %w", r.Name, err)
	}
	return v, nil
}

// checkVolumeOptions checks the local driver's options as Docker does
// (type and device are both needed once any is given), and what a rootless
// skiff cannot mount.
func (e *Engine) checkVolumeOptions(opts map[string]string) error {
	if len(opts) == 0 {
		return nil
	}
	for _, k := range sortedKeys(opts) {
		if k != "type" && k != "device" && k != "o" {
			return invalid("invalid option key: %q: the local driver takes type, device and o", k)
		}
	}
	for _, k := range []string{"type", "device"} {
		if opts[k] == "" {
			return invalid("missing required option: %q: the local driver needs type and device (e.g. type=tmpfs,device=tmpfs)", k)
		}
	}
	typ, dev := opts["type"], opts["device"]
	switch {
	case typ == "tmpfs":
	case isBindVolume(opts):
		if !filepath.IsAbs(dev) {
			return invalid("invalid volume device %q: a bind volume needs an absolute host path", dev)
		}
		if _, err := os.Stat(dev); err != nil {
			return invalid("invalid volume device %q: the host path does not exist", dev)
		}
	case e.paths.Rootless:
		return fmt.Errorf("volume type %q (a device) cannot be mounted by rootless skiff: use type=tmpfs or a bind (type=none, o=bind), or run as root: %w", typ, errdefs.ErrFailedPrecondition)
	case !filepath.IsAbs(dev):
		return invalid("invalid volume device %q for type %s: use the absolute path of a block device", dev, typ)
	}
	return nil
}

// isBindVolume: type=none with o=bind (or rbind).
func isBindVolume(opts map[string]string) bool {
	for _, o := range strings.Split(opts["o"], ",") {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// lookupVolume finds the volume called name.
func (e *Engine) lookupVolume(ctx context.Context, name string) (*Volume, error) {
	if err := e.openDB(); err != nil {
		return nil, err
	}
	row, err := e.db.Volume(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.volumeFromRow(row)
}

// volumes are every volume, by name.
func (e *Engine) volumes(ctx context.Context) ([]*Volume, error) {
	if err := e.openDB(); err != nil {
		return nil, err
	}
	rows, err := e.db.Volumes(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Volume
	for _, r := range rows {
		v, err := e.volumeFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// volumeUsers maps each volume name to the containers naming it.
func (e *Engine) volumeUsers() (map[string][]*Container, error) {
	all, err := e.listContainers()
	if err != nil {
		return nil, err
	}
	return usersOfVolumes(all), nil
}

// usersOfVolumes maps each volume name to the containers of list that
// mount it.
func usersOfVolumes(list []*Container) map[string][]*Container {
	out := map[string][]*Container{}
	for _, c := range list {
		for _, m := range c.Config.Spec.Mounts {
			if m.Type == "volume" && m.Name != "" {
				out[m.Name] = append(out[m.Name], c)
			}
		}
	}
	return out
}

// VolumeListOptions are `volume ls`'s: Docker's filters (name, label,
// label!, dangling, driver); Size also measures each volume's data.
type VolumeListOptions struct {
	Filters []string
	Size    bool
}

// VolumeListResult lists volumes by name.
type VolumeListResult struct {
	Volumes []*Volume
}

// VolumeList lists the volumes the filters match.
func (e *Engine) VolumeList(ctx context.Context, o VolumeListOptions) (VolumeListResult, error) {
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return VolumeListResult{}, err
	}
	users, err := e.volumeUsers()
	if err != nil {
		return VolumeListResult{}, err
	}
	match, err := volumeFilterSpec("volumes", users).compile(f)
	if err != nil {
		return VolumeListResult{}, err
	}
	all, err := e.volumes(ctx)
	if err != nil {
		return VolumeListResult{}, err
	}
	var out []*Volume
	for _, v := range all {
		if !match(v) {
			continue
		}
		if o.Size {
			v.Size = storage.DirSize(v.Mountpoint)
		}
		out = append(out, v)
	}
	return VolumeListResult{Volumes: out}, nil
}

// volumeFilterSpec is Docker's volume ls keys: name (a pattern), label,
// label!, dangling (no container names it), driver.
func volumeFilterSpec(what string, users map[string][]*Container) filterSpec[*Volume] {
	keys := labelKeys(func(v *Volume) map[string]string { return v.Config.Labels })
	keys["name"] = filterKey[*Volume]{match: func(s string) (func(*Volume) bool, error) {
		m := matchName(s)
		return func(v *Volume) bool { return m(v.Name) }, nil
	}}
	keys["driver"] = filterKey[*Volume]{match: func(s string) (func(*Volume) bool, error) {
		return func(v *Volume) bool { return v.Driver == s }, nil
	}}
	keys["dangling"] = boolKey(func(v *Volume) bool { return len(users[v.Name]) == 0 })
	return filterSpec[*Volume]{what: what, keys: keys}
}

// VolumeInspect is Docker's volume inspect document.
type VolumeInspect struct {
	CreatedAt  time.Time         `json:"CreatedAt"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Mountpoint string            `json:"Mountpoint"`
	Name       string            `json:"Name"`
	Options    map[string]string `json:"Options"`
	Scope      string            `json:"Scope"`
	Anonymous  bool              `json:"Anonymous"` // podman's
}

// VolumeInspectOptions tune VolumeInspect (none yet).
type VolumeInspectOptions struct{}

// VolumeInspectResult is the document.
type VolumeInspectResult struct {
	Volume VolumeInspect
}

// VolumeInspect describes the volume called name.
func (e *Engine) VolumeInspect(ctx context.Context, name string, _ VolumeInspectOptions) (VolumeInspectResult, error) {
	v, err := e.lookupVolume(ctx, name)
	if err != nil {
		return VolumeInspectResult{}, err
	}
	d := VolumeInspect{CreatedAt: v.Created.Truncate(time.Second), Driver: v.Driver, Labels: maps.Clone(v.Config.Labels),
		Mountpoint: v.Mountpoint, Name: v.Name, Options: maps.Clone(v.Config.Options), Scope: "local", Anonymous: v.Config.Anonymous}
	if d.Labels == nil {
		d.Labels = map[string]string{}
	}
	if d.Options == nil {
		d.Options = map[string]string{}
	}
	return VolumeInspectResult{Volume: d}, nil
}

// VolumeExistsOptions tune VolumeExists (none yet).
type VolumeExistsOptions struct{}

// VolumeExistsResult answers VolumeExists.
type VolumeExistsResult struct {
	Exists bool
}

// VolumeExists reports whether a volume called name exists (podman's).
func (e *Engine) VolumeExists(ctx context.Context, name string, _ VolumeExistsOptions) (VolumeExistsResult, error) {
	_, err := e.lookupVolume(ctx, name)
	if errdefs.IsNotFound(err) {
		return VolumeExistsResult{}, nil
	}
	return VolumeExistsResult{Exists: err == nil}, err
}

// VolumeRemoveOptions tune VolumeRemove.
type VolumeRemoveOptions struct {
	Force bool // Docker's -f: a missing volume is no error (one in use still is)
}

// VolumeRemoveResult reports what VolumeRemove freed.
type VolumeRemoveResult struct {
	Size int64 // bytes of data removed
}

// VolumeRemove removes a volume no container names, and its data.
func (e *Engine) VolumeRemove(ctx context.Context, name string, o VolumeRemoveOptions) (VolumeRemoveResult, error) {
	v, err := e.lookupVolume(ctx, name)
	if errdefs.IsNotFound(err) && o.Force {
		return VolumeRemoveResult{}, nil
	}
	if err != nil {
		return VolumeRemoveResult{}, err
	}
	users, err := e.volumeUsers()
	if err != nil {
		return VolumeRemoveResult{}, err
	}
	if cs := users[v.Name]; len(cs) > 0 {
		var ids, names []string
		for _, c := range cs {
			ids, names = append(ids, c.ID), append(names, c.Name)
		}
		return VolumeRemoveResult{}, fmt.Errorf("remove %s: volume is in use - [%s] (container %s): remove the container first: %w",
			v.Name, strings.Join(ids, ", "), strings.Join(names, ", "), errdefs.ErrConflict)
	}
	return e.removeVolume(ctx, v)
}

// removeVolume unmounts v's data if its driver mounted it, and removes the
// volume. The data is never removed while something is mounted on it: a
// bind volume's data is the host's.
func (e *Engine) removeVolume(ctx context.Context, v *Volume) (VolumeRemoveResult, error) {
	unlock, err := e.lockVolume(v)
	if errdefs.IsNotFound(err) {
		err := e.db.DeleteVolume(ctx, v.Name) // its directory is gone already
		if err == nil {
			e.volumeDestroyed(ctx, v)
		}
		return VolumeRemoveResult{}, err
	}
	if err != nil {
		return VolumeRemoveResult{}, err
	}
	defer unlock()
	if err := unmountVolume(v); err != nil {
		return VolumeRemoveResult{}, err
	}
	res := VolumeRemoveResult{Size: storage.DirSize(v.Mountpoint)}
	dir := filepath.Dir(v.Mountpoint)
	trash := filepath.Join(e.volumesDir(), ".removing-"+v.Name+"-"+newVolumeName()[:8])
	if err := os.Rename(dir, trash); err != nil {
		return VolumeRemoveResult{}, fmt.Errorf("removing volume %s: %w", v.Name, err)
	}
	if err := e.db.DeleteVolume(ctx, v.Name); err != nil && !errdefs.IsNotFound(err) {
		return VolumeRemoveResult{}, err
	}
	e.volumeDestroyed(ctx, v)
	return res, os.RemoveAll(trash)
}

func (e *Engine) volumeDestroyed(ctx context.Context, v *Volume) {
	e.event(ctx, EventVolume, "destroy", v.Name, map[string]string{"driver": v.Driver})
}

// lockVolume takes v's cross-process lock (its directory's flock).
func (e *Engine) lockVolume(v *Volume) (func(), error) {
	dir := filepath.Dir(v.Mountpoint)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("no such volume: %s: %w", v.Name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return func() { unix.Close(fd) }, nil
}

// VolumePruneOptions are `volume prune`'s: Docker's filters (label,
// label!, all) and podman's until; All is Docker's -a.
type VolumePruneOptions struct {
	Filters []string
	All     bool // named volumes too, not only anonymous ones
}

// VolumePruneResult names the volumes removed and the bytes freed.
type VolumePruneResult struct {
	Removed        []string
	SpaceReclaimed int64
}

// VolumePrune removes the volumes no container names: as Docker (since
// 23.0), only anonymous ones unless All (or the filter all=true).
func (e *Engine) VolumePrune(ctx context.Context, o VolumePruneOptions) (VolumePruneResult, error) {
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return VolumePruneResult{}, err
	}
	keys := labelKeys(func(v *Volume) map[string]string { return v.Config.Labels })
	keys["until"] = untilKey(time.Now(), func(v *Volume) time.Time { return v.Created })
	// all=true is a mode, as Docker's -a, not a test of each volume.
	keys["all"] = filterKey[*Volume]{check: boolValues, match: func(string) (func(*Volume) bool, error) {
		return func(*Volume) bool { return true }, nil
	}}
	match, err := filterSpec[*Volume]{what: "volume prune", keys: keys}.compile(f)
	if err != nil {
		return VolumePruneResult{}, err
	}
	all := o.All || slices.ContainsFunc(f["all"], func(v string) bool { return v == "true" || v == "1" })
	vols, err := e.volumes(ctx)
	if err != nil {
		return VolumePruneResult{}, err
	}
	users, err := e.volumeUsers()
	if err != nil {
		return VolumePruneResult{}, err
	}
	var res VolumePruneResult
	for _, v := range vols {
		if len(users[v.Name]) > 0 || (!all && !v.Config.Anonymous) || !match(v) {
			continue
		}
		r, err := e.removeVolume(ctx, v)
		if err != nil {
			return res, err
		}
		res.Removed = append(res.Removed, v.Name)
		res.SpaceReclaimed += r.Size
	}
	e.pruneEvent(ctx, EventVolume, res.SpaceReclaimed)
	return res, nil
}
