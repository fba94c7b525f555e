package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.env", "# comment\nA=1\n\n  B=two words\r\nFROM_HOST\nUNSET_HERE\nC=\n")
	b := write("b.env", "A=from-b\n")
	spaced := write("bad.env", "MY VAR=1\n")
	t.Setenv("FROM_HOST", "host value")
	t.Setenv("BARE", "bare")
	os.Unsetenv("UNSET_HERE")
	tests := []struct {
		name string
		args []string
		want []string
		err  string
	}{
		{"flags", []string{"-e", "X=1", "-e", "Y=a=b,c"}, []string{"X=1", "Y=a=b,c"}, ""},
		{"bare from the caller", []string{"-e", "BARE", "-e", "UNSET_HERE"}, []string{"BARE=bare"}, ""},
		{"files then flags, in order", []string{"-e", "A=flag", "--env-file", a, "--env-file", b},
			[]string{"A=1", "B=two words", "FROM_HOST=host value", "C=", "A=from-b", "A=flag"}, ""},
		{"missing file", []string{"--env-file", filepath.Join(dir, "nope")}, nil,
			"--env-file " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"whitespace in a name", []string{"--env-file", spaced}, nil,
			"--env-file " + spaced + `, line 1: variable "MY VAR" contains whitespace`},
		// A name the runtime refuses reaches it as given.
		{"empty name", []string{"-e", "=x"}, []string{"=x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCreate(t, append(tt.args, "img")...)
			if errString(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err == "" && !slices.Equal(o.Env, tt.want) {
				t.Errorf("env %q, want %q", o.Env, tt.want)
			}
		})
	}
}
