package storage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

var testHide = []string{"/proc", "/dev", "/etc/hosts", "/etc/resolv.conf"}

func TestFilterChanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Change
		want []string
	}{
		{"mount points only", []Change{{"C", "/etc"}, {"A", "/etc/hosts"}, {"A", "/etc/resolv.conf"}, {"A", "/proc"}}, nil},
		{"user changes kept", []Change{{"C", "/bin"}, {"D", "/bin/vi"}, {"A", "/dev"}, {"A", "/new"}}, []string{"C /bin", "D /bin/vi", "A /new"}},
		{"a changed parent with a real change stays", []Change{{"C", "/etc"}, {"A", "/etc/hosts"}, {"A", "/etc/x"}}, []string{"C /etc", "A /etc/x"}},
		{"a sibling with a common prefix", []Change{{"C", "/etc"}, {"A", "/etc-old"}, {"A", "/etc/hosts"}}, []string{"A /etc-old"}},
		{"a changed directory alone stays", []Change{{"C", "/tmp"}}, []string{"C /tmp"}},
		{"below a hidden directory", []Change{{"A", "/dev/shm"}, {"A", "/device"}}, []string{"A /device"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range filterChanges(tc.in, newHider(testHide)) {
				got = append(got, c.Kind+" "+c.Path)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFilterTar(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string // "name/" is a directory
		want []string
	}{
		{"mount points dropped with their directory", []string{"bin/", "bin/.wh.vi", "dev/", "etc/", "etc/hosts", "etc/resolv.conf", "new", "proc/"}, []string{"bin/", "bin/.wh.vi", "new"}},
		{"a directory with a kept entry stays", []string{"etc/", "etc/hosts", "etc/x"}, []string{"etc/", "etc/x"}},
		{"an empty new directory stays", []string{"data/", "etc/", "etc/hosts"}, []string{"data/"}},
		{"nested directories", []string{"a/", "a/b/", "a/b/c", "etc/", "etc/sub/", "etc/hosts"}, []string{"a/", "a/b/", "a/b/c", "etc/sub/"}},
		{"./ prefixes", []string{"./etc/", "./etc/hosts", "./x"}, []string{"./x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in bytes.Buffer
			tw := tar.NewWriter(&in)
			for _, n := range tc.in {
				h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: 3}
				if n[len(n)-1] == '/' {
					h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
				}
				if err := tw.WriteHeader(h); err != nil {
					t.Fatal(err)
				}
				if h.Size > 0 {
					tw.Write([]byte("abc"))
				}
			}
			tw.Close()
			var out bytes.Buffer
			if err := filterTar(&out, &in, newHider(testHide)); err != nil {
				t.Fatal(err)
			}
			var got []string
			tr := tar.NewReader(&out)
			for {
				h, err := tr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := io.ReadAll(tr); h.Typeflag == tar.TypeReg && string(b) != "abc" {
					t.Fatalf("%s: content %q", h.Name, b)
				}
				got = append(got, h.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
