package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestParseSecurityOpts(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "p.json")
	body := []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`)
	if err := os.WriteFile(profile, body, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		opts []string
		want engine.SecurityOptions
		err  string
	}{
		{[]string{"no-new-privileges"}, engine.SecurityOptions{NoNewPrivileges: true}, ""},
		{[]string{"no-new-privileges=true"}, engine.SecurityOptions{NoNewPrivileges: true}, ""},
		{[]string{"no-new-privileges:true", "no-new-privileges=false"}, engine.SecurityOptions{}, ""},
		{[]string{"seccomp=unconfined"}, engine.SecurityOptions{Seccomp: "unconfined"}, ""},
		{[]string{"seccomp:unconfined"}, engine.SecurityOptions{Seccomp: "unconfined"}, ""},
		{[]string{"seccomp=" + profile}, engine.SecurityOptions{SeccompProfile: body}, ""},
		{[]string{"seccomp=unconfined", "seccomp=" + profile}, engine.SecurityOptions{SeccompProfile: body}, ""},
		{[]string{"unmask=ALL"}, engine.SecurityOptions{Unmask: []string{"ALL"}}, ""},
		{[]string{"unmask=/proc/kcore:/proc/keys"}, engine.SecurityOptions{Unmask: []string{"/proc/kcore", "/proc/keys"}}, ""},
		{[]string{"label=disable", "label=type:spc_t", "apparmor=unconfined"},
			engine.SecurityOptions{Label: []string{"disable", "type:spc_t"}, AppArmor: "unconfined"}, ""},
		{[]string{"seccomp=" + filepath.Join(dir, "nope.json")}, engine.SecurityOptions{},
			"--security-opt seccomp=" + filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{[]string{"seccomp="}, engine.SecurityOptions{}, `invalid --security-opt "seccomp=": give seccomp a value`},
		{[]string{"no-new-privileges=maybe"}, engine.SecurityOptions{}, `invalid --security-opt "no-new-privileges=maybe": no-new-privileges takes true or false`},
		{[]string{"systempaths=unconfined"}, engine.SecurityOptions{},
			`unknown --security-opt "systempaths=unconfined": use no-new-privileges, seccomp=..., unmask=..., label=... or apparmor=...`},
	}
	for _, tt := range tests {
		t.Run(tt.opts[0], func(t *testing.T) {
			var args []string
			for _, o := range tt.opts {
				args = append(args, "--security-opt", o)
			}
			o, err := parseCreate(t, append(args, "img")...)
			if errString(err) != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.err == "" && !reflect.DeepEqual(o.Security, tt.want) {
				t.Errorf("%+v, want %+v", o.Security, tt.want)
			}
		})
	}
	o, err := parseCreate(t, "--privileged", "--cap-add", "NET_ADMIN", "--cap-drop", "ALL", "img")
	if err != nil || !o.Privileged || !reflect.DeepEqual(o.CapAdd, []string{"NET_ADMIN"}) || !reflect.DeepEqual(o.CapDrop, []string{"ALL"}) {
		t.Errorf("--privileged --cap-add --cap-drop: %+v %v", o, err)
	}
}
