package main

import (
	"reflect"
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

const vUsage = "use -v /host/path:/container/path[:ro], -v NAME:/container/path or -v /container/path"

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
		{args: []string{"-v", "cache:/cache"}, want: []engine.Mount{{Type: "volume", Name: "cache", Destination: "/cache"}}},
		{args: []string{"-v", "cache:/cache:ro,nocopy,U,z"},
			want: []engine.Mount{{Type: "volume", Name: "cache", Destination: "/cache", ReadOnly: true, NoCopy: true, Chown: true, Options: []string{"z"}}}},
		// A relative source is a volume name: the engine checks it.
		{args: []string{"-v", "./data:/d"}, want: []engine.Mount{{Type: "volume", Name: "./data", Destination: "/d"}}},
		{args: []string{"-v", "/anon"}, want: []engine.Mount{{Type: "volume", Destination: "/anon"}}},
		// Relative destinations and bad options are the runtime's to refuse.
		{args: []string{"-v", "/srv:data:bogus"}, want: []engine.Mount{{Type: "bind", Source: "/srv", Destination: "data", Options: []string{"bogus"}}}},
		{args: []string{"--tmpfs", "/run"}, want: []engine.Mount{{Type: "tmpfs", Destination: "/run"}}},
		{args: []string{"--tmpfs", "/run:size=64m,mode=1777,ro"},
			want: []engine.Mount{{Type: "tmpfs", Destination: "/run", ReadOnly: true, Options: []string{"size=64m", "mode=1777"}}}},
		{args: []string{"--tmpfs", "/t", "-v", "/a:/b", "--read-only"}, ro: true,
			want: []engine.Mount{{Type: "bind", Source: "/a", Destination: "/b"}, {Type: "tmpfs", Destination: "/t"}}},
		{args: []string{"-v", "/a:/b:ro:extra"}, err: `invalid -v "/a:/b:ro:extra": ` + vUsage},
		{args: []string{"-v", ":/b"}, err: `invalid -v ":/b": ` + vUsage},
		{args: []string{"-v", "/a:"}, err: `invalid -v "/a:": ` + vUsage},
		{args: []string{"--mount", "type=bind,source=/srv,target=/data,readonly,bind-propagation=rshared"},
			want: []engine.Mount{{Type: "bind", Source: "/srv", Destination: "/data", ReadOnly: true, Options: []string{"rshared"}}}},
		{args: []string{"--mount", "type=bind,src=/srv,dst=/data,ro=false"}, want: []engine.Mount{{Type: "bind", Source: "/srv", Destination: "/data"}}},
		{args: []string{"--mount", "source=cache,destination=/c,volume-nocopy,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m,mode=700"},
			err: `invalid argument "source=cache,destination=/c,volume-nocopy,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=1m,mode=700" for "--mount" flag: unexpected key 'mode' in 'mode=700'`},
		{args: []string{"--mount", `source=cache,destination=/c,volume-nocopy,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"volume-opt=o=size=1m,mode=700"`},
			want: []engine.Mount{{Type: "volume", Name: "cache", Destination: "/c", NoCopy: true,
				VolumeOptions: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m,mode=700"}}}},
		{args: []string{"--mount", "type=volume,target=/anon"}, want: []engine.Mount{{Type: "volume", Destination: "/anon"}}},
		{args: []string{"--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770"},
			want: []engine.Mount{{Type: "tmpfs", Destination: "/t", Options: []string{"size=1048576", "mode=1770"}}}},
		{args: []string{"--mount", "type=bind,source=/a,target=/b,foo=bar"},
			err: `invalid argument "type=bind,source=/a,target=/b,foo=bar" for "--mount" flag: unexpected key 'foo' in 'foo=bar'`},
		{args: []string{"--mount", "type=bind,target=/b"},
			err: `invalid argument "type=bind,target=/b" for "--mount" flag: invalid mount config for type "bind": field Source must not be empty`},
		{args: []string{"--mount", "type=bind,source=/a"}, err: `invalid argument "type=bind,source=/a" for "--mount" flag: target is required`},
		{args: []string{"--mount", "type=tmpfs,source=/a,target=/b"},
			err: `invalid argument "type=tmpfs,source=/a,target=/b" for "--mount" flag: invalid mount config for type "tmpfs": field Source must not be specified`},
		{args: []string{"--mount", "type=bind,source=/a,target=/b,volume-nocopy"},
			err: `invalid argument "type=bind,source=/a,target=/b,volume-nocopy" for "--mount" flag: cannot mix 'volume-*' options with mount type 'bind'`},
		{args: []string{"--mount", "type=volume,target=/b,tmpfs-size=1m"},
			err: `invalid argument "type=volume,target=/b,tmpfs-size=1m" for "--mount" flag: cannot mix 'tmpfs-*' options with mount type 'volume'`},
		{args: []string{"--mount", "type=tmpfs,target=/b,tmpfs-mode=99"},
			err: `invalid argument "type=tmpfs,target=/b,tmpfs-mode=99" for "--mount" flag: invalid value for tmpfs-mode: 99`},
		{args: []string{"--mount", "type=,target=/b"}, err: `invalid argument "type=,target=/b" for "--mount" flag: type is required`},
		{args: []string{"--mount", "type=overlay,target=/b"},
			err: `invalid argument "type=overlay,target=/b" for "--mount" flag: invalid mount type 'overlay': use bind, volume or tmpfs`},
		{args: []string{"--mount", "type=bind,source=/a,target=/b,readonly=maybe"},
			err: `invalid argument "type=bind,source=/a,target=/b,readonly=maybe" for "--mount" flag: invalid value for readonly: maybe`},
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

func TestParseVolumesFrom(t *testing.T) {
	o, err := parseCreate(t, "--volumes-from", "db:ro", "--volumes-from", "cache", "img")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"db:ro", "cache"}; !reflect.DeepEqual(o.VolumesFrom, want) {
		t.Errorf("VolumesFrom %q, want %q", o.VolumesFrom, want)
	}
}
