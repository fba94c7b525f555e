package main

import (
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestParseLogConfig(t *testing.T) {
	tests := []struct {
		args []string
		want engine.ContainerLogConfig
		err  string
	}{
		{nil, engine.ContainerLogConfig{}, ""},
		{[]string{"--log-driver", "k8s-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=3"},
			engine.ContainerLogConfig{Type: "k8s-file", MaxSize: 10 << 20, MaxFile: 3}, ""},
		{[]string{"--log-driver", "syslog"}, engine.ContainerLogConfig{Type: "syslog"}, ""}, // the runtime's to refuse
		{[]string{"--log-opt", "max-size=big"}, engine.ContainerLogConfig{}, "invalid --log-opt max-size=big: use a size like 10m"},
		{[]string{"--log-opt", "max-file=0"}, engine.ContainerLogConfig{}, "invalid --log-opt max-file=0: use a number >= 1"},
		{[]string{"--log-opt", "compress=true"}, engine.ContainerLogConfig{}, `invalid --log-opt "compress" is not a log option: use max-size= or max-file=`},
	}
	for _, tt := range tests {
		name := "default"
		if len(tt.args) > 0 {
			name = tt.args[len(tt.args)-1]
		}
		t.Run(name, func(t *testing.T) {
			o, err := parseCreate(t, append(tt.args, "img")...)
			if errString(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err == "" && o.LogConfig != tt.want {
				t.Errorf("%+v, want %+v", o.LogConfig, tt.want)
			}
		})
	}
}
