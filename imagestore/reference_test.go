package imagestore

import (
	"testing"

	"github.com/containerd/errdefs"
)

func TestParseName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "busybox", want: "docker.io/library/busybox:latest"},
		{in: "busybox:1.36", want: "docker.io/library/busybox:1.36"},
		{in: "library/busybox", want: "docker.io/library/busybox:latest"},
		{in: "quay.io/a/b", want: "quay.io/a/b:latest"},
		{in: "127.0.0.1:5000/x:y", want: "127.0.0.1:5000/x:y"},
		{in: "localhost/x", want: "localhost/x:latest"},
		{in: "busybox@sha256:" + sixtyFour("a"), want: "docker.io/library/busybox@sha256:" + sixtyFour("a")},
		{in: "BusyBox", bad: true},
		{in: "bad!!", bad: true},
		{in: "", bad: true},
		{in: "a:b:c", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseName(tc.in)
			if tc.bad {
				if !errdefs.IsInvalidArgument(err) {
					t.Fatalf("ParseName(%q) = %v, %v; want invalid argument", tc.in, got, err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("ParseName(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func sixtyFour(c string) string {
	s := ""
	for len(s) < 64 {
		s += c
	}
	return s
}

func TestIsShortName(t *testing.T) {
	for in, want := range map[string]bool{
		"busybox": true, "library/busybox": true, "user/app:1": true,
		"docker.io/busybox": false, "localhost/app": false, "127.0.0.1:5000/app": false, "host:5000/a": false,
	} {
		if got := isShortName(in); got != want {
			t.Errorf("isShortName(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFamiliarAndSplit(t *testing.T) {
	for _, tc := range []struct{ in, familiar, repo, tag string }{
		{"docker.io/library/busybox:latest", "busybox:latest", "busybox", "latest"},
		{"docker.io/user/app:1", "user/app:1", "user/app", "1"},
		{"127.0.0.1:5000/bb:2", "127.0.0.1:5000/bb:2", "127.0.0.1:5000/bb", "2"},
		{"quay.io/x/y", "quay.io/x/y", "quay.io/x/y", "<none>"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := FamiliarName(tc.in); got != tc.familiar {
				t.Errorf("FamiliarName = %q, want %q", got, tc.familiar)
			}
			repo, tag := SplitRepoTag(tc.in)
			if repo != tc.repo || tag != tc.tag {
				t.Errorf("SplitRepoTag = %q %q, want %q %q", repo, tag, tc.repo, tc.tag)
			}
		})
	}
}
