package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestRender(t *testing.T) {
	rows := []any{
		imageRow{Repository: "busybox", Tag: "latest", ID: "0123456789ab", CreatedSince: "2 hours ago", Size: "4.26MB"},
		imageRow{Repository: "127.0.0.1:5000/app", Tag: "1", ID: "ba9876543210", CreatedSince: "3 days ago", Size: "12MB"},
	}
	for _, tc := range []struct{ name, format, want string }{
		{"default table", "", "" +
			"REPOSITORY           TAG       IMAGE ID       CREATED       SIZE\n" +
			"busybox              latest    0123456789ab   2 hours ago   4.26MB\n" +
			"127.0.0.1:5000/app   1         ba9876543210   3 days ago    12MB\n"},
		{"template with escaped tab", `{{.Repository}}\t{{.Tag}}`, "busybox\tlatest\n127.0.0.1:5000/app\t1\n"},
		{"table template", "table {{.ID}} {{.Size}}", "IMAGE ID SIZE\n0123456789ab 4.26MB\nba9876543210 12MB\n"},
		{"json", "json", `{"Repository":"busybox","Tag":"latest","Digest":"","ID":"0123456789ab","CreatedSince":"2 hours ago","CreatedAt":"","Size":"4.26MB","VirtualSize":"","Containers":""}` + "\n" +
			`{"Repository":"127.0.0.1:5000/app","Tag":"1","Digest":"","ID":"ba9876543210","CreatedSince":"3 days ago","CreatedAt":"","Size":"12MB","VirtualSize":"","Containers":""}` + "\n"},
		{"funcs", `{{upper .Tag}} {{json .Repository}}`, "LATEST \"busybox\"\n1 \"127.0.0.1:5000/app\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render(&b, tc.format, imagesTable, rows); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Fatalf("got:\n%q\nwant:\n%q", b.String(), tc.want)
			}
		})
	}
	noHead := imagesTable
	noHead.noHeading = true
	var nb bytes.Buffer
	if err := render(&nb, "", noHead, rows); err != nil || strings.Contains(nb.String(), "REPOSITORY") || !strings.HasPrefix(nb.String(), "busybox ") {
		t.Fatalf("--noheading: %v\n%s", err, nb.String())
	}
	var lb bytes.Buffer
	ps := []any{psRow{Names: "web", labels: map[string]string{"a": "1", "b": "2"}, Labels: joinLabels(map[string]string{"b": "2", "a": "1"})}}
	if err := render(&lb, `{{.Names}} {{.Label "b"}} {{.Labels}} [{{.Label "none"}}]`, psTable, ps); err != nil || lb.String() != "web 2 a=1,b=2 []\n" {
		t.Fatalf(".Label and .Labels: %v %q", err, lb.String())
	}
	var b bytes.Buffer
	if err := render(&b, "{{.Nope", imagesTable, rows); err == nil || !strings.Contains(err.Error(), "invalid --format") {
		t.Fatalf("bad template: got %v", err)
	}
	if err := render(&b, "{{.Nope}}", imagesTable, rows); err == nil {
		t.Fatal("unknown field: want an error")
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("No such image: x: %w", errdefs.ErrNotFound), "No such image: x"},
		{fmt.Errorf("bad\nthing: %w", errdefs.ErrInvalidArgument), "bad; thing"},
		{errors.New("ends with: not found"), "ends with: not found"},
		{fmt.Errorf("wrapped: %w", fmt.Errorf("login failed: %w", errdefs.ErrUnauthenticated)), "wrapped: login failed"},
	} {
		if got := oneLine(tc.err); got != tc.want {
			t.Errorf("oneLine(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	if got := exitCode(fmt.Errorf("x: %w", errdefs.ErrNotFound)); got != 125 {
		t.Errorf("engine error: %d", got)
	}
	if got := exitCode(&silentError{code: 1}); got != 1 {
		t.Errorf("silent error: %d", got)
	}
}
