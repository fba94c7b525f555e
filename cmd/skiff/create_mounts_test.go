package main

import (
	"reflect"
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestParseMounts(t *testing.T) {
	tests := []struct {
		args []string
		want []engine.Mount
		ro   bool
		err  string
	}{
		{args: []string{"-v", "/srv:/data"}, want: []engine.Mount{{Type: "bind", Source: "/srv", Destination: "/data"}}},
		{args: []string{"-v", "/srv:/data:ro"}, want: []engine.Mount{{Type: "bind", Source: "/srv", Destination: "/data", ReadOnly: true}}},
		{args: []string{"-v", "/srv:/data:ro,rshared,z"},
			want: []engine.Mount{{Type: "bind", Source: "/srv", Destination: "/data", ReadOnly: true, Options: []string{"rshared", "z"}}}},
		{args: []string{"-v", "/srv:/data:ro,rw"}, want: []engine.Mount{{Type: "bind", Source: "/srv", Destination: "/data"}}},
		{args: []string{"-v", "cache:/cache"}, want: []engine.Mount{{Type: "volume", Source: "cache", Destination: "/cache"}}},
		{args: []string{"-v", "/anon"}, want: []engine.Mount{{Type: "volume", Destination: "/anon"}}},
		// Relative destinations and bad options are the runtime's to refuse.
		{args: []string{"-v", "/srv:data:bogus"}, want: []engine.Mount{{Type: "bind", Source: "/srv", Destination: "data", Options: []string{"bogus"}}}},
		{args: []string{"--tmpfs", "/run"}, want: []engine.Mount{{Type: "tmpfs", Destination: "/run"}}},
		{args: []string{"--tmpfs", "/run:size=64m,mode=1777,ro"},
			want: []engine.Mount{{Type: "tmpfs", Destination: "/run", ReadOnly: true, Options: []string{"size=64m", "mode=1777"}}}},
		{args: []string{"--tmpfs", "/t", "-v", "/a:/b", "--read-only"}, ro: true,
			want: []engine.Mount{{Type: "bind", Source: "/a", Destination: "/b"}, {Type: "tmpfs", Destination: "/t"}}},
		{args: []string{"-v", "/a:/b:ro:extra"}, err: `invalid -v "/a:/b:ro:extra": use -v /host/path:/container/path[:ro]`},
		{args: []string{"-v", ":/b"}, err: `invalid -v ":/b": use -v /host/path:/container/path[:ro]`},
		{args: []string{"-v", "/a:"}, err: `invalid -v "/a:": use -v /host/path:/container/path[:ro]`},
	}
	for _, tt := range tests {
		t.Run(tt.args[len(tt.args)-1], func(t *testing.T) {
			o, err := parseCreate(t, append(tt.args, "img")...)
			if errString(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err != "" {
				return
			}
			if !reflect.DeepEqual(o.Mounts, tt.want) || o.ReadonlyRootfs != tt.ro {
				t.Errorf("mounts %+v read-only %v, want %+v %v", o.Mounts, o.ReadonlyRootfs, tt.want, tt.ro)
			}
		})
	}
}
