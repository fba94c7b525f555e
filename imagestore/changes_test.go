package imagestore

import (
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestApplyChanges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes []string
		want    imgspecv1.ImageConfig
		bad     bool
	}{
		{name: "cmd exec form", changes: []string{`CMD ["sh","-c","echo hi"]`}, want: imgspecv1.ImageConfig{Cmd: []string{"sh", "-c", "echo hi"}}},
		{name: "cmd shell form", changes: []string{"CMD echo hi"}, want: imgspecv1.ImageConfig{Cmd: []string{"/bin/sh", "-c", "echo hi"}}},
		{name: "entrypoint", changes: []string{`ENTRYPOINT ["/bin/app"]`}, want: imgspecv1.ImageConfig{Entrypoint: []string{"/bin/app"}}},
		{name: "env both forms", changes: []string{"ENV A=1 B=\"two words\"", "ENV C 3", "ENV A=9"},
			want: imgspecv1.ImageConfig{Env: []string{"A=9", "B=two words", "C=3"}}},
		{name: "label", changes: []string{"LABEL a=b c=d"}, want: imgspecv1.ImageConfig{Labels: map[string]string{"a": "b", "c": "d"}}},
		{name: "expose", changes: []string{"EXPOSE 80 53/udp"}, want: imgspecv1.ImageConfig{ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}}}},
		{name: "user workdir volume stopsignal", changes: []string{"USER nobody", "WORKDIR /srv", "VOLUME /data", "STOPSIGNAL SIGQUIT"},
			want: imgspecv1.ImageConfig{User: "nobody", WorkingDir: "/srv", Volumes: map[string]struct{}{"/data": {}}, StopSignal: "SIGQUIT"}},
		{name: "lowercase and equals", changes: []string{"cmd=sh"}, want: imgspecv1.ImageConfig{Cmd: []string{"/bin/sh", "-c", "sh"}}},
		{name: "unknown", changes: []string{"RUN make"}, bad: true},
		{name: "empty arg", changes: []string{"USER"}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got imgspecv1.ImageConfig
			err := ApplyChanges(&got, tc.changes)
			if tc.bad {
				if !errdefs.IsInvalidArgument(err) {
					t.Fatalf("want invalid argument, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
