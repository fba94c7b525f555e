package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if err := writeManPages(newApp(), dir); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ page, want string }{
		{"skiff.1", `.SH GLOBAL OPTIONS`},
		{"skiff.1", "\\fBstop\\fR\nstop one or more running containers, see skiff\\-stop(1)"},
		{"skiff-stop.1", ".TH SKIFF\\-STOP 1"},
		{"skiff-stop.1", "\\fB\\-\\-time\\fR, \\fB\\-t\\fR, \\fB\\-\\-timeout\\fR \\fIVALUE\\fR"},
		{"skiff-image-ls.1", "Also: list."},
		{"skiff-image.1", ".SH COMMANDS"},
		{"skiff-pull.1", "(environment: $REGISTRY_AUTH_FILE)"},
		{"skiff-logs.1", "(default: all)"},
	} {
		b, err := os.ReadFile(filepath.Join(dir, tc.page))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("%s lacks %q:\n%s", tc.page, tc.want, b)
		}
	}
	for _, hidden := range []string{"skiff-__complete.1", "skiff-__man.1", "skiff-container-cleanup.1"} {
		if _, err := os.Stat(filepath.Join(dir, hidden)); err == nil {
			t.Errorf("%s written for a hidden command", hidden)
		}
	}
}

func TestRoff(t *testing.T) {
	for in, want := range map[string]string{
		`a-b`: `a\-b`, `C:\x`: `C:\ex`, ".start": `\&.start`, "'q": `\&'q`, "two\nlines": "two lines",
	} {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}
