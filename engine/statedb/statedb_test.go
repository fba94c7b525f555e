package statedb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func open(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "skiff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func row(id, name string) Container {
	return Container{ID: id, Name: name, ImageID: "img", Created: time.Now(), Status: "created", Config: []byte(`{}`)}
}

func TestMigrateTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skiff.db")
	for i := 0; i < 2; i++ {
		d, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := d.IntegrityCheck(context.Background()); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	d := open(t)
	if _, err := d.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), d.Path()); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("want failed precondition, got %v", err)
	}
}

func TestLookup(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	for _, c := range []Container{row("abc111", "web"), row("abc222", "db"), row("def333", "abc111x")} {
		if err := d.CreateContainer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		ref, want string
		kind      func(error) bool
	}{
		{"abc111", "abc111", nil},
		{"web", "abc111", nil},
		{"abc2", "abc222", nil},
		{"def", "def333", nil},
		{"abc111x", "def333", nil}, // a name, not a prefix
		{"abc", "", errdefs.IsInvalidArgument},
		{"fff", "", errdefs.IsNotFound},
		{"nosuch", "", errdefs.IsNotFound},
		{"%", "", errdefs.IsNotFound},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			c, err := d.Container(ctx, tc.ref)
			if tc.kind != nil {
				if !tc.kind(err) {
					t.Fatalf("want error kind, got %v (%s)", err, c.ID)
				}
				return
			}
			if err != nil || c.ID != tc.want {
				t.Fatalf("got %q, %v; want %q", c.ID, err, tc.want)
			}
		})
	}
}

// Of many processes' worth of concurrent creates and renames to one name,
// exactly one wins.
func TestNameRaces(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	// Separate handles, as separate processes would have.
	handles := make([]*DB, 8)
	for i := range handles {
		h, err := Open(ctx, d.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		handles[i] = h
	}
	race := func(op func(i int, h *DB) error) int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i, h := range handles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := op(i, h)
				if err != nil && !errdefs.IsConflict(err) {
					t.Errorf("unexpected error: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				}
			}()
		}
		wg.Wait()
		return wins
	}
	if n := race(func(i int, h *DB) error { return h.CreateContainer(ctx, row(fmt.Sprintf("%064x", i), "shared")) }); n != 1 {
		t.Fatalf("%d creates won the name", n)
	}
	for i := range handles {
		if err := d.CreateContainer(ctx, row(fmt.Sprintf("%063x1", i), fmt.Sprintf("c%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := race(func(i int, h *DB) error { return h.RenameContainer(ctx, fmt.Sprintf("%063x1", i), "target") }); n != 1 {
		t.Fatalf("%d renames won the name", n)
	}
}

func TestSetStateFrom(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	if err := d.CreateContainer(ctx, row("aaa", "a")); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.SetState(ctx, "aaa", "running", []byte(`{"pid":1}`), "exited"); ok || err != nil {
		t.Fatalf("changed a row in another status: %v %v", ok, err)
	}
	if ok, err := d.SetState(ctx, "aaa", "starting", nil, "created", "exited"); !ok || err != nil {
		t.Fatalf("did not change: %v %v", ok, err)
	}
	c, _ := d.Container(ctx, "a")
	if c.Status != "starting" || string(c.State) != "{}" {
		t.Fatalf("got %q %s", c.Status, c.State)
	}
	destroy := Event{Time: time.Now(), Type: "container", Action: "destroy", ActorID: "aaa"}
	if err := d.DeleteContainer(ctx, "aaa", 0, destroy); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Container(ctx, "a"); !errdefs.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
	var actions []string
	d.Events(ctx, EventQuery{}, func(ev Event) error { actions = append(actions, ev.ActorID+" "+ev.Action); return nil })
	if len(actions) != 1 || actions[0] != "aaa destroy" {
		t.Fatalf("events after the delete: %v, want the destroy it was given", actions)
	}
}

// The WAL outlives each process that closes the database, emptied: the
// next one neither re-creates it nor reads old frames, and sees every
// commit.
func TestWALKeptEmptyAcrossCloses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skiff.db")
	for i := 0; i < 3; i++ {
		d, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.CreateContainer(context.Background(), row(fmt.Sprint("id", i), fmt.Sprint("n", i))); err != nil {
			t.Fatal(err)
		}
		d.Close()
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatalf("close %d removed the WAL: %v", i, err)
		}
		if st.Size() != 0 {
			t.Fatalf("close %d left %d bytes of WAL", i, st.Size())
		}
	}
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := 0; i < 3; i++ {
		if _, err := d.Container(context.Background(), fmt.Sprint("id", i)); err != nil {
			t.Errorf("row %d lost: %v", i, err)
		}
	}
}

// Of concurrent writers recording one exit with its events, only the one
// whose update wins records them, and with the row: a reader that sees the
// new status finds exactly one die.
func TestSetStateEventsOnlyTheWinner(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	if err := d.CreateContainer(ctx, row("aaa", "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetState(ctx, "aaa", "running", nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wins := make(chan bool, 8)
	for i := 0; i < 8; i++ {
		h, err := Open(ctx, d.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := Event{Time: time.Now(), Type: "container", Action: "die", ActorID: "aaa"}
			ok, err := h.SetStateEvents(ctx, "aaa", "exited", nil, []string{"running"}, 100, []Event{ev})
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for ok := range wins {
		if ok {
			n++
		}
	}
	dies := 0
	d.Events(ctx, EventQuery{}, func(ev Event) error {
		if ev.Action == "die" {
			dies++
		}
		return nil
	})
	if n != 1 || dies != 1 {
		t.Fatalf("%d writers won, %d die events recorded; want 1 and 1", n, dies)
	}
	if ok, _ := d.SetStateEvents(ctx, "aaa", "running", nil, []string{"created"}, 100, []Event{{Time: time.Now(), Action: "start"}}); ok {
		t.Fatal("a write from the wrong status changed the row")
	}
	var actions []string
	d.Events(ctx, EventQuery{}, func(ev Event) error { actions = append(actions, ev.Action); return nil })
	if len(actions) != 1 {
		t.Fatalf("a write that lost recorded its events: %v", actions)
	}
}
