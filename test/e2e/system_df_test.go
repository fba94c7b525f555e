package e2e

import (
	"strconv"
	"strings"
	"testing"

	units "github.com/docker/go-units"

	"github.com/skiff-engine/skiff/test/fixture"
)

// system df counts images (shared layers once), containers (their writable
// layers) and volumes, as Docker's four lines; -v lists each of them.
func TestSystemDf(t *testing.T) {
	t.Parallel()
	bb := Busybox(t)
	other := Layered(t, fixture.LayersOptions{Layers: 2, Size: 256 << 10, Busybox: true, Seed: 21})
	archive := Archive(t, fixture.DockerArchive, fixture.Tagged{Image: bb, Tags: []string{"busybox:latest"}},
		fixture.Tagged{Image: other, Tags: []string{"layers:latest"}})
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		if !s.Rootless() {
			t.Cleanup(func() { killContainerProcesses(s) })
		}
		s.Run("load", "-i", archive).MustSucceed(t)
		// A container that wrote 1 MB, stopped.
		s.Run("run", "--name", "writer", "busybox", "dd", "if=/dev/zero", "of=/blob", "bs=1024", "count=1024").MustSucceed(t)
		// Two volumes: one the container mounts (512 KiB), one nobody does (256 KiB).
		s.Run("run", "--name", "vuser", "-v", "used:/v", "busybox", "dd", "if=/dev/zero", "of=/v/f", "bs=1024", "count=512").MustSucceed(t)
		s.Run("volume", "create", "spare").MustSucceed(t)
		s.Run("run", "--rm", "-v", "spare:/v", "busybox", "dd", "if=/dev/zero", "of=/v/f", "bs=1024", "count=256").MustSucceed(t)

		rows := map[string][]string{}
		for _, l := range s.Run("system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}").MustSucceed(t).Lines() {
			f := strings.Split(l, "|")
			rows[f[0]] = f[1:]
		}
		size := func(kind string, col int) int64 {
			t.Helper()
			v := strings.Fields(rows[kind][col])[0]
			n, err := units.FromHumanSize(v)
			if err != nil {
				t.Fatalf("%s %d: %q: %v", kind, col, v, err)
			}
			return n
		}
		if r := rows["Images"]; len(r) != 4 || r[0] != "2" || r[1] != "1" {
			t.Errorf("Images row %q: want 2 images, 1 active (the busybox one the container uses)", r)
		}
		// The layered image holds busybox's layer: counted once, so the
		// total is less than the two images' sizes added up.
		imgSizes := map[string]int64{}
		for _, l := range s.Run("images", "--format", "{{.Repository}} {{.Size}}").MustSucceed(t).Lines() {
			f := strings.Fields(l)
			n, _ := units.FromHumanSize(f[1])
			imgSizes[f[0]] = n
		}
		if total := size("Images", 2); total >= imgSizes["busybox"]+imgSizes["layers"] || total < imgSizes["layers"] {
			t.Errorf("images total %d: want the layers counted once (busybox %d, layers %d)", total, imgSizes["busybox"], imgSizes["layers"])
		}
		if r := rows["Local Volumes"]; len(r) != 4 || r[0] != "2" || r[1] != "1" {
			t.Errorf("Local Volumes row %q: want 2 volumes, 1 in use", r)
		}
		if n, free := size("Local Volumes", 2), size("Local Volumes", 3); n < 780_000 || n > 800_000 || free < 255_000 || free > 270_000 {
			t.Errorf("volumes size %d, reclaimable %d: want 768 KiB, of which the unused volume's 256 KiB", n, free)
		}
		if r := rows["Containers"]; len(r) != 4 || r[0] != "2" || r[1] != "0" || !strings.HasSuffix(r[3], "(100%)") {
			t.Errorf("Containers row %q: want 2 containers, none running, all of it reclaimable", r)
		}
		if n := size("Containers", 2); n < 1<<20 || n > 2<<20 {
			t.Errorf("containers size %d: want the 1 MiB the container wrote", n)
		}
		if r := rows["Build Cache"]; len(r) != 4 || r[0] != "0" {
			t.Errorf("Build Cache row %q", r)
		}

		out := s.Run("system", "df").MustSucceed(t).Lines()
		if len(out) != 5 || strings.Join(strings.Fields(out[0]), " ") != "TYPE TOTAL ACTIVE SIZE RECLAIMABLE" || !strings.HasPrefix(out[3], "Local Volumes") {
			t.Errorf("system df: want Docker's header and four rows, got\n%s", strings.Join(out, "\n"))
		}
		v := s.Run("system", "df", "-v").MustSucceed(t).Out()
		for _, want := range []string{"Images space usage:", "Containers space usage:", "Local Volumes space usage:", "Build cache usage: 0B", "writer", "SHARED SIZE", "LINKS"} {
			if !strings.Contains(v, want) {
				t.Errorf("system df -v lacks %q:\n%s", want, v)
			}
		}
		// busybox's row: all of it shared with the layered image, one container.
		for _, l := range strings.Split(v, "\n") {
			f := strings.Fields(l)
			if len(f) > 0 && f[0] == "busybox" {
				if f[len(f)-1] != "2" || f[len(f)-2] != "0B" {
					t.Errorf("busybox row %q: want unique size 0B (its one layer is shared) and 2 containers", l)
				}
			}
		}
		vols := map[string]string{}
		for _, l := range strings.Split(v[strings.Index(v, "Local Volumes space usage:"):], "\n")[3:] {
			if f := strings.Fields(l); len(f) == 3 {
				vols[f[0]] = f[1]
			}
		}
		if vols["used"] != "1" || vols["spare"] != "0" {
			t.Errorf("system df -v volume links %v: want used 1, spare 0", vols)
		}
		s.Run("system", "df", "-v", "--format", "{{.Type}}").MustFail(t, 125, "cannot be used together")
		s.Run("system", "df", "extra").MustFail(t, 125, "requires exactly 0 argument(s): see 'skiff system df --help'")
		if _, err := strconv.Atoi(rows["Images"][0]); err != nil {
			t.Errorf("TotalCount %q is not a number", rows["Images"][0])
		}
	})
}
