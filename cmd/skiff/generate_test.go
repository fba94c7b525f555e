package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestSplitCreateCommand(t *testing.T) {
	split := splitCreateCommand(newApp())
	for _, tc := range []struct {
		name, in string
		want     engine.CreateCommandParts
	}{
		{"run with its own flags dropped", "skiff run -d --rm --name web -p 80:80 busybox httpd -f",
			engine.CreateCommandParts{Flags: []string{"--name", "web", "-p", "80:80"}, Args: []string{"busybox", "httpd", "-f"}, Named: true}},
		{"create, global flags kept", "/usr/bin/skiff --root /r --log-level debug create --cidfile /tmp/id --replace --name=db busybox",
			engine.CreateCommandParts{Global: []string{"--root", "/r", "--log-level", "debug"}, Flags: []string{"--name=db"}, Args: []string{"busybox"}, Named: true}},
		{"sdnotify recorded, in both forms", "skiff run --sdnotify container -e A=1 busybox",
			engine.CreateCommandParts{Flags: []string{"-e", "A=1"}, Args: []string{"busybox"}, SdNotify: "container"}},
		{"sdnotify with =", "skiff run --sdnotify=ignore busybox",
			engine.CreateCommandParts{Args: []string{"busybox"}, SdNotify: "ignore"}},
		{"d out of a cluster", "skiff run -dit busybox sh",
			engine.CreateCommandParts{Flags: []string{"-it"}, Args: []string{"busybox", "sh"}}},
		{"a cluster of d alone", "skiff run -d -t busybox",
			engine.CreateCommandParts{Flags: []string{"-t"}, Args: []string{"busybox"}}},
		{"a cluster ending in a value", "skiff run -dp 8080:80 busybox",
			engine.CreateCommandParts{Flags: []string{"-p", "8080:80"}, Args: []string{"busybox"}}},
		{"the container's flags are its own", "skiff container run busybox sh -c -d --rm",
			engine.CreateCommandParts{Args: []string{"busybox", "sh", "-c", "-d", "--rm"}}},
		{"a restart policy is the unit's", "skiff run --restart always --restart=on-failure:3 busybox",
			engine.CreateCommandParts{Args: []string{"busybox"}}},
		{"detach=false dropped too", "skiff run --detach=false --rm=true busybox",
			engine.CreateCommandParts{Args: []string{"busybox"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := split(strings.Fields(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(nilEmpty(got), nilEmpty(tc.want)) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"skiff", "skiff start web", "skiff --root /r"} {
		if _, err := split(strings.Fields(bad)); err == nil {
			t.Errorf("%q split", bad)
		}
	}
}

// nilEmpty makes empty slices nil, for comparing.
func nilEmpty(p engine.CreateCommandParts) engine.CreateCommandParts {
	for _, s := range []*[]string{&p.Global, &p.Flags, &p.Args} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	return p
}
