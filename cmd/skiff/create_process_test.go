package main

import (
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestParseProcess(t *testing.T) {
	ten := 10
	tests := []struct {
		name string
		args []string
		want func(o *engine.ContainerCreateOptions)
		err  string
	}{
		{"defaults", []string{"img"}, func(o *engine.ContainerCreateOptions) {}, ""},
		{"command", []string{"img", "sh", "-c", "echo hi"}, func(o *engine.ContainerCreateOptions) {
			o.Cmd = []string{"sh", "-c", "echo hi"}
		}, ""},
		{"entrypoint", []string{"--entrypoint", "/bin/sh -x", "img"}, func(o *engine.ContainerCreateOptions) {
			o.Entrypoint, o.EntrypointSet = []string{"/bin/sh -x"}, true
		}, ""},
		{"entrypoint cleared", []string{"--entrypoint", "", "img"}, func(o *engine.ContainerCreateOptions) {
			o.EntrypointSet = true
		}, ""},
		{"process", []string{"--name", "web", "-u", "1000:1000", "-w", "/srv", "--group-add", "audio", "-h", "box",
			"-it", "--init", "--stop-signal", "SIGINT", "--stop-timeout", "10", "--rm", "--pull", "never", "img"},
			func(o *engine.ContainerCreateOptions) {
				o.Name, o.User, o.WorkingDir, o.GroupAdd, o.Hostname = "web", "1000:1000", "/srv", []string{"audio"}, "box"
				o.Tty, o.OpenStdin, o.Init, o.StopSignal, o.StopTimeout, o.AutoRemove, o.Pull = true, true, true, "SIGINT", &ten, true, "never"
			}, ""},
		{"labels", []string{"-l", "a=1", "-l", "b", "-l", "c=x=y,z", "img"}, func(o *engine.ContainerCreateOptions) {
			o.Labels = map[string]string{"a": "1", "b": "", "c": "x=y,z"}
		}, ""},
		{"network", []string{"--network", "host", "img"}, func(o *engine.ContainerCreateOptions) { o.NetworkMode = "host" }, ""},
		{"podman's", []string{"--replace", "--name", "n", "--tz", "local", "--timeout", "5", "--rm", "--rmi", "img"},
			func(o *engine.ContainerCreateOptions) {
				o.Replace, o.Name, o.Timezone, o.RunTimeout, o.AutoRemove, o.RemoveImage = true, "n", "local", 5, true, true
			}, ""},
		{"label without key", []string{"--label", "=v", "img"}, nil, `invalid --label "=v": use key=value`},
		{"negative timeout", []string{"--timeout", "-1", "img"}, nil, "invalid --timeout -1: use a number of seconds, 0 for no limit"},
		{"rmi without rm", []string{"--rmi", "img"}, nil, "--rmi removes the image after the container is removed: add --rm"},
		{"replace without name", []string{"--replace", "img"}, nil, "--replace replaces the container of the same name: add --name"},
		{"no image", nil, nil, `"create" requires at least 1 argument: see 'skiff create --help'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseCreate(t, tt.args...)
			if errString(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err != "" {
				return
			}
			want := engine.ContainerCreateOptions{Image: "img", Pull: "missing"}
			tt.want(&want)
			if !sameOptions(o, want) {
				t.Errorf("\n got %+v\nwant %+v", o, want)
			}
		})
	}
}
