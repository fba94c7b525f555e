package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/engine"
)

func TestEventPrinters(t *testing.T) {
	ts := time.Date(2026, 12, 2, 21, 0, 0, 123456789, time.UTC)
	ev := engine.Event{Status: "create", ID: "abc", From: "busybox", Type: "container", Action: "create",
		Actor: engine.EventActor{ID: "abc", Attributes: map[string]string{"name": "x", "image": "busybox"}},
		Scope: "local", Time: ts.Unix(), TimeNano: ts.UnixNano()}
	for _, tc := range []struct{ format, want string }{
		{"", time.Unix(0, ts.UnixNano()).Format("2006-01-02T15:04:05.000000000Z07:00") + " container create abc (image=busybox, name=x)\n"},
		{"{{.Type}} {{.Action}} {{.Actor.ID}} {{.Status}} {{.From}} {{.Scope}} {{.TimeNano}}", "container create abc create busybox local 1796245200123456789\n"},
		{"{{index .Actor.Attributes \"name\"}}", "x\n"},
	} {
		show, err := eventPrinter(tc.format)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := show(&b, ev); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("format %q: %q, want %q", tc.format, b.String(), tc.want)
		}
	}
	show, _ := eventPrinter("{{json .}}")
	var b bytes.Buffer
	show(&b, ev)
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"} {
		if _, ok := m[k]; !ok {
			t.Errorf("json lacks %q: %s", k, b.String())
		}
	}
	if _, err := eventPrinter("{{.Nope"); err == nil {
		t.Error("a bad template accepted")
	}
}
