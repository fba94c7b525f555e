// Package statedb is skiff's state database: one SQLite file per store,
// <graphroot>/skiff.db, holding skiff's own records. containers/storage keeps
// only layers and root filesystems.
//
// Many short-lived skiff processes (and, later, one API service) open the
// database at once, so:
//
//   - it runs in WAL mode, with a busy timeout, and every write is one
//     IMMEDIATE transaction (no deadlock between two upgrading readers);
//   - uniqueness is a constraint (container names, addresses, host ports):
//     of two processes racing for one name exactly one wins, the other gets
//     errdefs.ErrConflict;
//   - the schema version is PRAGMA user_version, moved forward by the
//     migrations below in one transaction; a database newer than this binary
//     is refused rather than misread.
//
// Tables (schema 1):
//
//	containers        id, unique name, image, created, lifecycle status,
//	                  config (JSON, the engine's), state (JSON, the last
//	                  folded runtime.State)
//	volumes           name (the key), driver, created, config
//	                  (JSON, the engine's: labels, driver options,
//	                  anonymous)                                ([5/8])
//	networks          id, unique name, created, config         ([4/8])
//	ip_allocations    (network, address) unique → container    ([4/8])
//	port_allocations  (host ip, port, protocol) unique → container
//	events            seq, time, type, action, actor, attributes ([6/8])
//	exec_sessions     id, container, config, pid, exit code    ([7/8])
//
// Schema 2 indexes events by time; schema 3 numbers them without
// AUTOINCREMENT.
//
// The package knows nothing of containers beyond these columns: config and
// state are opaque JSON to it. The database never holds a transaction
// across slow work (a container start, a pull).
package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// driverName is go-sqlite3 with the connection settings every skiff
// process needs.
const driverName = "sqlite3-skiff"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Each skiff command is a short process, which mostly leaves the
		// database for its exit to close (engine.Leave): the WAL goes on
		// from one command to the next, and the first connection of each
		// rebuilds its index by reading it whole. Checkpoints every 200
		// pages (800 kB; SQLite's default is 1000) keep that read short;
		// a foreground run checkpoints sooner, off its way (DB.Checkpoint,
		// engine's checkpointAside). The WAL file is kept when the last
		// connection does close, truncated: re-creating it costs a file
		// and a directory fsync.
		if _, err := c.Exec("PRAGMA wal_autocheckpoint = 200", nil); err != nil {
			return err
		}
		if _, err := c.Exec("PRAGMA journal_size_limit = 4194304", nil); err != nil {
			return err
		}
		return c.SetFileControlInt("main", sqlite3.SQLITE_FCNTL_PERSIST_WAL, 1)
	}})
}

// migrations[i] moves the schema from version i to i+1.
var migrations = []string{
	`CREATE TABLE containers (
		id       TEXT PRIMARY KEY,
		name     TEXT NOT NULL UNIQUE,
		image_id TEXT NOT NULL,
		created  INTEGER NOT NULL,
		status   TEXT NOT NULL,
		config   TEXT NOT NULL,
		state    TEXT NOT NULL DEFAULT '{}'
	);
	CREATE TABLE volumes (
		name    TEXT PRIMARY KEY,
		driver  TEXT NOT NULL,
		created INTEGER NOT NULL,
		config  TEXT NOT NULL DEFAULT '{}'
	);
	CREATE TABLE networks (
		id      TEXT PRIMARY KEY,
		name    TEXT NOT NULL UNIQUE,
		created INTEGER NOT NULL,
		config  TEXT NOT NULL DEFAULT '{}'
	);
	CREATE TABLE ip_allocations (
		network_id   TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
		address      TEXT NOT NULL,
		container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
		PRIMARY KEY (network_id, address)
	);
	CREATE TABLE port_allocations (
		host_ip        TEXT NOT NULL,
		host_port      INTEGER NOT NULL,
		protocol       TEXT NOT NULL,
		container_id   TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
		container_port INTEGER NOT NULL,
		PRIMARY KEY (host_ip, host_port, protocol)
	);
	CREATE TABLE events (
		seq        INTEGER PRIMARY KEY AUTOINCREMENT,
		time       INTEGER NOT NULL,
		type       TEXT NOT NULL,
		action     TEXT NOT NULL,
		actor_id   TEXT NOT NULL,
		attributes TEXT NOT NULL DEFAULT '{}'
	);
	CREATE TABLE exec_sessions (
		id           TEXT PRIMARY KEY,
		container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
		config       TEXT NOT NULL,
		pid          INTEGER NOT NULL DEFAULT 0,
		exit_code    INTEGER,
		created      INTEGER NOT NULL
	);
	CREATE INDEX exec_sessions_container ON exec_sessions(container_id);`,
	// 2: events are read by time (--since, --until).
	`CREATE INDEX events_time ON events(time, seq);`,
	// 3: seq without AUTOINCREMENT: every commit with an event rewrote
	// its sqlite_sequence row, 4 of the 21 WAL frames of a run --rm. A
	// plain rowid is the largest plus one, and only grows all the same:
	// the oldest events are the ones dropped (insertEvents), never the
	// newest.
	`CREATE TABLE events3 (
		seq        INTEGER PRIMARY KEY,
		time       INTEGER NOT NULL,
		type       TEXT NOT NULL,
		action     TEXT NOT NULL,
		actor_id   TEXT NOT NULL,
		attributes TEXT NOT NULL DEFAULT '{}'
	);
	INSERT INTO events3 (seq, time, type, action, actor_id, attributes)
		SELECT seq, time, type, action, actor_id, attributes FROM events;
	DROP TABLE events;
	ALTER TABLE events3 RENAME TO events;
	CREATE INDEX events_time ON events(time, seq);
	DELETE FROM sqlite_sequence WHERE name = 'events';`,
}

