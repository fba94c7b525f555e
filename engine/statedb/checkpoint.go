package statedb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
)

// The WAL index (the -shm file every connection maps) begins with two
// copies of its header, 48 bytes each, then the checkpoint's progress
// (SQLite's file format, "WAL-Index Format"). Its integers are in the
// host's byte order.
const (
	shmHeaderSize = 48
	shmIsInit     = 12 // u8: the header is valid
	shmMaxFrame   = 16 // u32: the last valid frame in the WAL
	shmBackfill   = 96 // u32: frames the checkpoints have copied
)

// PendingFrames is the number of frames in the WAL that no checkpoint has
// copied into the database yet, read from the WAL index without a lock: a
// hint, -1 when the index cannot be read or is being written.
func (d *DB) PendingFrames() int {
	maxFrame, backfill, ok := d.walIndex()
	if !ok {
		return -1
	}
	if backfill >= maxFrame {
		return 0
	}
	return int(maxFrame - backfill)
}

// walIndex reads the WAL's last frame and the checkpoints' progress from
// the WAL index.
func (d *DB) walIndex() (maxFrame, backfill uint32, ok bool) {
	f := d.shmFile()
	if f == nil {
		return 0, 0, false
	}
	var h [shmBackfill + 4]byte
	if n, _ := f.ReadAt(h[:], 0); n < len(h) {
		return 0, 0, false
	}
	// A writer updates the second copy, then the first: they differ
	// while it writes.
	if h[shmIsInit] == 0 || !bytes.Equal(h[:shmHeaderSize], h[shmHeaderSize:2*shmHeaderSize]) {
		return 0, 0, false
	}
	return binary.NativeEndian.Uint32(h[shmMaxFrame:]), binary.NativeEndian.Uint32(h[shmBackfill:]), true
}

// shmFile is the WAL index, opened once and closed only by Close, after
// the connections. SQLite's locks on it are POSIX record locks, which the
// close of any descriptor of the file drops for the whole process: a
// close while a connection is open lets another process take the index
// as unused, reset and truncate it under this one's mapping (SIGBUS, in
// the API service's tests) or under its readers. Its connections stay
// open in the pool (never closed while idle), so no other process deletes
// the file while this one holds it.
func (d *DB) shmFile() *os.File {
	d.shmOnce.Do(func() {
		d.shm, _ = os.Open(d.path + "-shm")
	})
	return d.shm
}

// Checkpoint copies the WAL into the database without waiting for other
// connections (a passive checkpoint) and, when that copied all of it,
// starts the WAL over with one small write (the schema version, rewritten).
// The first commit after a complete checkpoint rewrites the WAL's header
// and syncs it; done here, that sync is not left to the next operation.
// SQLite's autocheckpoint (the driver's wal_autocheckpoint, statedb.go)
// does the same copy inside some commit: a process with time to spare
// calls this first.
func (d *DB) Checkpoint(ctx context.Context) error {
	var busy, frames, copied int
	if err := d.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return d.fail("checkpoint", err)
	}
	if busy != 0 || copied < frames {
		return nil // a reader holds older frames: the next checkpoint goes on
	}
	if _, err := d.db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		return d.fail("starting the WAL over", err)
	}
	return nil
}
