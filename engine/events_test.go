package engine

import (
	"testing"
	"time"
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
