package main

import (
	"reflect"
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestParseKernel(t *testing.T) {
	tests := []struct {
		args []string
		want engine.Kernel
		err  string
	}{
		{[]string{"--pid", "host", "--ipc", "host", "--uts", "host"}, engine.Kernel{PIDMode: "host", IPCMode: "host", UTSMode: "host"}, ""},
		{[]string{"--pid", "private", "--ipc", "shareable", "--uts", "private"}, engine.Kernel{}, ""},
		{[]string{"--domainname", "example.org", "--shm-size", "256m"}, engine.Kernel{Domainname: "example.org", ShmSize: 256 << 20}, ""},
		{[]string{"--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1=2"},
			engine.Kernel{Sysctls: map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1=2"}}, ""},
		{[]string{"--oom-score-adj", "0"}, engine.Kernel{OomScoreAdjSet: true}, ""},
		{[]string{"--oom-score-adj", "300"}, engine.Kernel{OomScoreAdj: 300, OomScoreAdjSet: true}, ""},
		{[]string{"--device", "/dev/fuse", "--device", "/dev/null:rw", "--device", "/dev/zero:/dev/z", "--device", "/dev/sda:/dev/xvda:r"},
			engine.Kernel{Devices: []engine.Device{{Path: "/dev/fuse"}, {Path: "/dev/null", Permissions: "rw"},
				{Path: "/dev/zero", ContainerPath: "/dev/z"}, {Path: "/dev/sda", ContainerPath: "/dev/xvda", Permissions: "r"}}}, ""},
		{[]string{"--pid", "container:db"}, engine.Kernel{}, "--pid container:db: sharing another container's PID namespace is not supported: use host, or leave it private"},
		{[]string{"--ipc", "none"}, engine.Kernel{}, `invalid --ipc "none": use host, or private or shareable`},
		{[]string{"--uts", "x"}, engine.Kernel{}, `invalid --uts "x": use host, or private`},
		{[]string{"--shm-size", "0"}, engine.Kernel{}, `invalid --shm-size "0": use a positive size with an optional unit (b, k, m, g), e.g. 256m`},
		{[]string{"--shm-size", "lots"}, engine.Kernel{}, `invalid --shm-size "lots": use a positive size with an optional unit (b, k, m, g), e.g. 256m`},
		{[]string{"--sysctl", "net.ipv4.ip_forward"}, engine.Kernel{}, `invalid --sysctl "net.ipv4.ip_forward": use NAME=VALUE, e.g. net.ipv4.ip_forward=1`},
		{[]string{"--device", "/dev/a:/dev/b:rx"}, engine.Kernel{}, `invalid --device "/dev/a:/dev/b:rx": permissions "rx": use letters of rwm`},
		{[]string{"--device", "/a:/b:r:w"}, engine.Kernel{}, `invalid --device "/a:/b:r:w": use HOST[:CONTAINER][:PERMISSIONS], e.g. /dev/fuse or /dev/sda:/dev/xvda:rw`},
		{[]string{"--device", ":/dev/b"}, engine.Kernel{}, `invalid --device ":/dev/b": the host path is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.args[1], func(t *testing.T) {
			o, err := parseCreate(t, append(tt.args, "img")...)
			if errString(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err == "" && !reflect.DeepEqual(o.Kernel, tt.want) {
				t.Errorf("%+v, want %+v", o.Kernel, tt.want)
			}
		})
	}
}
