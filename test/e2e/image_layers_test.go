package e2e

import (
	"archive/tar"
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skiff-engine/skiff/test/fixture"
)

// badLayer is a layer tar with a benign file and then the given entry.
func badLayer(t *testing.T, h tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range []tar.Header{{Name: "ok", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3}, h} {
		if err := tw.WriteHeader(&e); err != nil {
			t.Fatal(err)
		}
		if e.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(e.Size)))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Layers containers/storage cannot apply are refused by import and load
// before anything is stored: exit 125, one line naming the entry.
func TestImageBadLayers(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("n", 300)
	cases := []struct {
		name  string
		entry tar.Header
		msg   string
	}{
		{"hardlink", tar.Header{Name: "pw", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"},
			`entry "pw" is a hard link to "/etc/passwd", which is not a file earlier in the same layer`},
		{"long-name", tar.Header{Name: long, Typeflag: tar.TypeReg, Mode: 0o644, Size: 1},
			`entry "` + long[:40] + "…" + long[:12] + `" has a file name of 300 bytes (Linux allows 255)`},
		{"whiteout", tar.Header{Name: "dir/.wh...", Typeflag: tar.TypeReg, Mode: 0o644},
			`entry "dir/.wh..." is a whiteout that names no file`},
	}
	bb, err := fixture.BusyboxLayer()
	if err != nil {
		t.Fatal(err)
	}
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		for _, tc := range cases {
			layer := badLayer(t, tc.entry)
			r := s.RunStdin(bytes.NewReader(layer), "import", "-", "bad:"+tc.name).MustFail(t, 125, "cannot import the archive: "+tc.msg)
			requireOneLine(t, r)

			img, err := fixture.New([]fixture.Layer{bb, fixture.NewLayer(layer, "bad "+tc.name)}, fixture.BusyboxConfig())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []fixture.ArchiveFormat{fixture.DockerArchive, fixture.OCIArchive} {
				path := filepath.Join(s.Dir, tc.name+"-"+string(f)+".tar")
				if err := fixture.WriteFile(path, f, fixture.Tagged{Image: img, Tags: []string{"bad:" + tc.name}}); err != nil {
					t.Fatal(err)
				}
				s.Chown(path)
				r := s.Run("load", "-i", path).MustFail(t, 125, "cannot load bad:"+tc.name+": layer 2: "+tc.msg)
				requireOneLine(t, r)
			}
		}
		// An OCI archive whose index lists nothing.
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for name, data := range map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "index.json": `{"schemaVersion":2,"manifests":[]}`} {
			tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))})
			tw.Write([]byte(data))
		}
		tw.Close()
		r := s.Run("load", "-i", s.WriteFile("empty-index.tar", b.Bytes())).MustFail(t, 125, "the oci-archive's index.json lists no image")
		requireOneLine(t, r)

		if out := s.Run("images", "-a", "-q").MustSucceed(t).Stdout; out != "" {
			t.Errorf("images after failed imports and loads:\n%s", out)
		}
		requireNoLayers(t, s)
	})
}

// requireNoLayers: the store holds no layer (a failed import or load left
// nothing behind).
func requireNoLayers(t *testing.T, s *Skiff) {
	t.Helper()
	root := s.Root
	if s.Rootless() {
		root = filepath.Join(s.DataHome, "skiff")
	}
	layers, _ := filepath.Glob(filepath.Join(root, "storage", "*-layers"))
	if len(layers) != 1 {
		t.Fatalf("no layer directory of the store under %s", root)
	}
	matches, _ := filepath.Glob(filepath.Join(layers[0], "*.tar-split.gz"))
	if len(matches) != 0 {
		t.Errorf("layers left in the store: %v", matches)
	}
}
