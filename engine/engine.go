// Package engine is skiff as a library: the operations users name
// (ImagePull, ContainerRun, VolumeCreate, ...), each taking an Options struct
// and returning a Result struct. The CLI and the Docker API shim are thin
// layers over it.
//
// An Engine holds no state that outlives the process: records live in the
// state database (engine/statedb), layers in containers/storage, and
// per-container flocks order lifecycle changes, so any number of skiff
// processes can work on the same root at once.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/storage"
	"github.com/skiff-engine/skiff/userns"
)

// Options configure an Engine; zero values take skiff.toml, then the
// defaults of the design's "On disk" table.
type Options struct {
	ConfigPath     string   // --config
	Root           string   // --root: graph root
	RunRoot        string   // --runroot
	StorageDriver  string   // --storage-driver
	StorageOpts    []string // --storage-opt
	AuthFile       string   // --authfile, REGISTRY_AUTH_FILE
	RegistriesConf string   // CONTAINERS_REGISTRIES_CONF
	// SkiffBinary is the skiff CLI a monitor runs as its exit command
	// ("container cleanup"); "" is this process's own executable.
	SkiffBinary string
}

// Engine performs skiff's operations against one store.
type Engine struct {
	paths Paths
	cfg   Config
	opts  Options

	once   sync.Once
	store  *storage.Store
	images *imagestore.Store
	err    error

	dbOnce sync.Once
	db     *statedb.DB
	dbErr  error

	checkpointing atomic.Bool    // a background checkpoint runs
	background    sync.WaitGroup // work that Close and Leave wait for
}