// SchemaVersion is the version this binary writes.
var SchemaVersion = len(migrations)

// DB is an open state database.
type DB struct {
	db   *sql.DB
	path string

	shmOnce sync.Once
	shm     *os.File // the WAL index, read by PendingFrames (checkpoint.go)
}

// maxConns is the most connections one process opens.
const maxConns = 4

// Open opens (creating and migrating on first use) the database at path.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Set("_busy_timeout", "30000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL") // WAL: a process crash loses nothing; power loss the last commits
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	db, err := sql.Open(driverName, "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening the state database %s: %w", path, err)
	}
	// A bounded pool that keeps what it opens: a long-lived process (the
	// API service) under many concurrent requests would otherwise open a
	// connection per request and close the surplus, and sqlite keeps the
	// descriptors of a connection closed while another holds a lock on
	// the file until no lock is held. Writes are serialized by sqlite
	// anyway; a few connections let reads go on beside a write.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	d := &DB{db: db, path: path}
	// The first connection can meet SQLITE_BUSY that the busy timeout does
	// not cover: another process closing the database takes an exclusive
	// lock to checkpoint and empty the WAL, and the journal-mode check of a
	// new connection fails at once. Such a moment passes in milliseconds.
	for attempt := 0; ; attempt++ {
		err = d.migrate(ctx)
		if err == nil {
			return d, nil
		}
		if !isBusy(err) || attempt == 200 || ctx.Err() != nil {
			db.Close()
			return nil, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// Close closes the database, then the WAL index descriptor (shmFile).
func (d *DB) Close() error {
	err := d.db.Close()
	d.shmOnce.Do(func() {}) // none is opened from now on
	if d.shm != nil {
		d.shm.Close()
	}
	return err
}

// Path is the database file.
func (d *DB) Path() string { return d.path }

func (d *DB) migrate(ctx context.Context) error {
	var v int
	if err := d.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return d.fail("reading the schema version", err)
	}
	if v == SchemaVersion {
		return nil
	}
	if v > SchemaVersion {
		return fmt.Errorf("the state database %s has schema %d, newer than this skiff (%d): upgrade skiff: %w", d.path, v, SchemaVersion, errdefs.ErrFailedPrecondition)
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		// Another process may have migrated while we waited for the lock.
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return err
		}
		for ; v < SchemaVersion; v++ {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("schema %d → %d: %w", v, v+1, err)
			}
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion))
		return err
	})
}

// tx runs fn in one IMMEDIATE transaction (the DSN's _txlock).
func (d *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return d.fail("starting a transaction", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return d.fail("committing", err)
	}
	return nil
}

// fail names the database in an error from sqlite.
func (d *DB) fail(what string, err error) error {
	return fmt.Errorf("state database %s: %s: %w", d.path, what, err)
}

// IntegrityCheck runs PRAGMA integrity_check: nil when it answers "ok".
func (d *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := d.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return d.fail("integrity check", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("state database %s is damaged: %s: %w", d.path, strings.Join(problems, "; "), errdefs.ErrDataLoss)
	}
	return rows.Err()
}

func isUnique(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}

func unixNano(t time.Time) int64 { return t.UnixNano() }
func fromNano(n int64) time.Time { return time.Unix(0, n).UTC() }
