package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/runtime"
)

func TestEventFilters(t *testing.T) {
	ctr := Event{Type: EventContainer, Action: "die", Actor: EventActor{ID: "abc123", Attributes: map[string]string{
		"name": "web", "image": "busybox:1.36", "exitCode": "0", "com.example": "x"}}, Scope: "local"}
	exec := Event{Type: EventContainer, Action: "exec_start: sh -c true", Actor: EventActor{ID: "abc123", Attributes: map[string]string{"name": "web"}}, Scope: "local"}
	img := Event{Type: EventImage, Action: "tag", Actor: EventActor{ID: "sha256:ff", Attributes: map[string]string{"name": "foo:1"}}, Scope: "local"}
	vol := Event{Type: EventVolume, Action: "create", Actor: EventActor{ID: "data", Attributes: map[string]string{"driver": "local"}}, Scope: "local"}
	for _, tc := range []struct {
		filters []string
		ev      Event
		want    bool
	}{
		{nil, ctr, true},
		{[]string{"container=web"}, ctr, true},
		{[]string{"container=abc"}, ctr, true}, // an ID prefix
		{[]string{"container=db"}, ctr, false},
		{[]string{"container=db", "container=we"}, ctr, true},  // one key: ORed
		{[]string{"container=web", "event=start"}, ctr, false}, // two keys: ANDed
		{[]string{"event=die"}, ctr, true},
		{[]string{"event=exec_start"}, exec, true},
		{[]string{"event=exec"}, exec, false},
		{[]string{"image=busybox"}, ctr, true},
		{[]string{"image=busybox:1.36"}, ctr, true},
		{[]string{"image=foo"}, img, true},
		{[]string{"image=busybox"}, img, false},
		{[]string{"type=image"}, img, true},
		{[]string{"type=image"}, ctr, false},
		{[]string{"type=image", "type=volume"}, vol, true},
		{[]string{"volume=data"}, vol, true},
		{[]string{"label=com.example"}, ctr, true},
		{[]string{"label=com.example=x"}, ctr, true},
		{[]string{"label=com.example=x", "label=other"}, ctr, false}, // labels: every one
		{[]string{"scope=local"}, vol, true},
	} {
		f, err := ParseFilters(tc.filters)
		if err != nil {
			t.Fatal(err)
		}
		match, err := eventFilterSpec().compile(f)
		if err != nil {
			t.Fatalf("%v: %v", tc.filters, err)
		}
		if got := match(tc.ev); got != tc.want {
			t.Errorf("%v on %s %s: %v, want %v", tc.filters, tc.ev.Type, tc.ev.Action, got, tc.want)
		}
	}
	if _, err := eventFilterSpec().compile(Filters{"name": {"x"}}); err == nil {
		t.Error("unknown key name accepted")
	}
}

func TestTaggedName(t *testing.T) {
	for in, want := range map[string]string{
		"foo": "foo:latest", "foo:1": "foo:1", "docker.io/library/busybox": "busybox:latest",
		"localhost:5000/a": "localhost:5000/a:latest", "localhost:5000/a:b": "localhost:5000/a:b",
	} {
		if got := taggedName(in); got != want {
			t.Errorf("taggedName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := stripTag("localhost:5000/a:b"); got != "localhost:5000/a" {
		t.Errorf("stripTag = %q", got)
	}
}

func TestParseTimestampZeroIsTheEpoch(t *testing.T) {
	got, err := ParseTimestamp("0", time.Now())
	if err != nil || !got.Equal(time.Unix(0, 0)) {
		t.Fatalf("ParseTimestamp(0) = %v, %v; want the epoch", got, err)
	}
}

// The spool is folded in time order; a file another process claimed a
// moment ago is left to it, one whose claim is a minute old (its process
// killed) is taken over, and one being written is not read.
func TestFoldSpool(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "skiff.toml")
	os.WriteFile(cfg, nil, 0o600)
	e, err := New(context.Background(), Options{ConfigPath: cfg, Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	spool := e.eventSpool()
	base := time.Now().Add(-time.Hour)
	for i, a := range []string{"b", "a", "c"} {
		ev := runtime.SpoolEvent{Time: base.Add(time.Duration(i) * time.Second), Type: EventContainer, Action: a, ID: "ctr"}
		if a == "a" {
			ev.Time = base.Add(-time.Second) // recorded later, happened first
		}
		if err := runtime.WriteSpoolEvent(spool, ev); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, action string) {
		b, _ := json.Marshal(runtime.SpoolEvent{Time: base.Add(time.Minute), Type: EventContainer, Action: action, ID: "ctr"})
		os.WriteFile(filepath.Join(spool, name), b, 0o600)
	}
	claim := func(ago time.Duration) string {
		return fmt.Sprintf("folding-1-%d", time.Now().Add(-ago).UnixNano())
	}
	write("00000000000000000009-1-1.json."+claim(2*time.Minute), "stale")
	write("00000000000000000009-1-2.json."+claim(time.Second), "claimed")
	write(".00000000000000000009-1-3.json-123", "partial")
	e.foldSpool(context.Background())
	var got []string
	e.Events(context.Background(), EventsOptions{}, func(ev Event) error {
		got = append(got, ev.Action)
		return nil
	})
	if want := []string{"a", "b", "c", "stale"}; !slices.Equal(got, want) {
		t.Errorf("folded %q, want %q", got, want)
	}
	left, _ := os.ReadDir(spool)
	var names []string
	for _, l := range left {
		names = append(names, l.Name())
	}
	if len(names) != 2 {
		t.Errorf("left in the spool: %q, want the fresh claim and the partial file", names)
	}
}
