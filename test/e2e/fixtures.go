package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skiff-engine/skiff/test/fixture"
)

// BusyboxTag is the name the busybox fixture carries in archives.
const BusyboxTag = "busybox:latest"

// FixtureCache holds archives written by Archive, named by a hash of their
// content, so they are shared by tests and by later go test runs.
var FixtureCache = filepath.Join(os.TempDir(), "skiff-e2e-fixtures")

// Busybox is the busybox fixture image (built once per process).
func Busybox(t testing.TB) *fixture.Image {
	t.Helper()
	img, err := fixture.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var layered struct {
	sync.Mutex
	m map[fixture.LayersOptions]*fixture.Image
}

// Layered is a multi-layer fixture image (built once per process per options).
func Layered(t testing.TB, o fixture.LayersOptions) *fixture.Image {
	t.Helper()
	layered.Lock()
	defer layered.Unlock()
	if img := layered.m[o]; img != nil {
		return img
	}
	img, err := fixture.Layered(o)
	if err != nil {
		t.Fatal(err)
	}
	if layered.m == nil {
		layered.m = map[fixture.LayersOptions]*fixture.Image{}
	}
	layered.m[o] = img
	return img
}

var archives sync.Map // cache path → *sync.Once guarding its creation

// Archive writes the images in format f to the fixture cache, unless an
// identical archive is there already, and returns its path (readable by
// everyone, the rootless user too). Treat it as read-only.
func Archive(t testing.TB, f fixture.ArchiveFormat, images ...fixture.Tagged) string {
	t.Helper()
	h := sha256.New()
	fmt.Fprintln(h, "v1", f)
	for _, img := range images {
		fmt.Fprintln(h, img.Image.Manifest.Digest, strings.Join(img.Tags, ","))
	}
	ext := map[fixture.ArchiveFormat]string{fixture.DockerArchive: ".tar", fixture.OCIArchive: ".oci.tar"}[f]
	path := filepath.Join(FixtureCache, hex.EncodeToString(h.Sum(nil))[:24]+ext)
	once, _ := archives.LoadOrStore(path, new(sync.Once))
	var err error
	once.(*sync.Once).Do(func() {
		if _, statErr := os.Stat(path); statErr == nil {
			return
		}
		if err = os.MkdirAll(FixtureCache, 0o755); err != nil {
			return
		}
		os.Chmod(FixtureCache, 0o755)
		if f != fixture.OCIDir {
			err = fixture.WriteFile(path, f, images...)
			return
		}
		tmp, mkErr := os.MkdirTemp(FixtureCache, ".layout-")
		if err = mkErr; err == nil {
			if err = fixture.WriteOCILayout(tmp, images...); err == nil {
				os.Chmod(tmp, 0o755)
				err = os.Rename(tmp, path)
			}
			os.RemoveAll(tmp)
		}
	})
	if err != nil {
		archives.Delete(path)
		t.Fatalf("writing fixture archive: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("fixture archive: %v", err)
	}
	return path
}

// BusyboxArchive is the busybox image, tagged busybox:latest, in format f
// (uncompressed layers in a docker-archive, like docker save; gzip in OCI).
func BusyboxArchive(t testing.TB, f fixture.ArchiveFormat) string {
	t.Helper()
	img := Busybox(t)
	if f == fixture.DockerArchive {
		var err error
		if img, err = img.Encode(fixture.OCI, fixture.Uncompressed); err != nil {
			t.Fatal(err)
		}
	}
	return Archive(t, f, fixture.Tagged{Image: img, Tags: []string{BusyboxTag}})
}

// LoadBusybox loads the busybox fixture into the runner's store with
// `skiff load -i` and returns its name.
func (s *Skiff) LoadBusybox() string {
	s.t.Helper()
	s.Run("load", "-i", BusyboxArchive(s.t, fixture.DockerArchive)).MustSucceed(s.t)
	return BusyboxTag
}

// UDPToolTag is the name of the image LoadUDPTool loads.
const UDPToolTag = "udptool:latest"

// LoadUDPTool loads the busybox image with fixture.UDPToolPath (a UDP echo
// server and client) into the runner's store and returns its name.
func (s *Skiff) LoadUDPTool() string {
	s.t.Helper()
	img, err := fixture.UDPTool()
	if err != nil {
		s.t.Fatal(err)
	}
	s.Run("load", "-i", Archive(s.t, fixture.DockerArchive, fixture.Tagged{Image: img, Tags: []string{UDPToolTag}})).MustSucceed(s.t)
	return UDPToolTag
}
