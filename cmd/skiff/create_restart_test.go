package main

import (
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestParseRestart(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want engine.RestartPolicy
		err  string
	}{
		{"none", []string{"img"}, engine.RestartPolicy{}, ""},
		{"no", []string{"--restart", "no", "img"}, engine.RestartPolicy{Name: "no"}, ""},
		{"no with rm", []string{"--restart", "no", "--rm", "img"}, engine.RestartPolicy{Name: "no"}, ""},
		{"always", []string{"--restart", "always", "img"}, engine.RestartPolicy{Name: "always"}, ""},
		{"unless-stopped", []string{"--restart=unless-stopped", "img"}, engine.RestartPolicy{Name: "unless-stopped"}, ""},
		{"on-failure", []string{"--restart", "on-failure", "img"}, engine.RestartPolicy{Name: "on-failure"}, ""},
		{"on-failure count", []string{"--restart", "on-failure:3", "img"}, engine.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}, ""},
		// The engine refuses these, for the API too (runtime.CheckRestartPolicy).
		{"negative count", []string{"--restart", "on-failure:-1", "img"}, engine.RestartPolicy{Name: "on-failure", MaximumRetryCount: -1}, ""},
		{"count elsewhere", []string{"--restart", "always:2", "img"}, engine.RestartPolicy{Name: "always", MaximumRetryCount: 2}, ""},
		{"with rm", []string{"--restart", "always", "--rm", "img"}, engine.RestartPolicy{}, "Conflicting options: --restart and --rm"},
		{"count not a number", []string{"--restart", "on-failure:x", "img"}, engine.RestartPolicy{}, `invalid --restart "on-failure:x": the maximum retry count must be an integer`},
		{"no name", []string{"--restart", ":3", "img"}, engine.RestartPolicy{}, `invalid --restart ":3": no policy before the colon`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCreate(t, tt.args...)
			if errString(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err == "" && o.RestartPolicy != tt.want {
				t.Errorf("RestartPolicy %+v, want %+v", o.RestartPolicy, tt.want)
			}
		})
	}
}
