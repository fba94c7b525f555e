package statedb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
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
