package statedb

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// PendingFrames follows the WAL. Checkpoint copies it into the database
// and starts it over; while a reader holds older frames it copies what it
// can and starts nothing over. Nothing committed is lost either way.
func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "skiff.db")
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	add := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := d.CreateContainer(ctx, row(fmt.Sprint("id", i), fmt.Sprint("n", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := d.PendingFrames()
	if start < 0 {
		t.Fatal("the WAL index of an open database is unreadable")
	}
	add(0, 5)
	if n := d.PendingFrames(); n < start+5 {
		t.Fatalf("after 5 commits %d frames pending, want at least %d", n, start+5)
	}

	// A reader in the middle of a query keeps its snapshot's frames.
	rows, err := d.db.QueryContext(ctx, "SELECT id FROM containers")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no rows")
	}
	add(5, 10)
	if err := d.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if maxFrame, _, _ := d.walIndex(); maxFrame <= 1 {
		t.Fatalf("the WAL started over (last frame %d) under a reader", maxFrame)
	}
	if n := d.PendingFrames(); n <= 0 {
		t.Fatalf("%d frames pending, want the ones the reader holds back", n)
	}
	rows.Close()

	if err := d.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	maxFrame, backfill, ok := d.walIndex()
	if !ok || maxFrame != 1 || backfill != 0 {
		t.Fatalf("after a checkpoint with no reader: last frame %d, copied %d (readable %v); want a new WAL of one frame", maxFrame, backfill, ok)
	}
	add(10, 12)

	d2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	for i := 0; i < 12; i++ {
		if _, err := d2.Container(ctx, fmt.Sprint("id", i)); err != nil {
			t.Errorf("row %d lost: %v", i, err)
		}
	}
}

// An index that cannot be read is "unknown", not zero.
func TestPendingFramesWithoutIndex(t *testing.T) {
	d := &DB{path: filepath.Join(t.TempDir(), "none.db")}
	if n := d.PendingFrames(); n != -1 {
		t.Fatalf("PendingFrames of a database with no WAL index = %d, want -1", n)
	}
}

// TestMain runs as the lock probe when lockProbeEnv names a WAL index
// (lockHolder): POSIX record locks can only be seen from another process.
func TestMain(m *testing.M) {
	if shm := os.Getenv(lockProbeEnv); shm != "" {
		os.Exit(probeLock(shm))
	}
	os.Exit(m.Run())
}

const lockProbeEnv = "SKIFF_STATEDB_LOCK_PROBE"

// shmDMS is the byte of the WAL index that every connection using it holds
// a read lock on (SQLite's unix VFS: the "dead man switch").
const shmDMS = 128

// probeLock prints the pid that holds a lock conflicting with a write lock
// on shm's DMS byte, or 0.
func probeLock(shm string) int {
	f, err := os.OpenFile(shm, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: shmDMS, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if lk.Type == unix.F_UNLCK {
		fmt.Println(0)
	} else {
		fmt.Println(lk.Pid)
	}
	return 0 // exiting closes f: the probe's own locks are none
}

// lockHolder asks a probe process who holds shm's DMS byte.
func lockHolder(t *testing.T, shm string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), lockProbeEnv+"="+shm)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lock probe: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("lock probe printed %q", out)
	}
	return pid
}

// Reading the WAL index leaves SQLite's locks on it in place. The close of
// any descriptor of a file drops every POSIX lock the process holds on it;
// another process would then take the index for unused and reset it under
// this one's mapping (a SIGBUS in the API service, before the fix).
func TestPendingFramesKeepsLocks(t *testing.T) {
	d := open(t)
	if err := d.CreateContainer(context.Background(), row("a", "a")); err != nil {
		t.Fatal(err)
	}
	shm := d.path + "-shm"
	if pid := lockHolder(t, shm); pid != os.Getpid() {
		t.Fatalf("before: the WAL index's DMS byte is held by pid %d, want this process (%d)", pid, os.Getpid())
	}
	for i := 0; i < 3; i++ {
		if n := d.PendingFrames(); n < 0 {
			t.Fatalf("PendingFrames = %d", n)
		}
	}
	if pid := lockHolder(t, shm); pid != os.Getpid() {
		t.Fatalf("after PendingFrames: the WAL index's DMS byte is held by pid %d, want this process (%d)", pid, os.Getpid())
	}
}
