package statedb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEventsBoundedAndInTimeOrder(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	base := time.Unix(1700000000, 0)
	// Recorded out of time order (a spooled event folded late): read back
	// by time. A bound of 3 keeps the three recorded last.
	for i, sec := range []int{1, 2, 5, 3, 4} {
		ev := Event{Time: base.Add(time.Duration(sec) * time.Second), Type: "container", Action: "create",
			ActorID: string(rune('a' + i)), Attributes: map[string]string{"n": string(rune('0' + sec))}}
		if err := d.AddEvents(ctx, 3, ev); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	err := d.Events(ctx, EventQuery{}, func(ev Event) error {
		got = append(got, ev.ActorID+ev.Attributes["n"])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"d3", "e4", "c5"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("events %v, want %v", got, want)
	}
	got = nil
	last, _ := d.LastEventSeq(ctx)
	err = d.Events(ctx, EventQuery{Since: base.Add(3500 * time.Millisecond), Until: base.Add(4 * time.Second)}, func(ev Event) error {
		got = append(got, ev.ActorID)
		return nil
	})
	if err != nil || len(got) != 1 || got[0] != "e" {
		t.Fatalf("since/until: %v %v, want [e]", got, err)
	}
	if err := d.AddEvents(ctx, 3, Event{Time: base, Type: "image", Action: "tag", ActorID: "f"}); err != nil {
		t.Fatal(err)
	}
	got = nil
	d.Events(ctx, EventQuery{AfterSeq: last}, func(ev Event) error { got = append(got, ev.ActorID); return nil })
	if len(got) != 1 || got[0] != "f" {
		t.Fatalf("after seq %d: %v, want [f]", last, got)
	}
}

// TestEventsInBatches: more events than one batch, many at the same
// instant and recorded out of time order, come back each once, by time
// then sequence; fn runs with no query open (the pool is cut to one
// connection, which a query inside fn then needs).
func TestEventsInBatches(t *testing.T) {
	d := open(t)
	ctx := context.Background()
	base := time.Unix(1700000000, 0)
	n := 2*eventBatch + 7
	evs := make([]Event, n)
	for i := range evs {
		// Times go 0..99 ms round and round: each instant holds many.
		evs[i] = Event{Time: base.Add(time.Duration(i%100) * time.Millisecond), Type: "container", Action: "start", ActorID: strconv.Itoa(i)}
	}
	if err := d.AddEvents(ctx, 0, evs...); err != nil {
		t.Fatal(err)
	}
	d.db.SetMaxOpenConns(1)
	var got []Event
	err := d.Events(ctx, EventQuery{}, func(ev Event) error {
		if _, err := d.LastEventSeq(ctx); err != nil {
			return err
		}
		got = append(got, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d events read, %d written", len(got), n)
	}
	seen := map[string]bool{}
	for i, ev := range got {
		if seen[ev.ActorID] {
			t.Fatalf("event %s read twice", ev.ActorID)
		}
		seen[ev.ActorID] = true
		if i > 0 && (ev.Time.Before(got[i-1].Time) || ev.Time.Equal(got[i-1].Time) && ev.Seq <= got[i-1].Seq) {
			t.Fatalf("event %d (%v, seq %d) after (%v, seq %d)", i, ev.Time, ev.Seq, got[i-1].Time, got[i-1].Seq)
		}
	}
}

// BenchmarkAddEvent is one event recorded as the engine does, in its own
// transaction, against a full table (the bound deletes one row each time).
func BenchmarkAddEvent(b *testing.B) {
	d, err := Open(context.Background(), b.TempDir()+"/skiff.db")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	ev := Event{Time: time.Now(), Type: "container", Action: "start", ActorID: "5ce55190a171560fee4d1043dc326ddbd00b66c866b068e25adedcad4046b541",
		Attributes: map[string]string{"image": "busybox", "name": "clever_curie", "com.example.label": "value"}}
	for i := 0; i < 1000; i++ {
		d.AddEvents(ctx, 1000, ev)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.AddEvents(ctx, 1000, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvents reads 10 000 events, as `events --since 0` does.
func BenchmarkEvents(b *testing.B) {
	d, err := Open(context.Background(), b.TempDir()+"/skiff.db")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	evs := make([]Event, 10000)
	for i := range evs {
		evs[i] = Event{Time: time.Unix(0, int64(i)), Type: "container", Action: "start", ActorID: "5ce55190a171560fee4d1043dc326ddbd00b66c866b068e25adedcad4046b541",
			Attributes: map[string]string{"image": "busybox", "name": "clever_curie", "com.example.role": "bench"}}
	}
	d.AddEvents(ctx, 0, evs...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := d.Events(ctx, EventQuery{Since: time.Unix(0, 0), Until: time.Now()}, func(Event) error { n++; return nil }); err != nil || n != len(evs) {
			b.Fatal(n, err)
		}
	}
}

func TestDecodeAttributes(t *testing.T) {
	for _, m := range []map[string]string{
		nil, {"a": "b"}, {"image": "busybox", "name": "x", "com.example": ""},
		{"q": `say "hi"`, "b": `back\slash`, "u": "ünï", "n": "line\nbreak", "<": "<&>"},
	} {
		b, _ := json.Marshal(m)
		got := decodeAttributes(string(b))
		if len(got) != len(m) {
			t.Errorf("%s: %v", b, got)
		}
		for k, v := range m {
			if got[k] != v {
				t.Errorf("%s: %q = %q, want %q", b, k, got[k], v)
			}
		}
	}
	if got := decodeAttributes(`{"a":"b",`); len(got) != 0 {
		t.Errorf("damaged: %v", got)
	}
}

// A schema 2 database's events keep their numbers through migration 3,
// which drops AUTOINCREMENT, and new ones go on from the largest.
func TestEventsKeepTheirSeqThroughMigration3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skiff.db")
	old, err := sql.Open(driverName, "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:2] {
		if _, err := old.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	// Numbers with a gap (the oldest were dropped), as a bounded table has.
	for _, seq := range []int{7, 8, 12} {
		if _, err := old.Exec("INSERT INTO events (seq, time, type, action, actor_id) VALUES (?, ?, 'container', 'die', 'c')", seq, seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.Exec("PRAGMA user_version = 2"); err != nil {
		t.Fatal(err)
	}
	old.Close()

	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var ddl string
	if err := d.db.QueryRow("SELECT sql FROM sqlite_master WHERE name = 'events'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(ddl), "AUTOINCREMENT") {
		t.Fatalf("events still has AUTOINCREMENT: %s", ddl)
	}
	var idx int
	if err := d.db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_time'").Scan(&idx); err != nil || idx != 1 {
		t.Fatalf("events_time index: %d, %v", idx, err)
	}
	if err := d.AddEvents(context.Background(), 0, Event{Time: time.Unix(20, 0), Type: "container", Action: "start", ActorID: "c"}); err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	if err := d.Events(context.Background(), EventQuery{}, func(ev Event) error { seqs = append(seqs, ev.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[7 8 12 13]" {
		t.Fatalf("seqs after the migration and one more event: %v, want [7 8 12 13]", seqs)
	}
	if err := d.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}