// New reads the configuration and resolves paths; the store is opened on
// first use so commands that need none (login, version) stay cheap.
func New(ctx context.Context, opts Options) (*Engine, error) {
	paths := DefaultPaths()
	cfg, err := LoadConfig(opts.ConfigPath, paths)
	if err != nil {
		return nil, err
	}
	e := &Engine{paths: paths, cfg: cfg, opts: opts}
	e.paths.GraphRoot = firstNonEmpty(opts.Root, cfg.Storage.GraphRoot, paths.GraphRoot)
	e.paths.RunRoot = firstNonEmpty(opts.RunRoot, cfg.Storage.RunRoot, paths.RunRoot)
	for _, p := range []*string{&e.paths.GraphRoot, &e.paths.RunRoot} {
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
	return e, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Paths reports where this engine keeps its data.
func (e *Engine) Paths() Paths { return e.paths }

// APIConfig is skiff.toml's [api] section (skiff system service reads it).
func (e *Engine) APIConfig() APIConfig { return e.cfg.API }

// imageStore opens the store once per process.
func (e *Engine) imageStore() (*imagestore.Store, error) {
	e.once.Do(func() {
		for _, dir := range []string{e.paths.GraphRoot, e.paths.RunRoot} {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				e.err = fmt.Errorf("creating %s: %w", dir, err)
				return
			}
		}
		e.store, e.err = storage.Open(storage.Options{
			GraphRoot:     e.paths.GraphRoot,
			RunRoot:       e.paths.RunRoot,
			Driver:        firstNonEmpty(e.opts.StorageDriver, e.cfg.Storage.Driver),
			DriverOptions: append(append([]string{}, e.cfg.Storage.Options...), e.opts.StorageOpts...),
			SingleID:      userns.SingleID(),
		})
		if e.err != nil {
			return
		}
		e.images = imagestore.New(e.store.CS(), e.imageOptions())
	})
	return e.images, e.err
}

// prefetchCreate does in the background what a create needs after it has
// resolved the image: the database's open (openDB still reports its
// error), and the encoders of its config, spec and monitor config, which
// a first encoding builds by reflection (~0.3 ms for these together).
func (e *Engine) prefetchCreate() {
	go e.openDB()
	go warmEncoders.Do(func() {
		json.Marshal(ContainerConfig{})
		json.Marshal(specs.Spec{})
		json.Marshal(runtime.MonitorConfig{})
	})
}

var warmEncoders sync.Once

// openDB opens the state database once per process. Commands that only
// read records (ps, inspect, logs) need nothing else: containers/storage
// stays closed.
func (e *Engine) openDB() error {
	e.dbOnce.Do(func() {
		if err := os.MkdirAll(e.paths.GraphRoot, 0o700); err != nil {
			e.dbErr = fmt.Errorf("creating %s: %w", e.paths.GraphRoot, err)
			return
		}
		e.db, e.dbErr = statedb.Open(context.Background(), filepath.Join(e.paths.GraphRoot, "skiff.db"))
	})
	return e.dbErr
}

// checkpointFrames is how many uncopied WAL frames make a foreground start
// checkpoint while it waits: about four runs' worth, so that the
// autocheckpoint (200 frames, statedb's driver) rarely comes first. Done
// every third rootful run (50 frames), the syncs slowed the runs they
// overlapped: run --rm ÷ runc 1.78× against 1.67× without (medians of
// six and five `make bench ONLY=run`), and 1.64× at 80 (three).
const checkpointFrames = 80

// checkpointAside checkpoints the state database in the background when
// its WAL has grown, for a caller about to wait (a foreground start, for
// its container). Left to SQLite, the checkpoint (four syncs: the WAL, its
// directory, the database, and the new WAL's header) falls inside some
// commit on an operation's way. Close and Leave wait for it.
func (e *Engine) checkpointAside() {
	if e.openDB() != nil || e.db.PendingFrames() < checkpointFrames || !e.checkpointing.CompareAndSwap(false, true) {
		return
	}
	e.background.Add(1)
	go func() {
		defer e.background.Done()
		defer e.checkpointing.Store(false)
		// Best effort, and never long: the exit waits for it, and
		// SQLite's own checkpoint still comes.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		e.db.Checkpoint(ctx)
	}()
}

// imageOptions points containers/image at the files this user's engine uses.
func (e *Engine) imageOptions() imagestore.Options {
	o := imagestore.Options{
		AuthFile:       firstNonEmpty(e.opts.AuthFile, os.Getenv("REGISTRY_AUTH_FILE")),
		RegistriesConf: firstNonEmpty(e.opts.RegistriesConf, os.Getenv("CONTAINERS_REGISTRIES_CONF")),
		TmpDir:         filepath.Join(e.paths.GraphRoot, "tmp"),
	}
	// Without XDG_RUNTIME_DIR containers/image would pick /run/containers/0,
	// which the rootless user cannot write; when the store's recorded run
	// root overrides XDG_RUNTIME_DIR, credentials follow it.
	if o.AuthFile == "" && e.paths.Rootless && userns.RuntimeDir() != os.Getenv("XDG_RUNTIME_DIR") {
		o.AuthFile = e.paths.AuthFile
	}
	os.MkdirAll(o.TmpDir, 0o700)
	return o
}

// authStore is an image store for credential operations, which need no
// layers: it does not open containers/storage.
func (e *Engine) authStore() *imagestore.Store {
	return imagestore.New(nil, e.imageOptions())
}

// Close releases the store and the database; layers stay mounted for
// running containers.
func (e *Engine) Close() error {
	e.background.Wait()
	var err error
	if e.db != nil {
		err = e.db.Close()
	}
	return errors.Join(err, e.Leave())
}

// Leave is Close for a process about to exit: it leaves the state
// database open for the exit to close. SQLite's last connection to close
// checkpoints the WAL into the database (two fsyncs), and then the next
// process's first commit starts a new WAL (two more, one of the
// directory): a quarter of the disk syncs of a `run --rm`. A process that
// just exits leaves the WAL to the next one as a crash does, which WAL mode
// is made for: nothing committed is lost, and the checkpoints (SQLite's
// every 200 frames, and a foreground start's, checkpointAside) keep the
// WAL small. Measured in ABBA rounds of run --rm: 2-4% quicker. Leave
// waits for a checkpoint under way.
func (e *Engine) Leave() error {
	e.background.Wait()
	if e.store != nil {
		return e.store.Shutdown(false)
	}
	return nil
}
