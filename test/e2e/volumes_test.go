package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/test/fixture"
)

// volumeNames are the names `volume ls -q` lists.
func volumeNames(t testing.TB, s *Skiff, filters ...string) []string {
	t.Helper()
	args := []string{"volume", "ls", "-q"}
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	return s.Run(args...).MustSucceed(t).Lines()
}

func requireVolumes(t testing.TB, s *Skiff, after string, want ...string) {
	t.Helper()
	if got := volumeNames(t, s); !slices.Equal(got, want) {
		t.Fatalf("after %s, volume ls lists %q, want %q", after, got, want)
	}
}

// hostDir makes a directory under the runner's, the user's (rootless).
func hostDir(t testing.TB, s *Skiff, name string) string {
	t.Helper()
	dir := filepath.Join(s.Dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.Chown(dir)
	return dir
}

// mountsOf is a container's inspect Mounts.
func mountsOf(t testing.TB, s *Skiff, ref string) []map[string]any {
	t.Helper()
	var docs []struct{ Mounts []map[string]any }
	out := s.Run("inspect", ref).MustSucceed(t).Stdout
	if err := json.Unmarshal([]byte(out), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("inspect %s: %v\n%s", ref, err, out)
	}
	return docs[0].Mounts
}

// Data written to a named volume by one container is read by the next and
// survives rm of the first; volume rm of a volume in use fails naming the
// container, and works once the container is gone.
func TestVolumeNamedDataOutlivesContainers(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "--name", "writer", "-v", "data:/d", bb, "sh", "-c", "echo kept > /d/f").MustSucceed(t)
		requireVolumes(t, s, "run -v data:/d", "data")
		wid := strings.TrimSpace(s.Run("inspect", "--format", "{{.Id}}", "writer").MustSucceed(t).Stdout)
		r := s.Run("volume", "rm", "data").MustFail(t, 125, "volume is in use - ["+wid+"]")
		requireOneLine(t, r)
		if !strings.Contains(r.Stderr, "writer") {
			t.Errorf("volume rm should name the container writer: %s", r.Stderr)
		}
		// -f removes a missing volume silently, never one in use.
		s.Run("volume", "rm", "-f", "data").MustFail(t, 125, "volume is in use")
		s.Run("volume", "rm", "-f", "nosuchvolume").MustSucceed(t)
		s.Run("rm", "writer").MustSucceed(t)
		requireVolumes(t, s, "rm of the writer", "data")
		s.Run("run", "--rm", "-v", "data:/d", bb, "cat", "/d/f").Assert(t, Expect{Stdout: "kept\n"})
		// The same data under the volume's mountpoint on the host.
		mp := strings.TrimSpace(s.Run("volume", "inspect", "--format", "{{.Mountpoint}}", "data").MustSucceed(t).Stdout)
		if b, err := os.ReadFile(filepath.Join(mp, "f")); err != nil || string(b) != "kept\n" {
			t.Errorf("the volume's data on the host: %q %v", b, err)
		}
		// Other users of the host cannot reach a volume's data.
		if fi, err := os.Stat(filepath.Dir(mp)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("the volume's directory: %v %v, want mode 0700", fi.Mode(), err)
		}
		s.Run("volume", "rm", "data").MustSucceed(t).Assert(t, Expect{Stdout: "data\n"})
		if _, err := os.Stat(mp); !os.IsNotExist(err) {
			t.Errorf("volume rm left %s: %v", mp, err)
		}
		s.Run("volume", "rm", "data").MustFail(t, 125, "no such volume: data")
		requireVolumes(t, s, "volume rm")
	})
}

// -v /path makes an anonymous volume: run --rm leaves none behind, rm
// keeps it, rm -v removes it; named volumes survive both.
func TestVolumeAnonymous(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "--rm", "-v", "/data", bb, "sh", "-c", "echo x > /data/x").MustSucceed(t)
		s.Run("run", "--rm", "--mount", "type=volume,target=/data", "-v", "named:/n", bb, "true").MustSucceed(t)
		requireVolumes(t, s, "run --rm -v /data", "named")
		// Detached, the monitor's clean-up removes them.
		s.Run("run", "-d", "--rm", "-v", "/data", bb, "true").MustSucceed(t)
		eventually(t, 10*time.Second, "the detached --rm container and its volume to go", func() bool {
			return len(s.Run("ps", "-aq").Lines()) == 0 && len(volumeNames(t, s)) == 1
		})

		s.Run("run", "--name", "keep", "-v", "/data", bb, "true").MustSucceed(t)
		anon := volumeNames(t, s, "dangling=false", "name=^[0-9a-f]{64}$")
		if len(anon) != 1 || len(anon[0]) != 64 {
			t.Fatalf("run -v /data: want one anonymous volume with a 64-hex name, got %q", anon)
		}
		m := mountsOf(t, s, "keep")
		if len(m) != 1 || m[0]["Type"] != "volume" || m[0]["Name"] != anon[0] || m[0]["Destination"] != "/data" || m[0]["Driver"] != "local" {
			t.Errorf("inspect Mounts: %v", m)
		}
		s.Run("rm", "keep").MustSucceed(t)
		requireVolumes(t, s, "rm without -v", anon[0], "named")

		s.Run("run", "--name", "drop", "-v", "/data", "-v", "named:/n", bb, "true").MustSucceed(t)
		s.Run("rm", "-v", "drop").MustSucceed(t)
		requireVolumes(t, s, "rm -v", anon[0], "named")

		// One shared through --volumes-from goes with the last rm -v.
		s.Run("run", "--name", "a1", "-v", "/shared", bb, "true").MustSucceed(t)
		s.Run("create", "--name", "a2", "--volumes-from", "a1", bb).MustSucceed(t)
		shared := volumeNames(t, s, "dangling=false")
		s.Run("rm", "-v", "a1").MustSucceed(t)
		if got := volumeNames(t, s, "dangling=false"); len(shared) != 1 || !slices.Equal(got, shared) {
			t.Errorf("rm -v of a1 removed the volume a2 still uses: %q, then %q", shared, got)
		}
		s.Run("rm", "-v", "a2").MustSucceed(t)
		requireVolumes(t, s, "rm -v of the last user of a shared anonymous volume", anon[0], "named")

		// prune takes unused anonymous volumes; -a named ones too.
		s.Run("volume", "prune", "-f").MustSucceed(t).Assert(t, Expect{Stdout: "Deleted Volumes:\n" + anon[0] + "\n\nTotal reclaimed space:"})
		requireVolumes(t, s, "volume prune", "named")
		s.Run("volume", "prune", "-f", "--all").Assert(t, Expect{Stdout: "Deleted Volumes:\nnamed\n"})
		requireVolumes(t, s, "volume prune --all")
	})
}

// volumeImage is busybox with VOLUME /data over image content: a file
// owned 1000:1000, mode 0640, a subdirectory, a symlink to the host's
// /etc/shadow (which must stay a symlink), and a fixed mtime.
func volumeImage(t *testing.T) string {
	bb, err := fixture.BusyboxLayer()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	mtime := time.Unix(1500000000, 0)
	for _, h := range []*tar.Header{
		{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 1000, Gid: 1000, ModTime: mtime},
		{Name: "data/sub/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime},
		{Name: "data/sub/hello", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 1000, Gid: 1000, Size: 6, ModTime: mtime},
		{Name: "data/shadow", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow", ModTime: mtime},
	} {
		tw.WriteHeader(h)
		if h.Size > 0 {
			tw.Write([]byte("hello\n"))
		}
	}
	tw.Close()
	cfg := fixture.BusyboxConfig()
	cfg.Volumes = map[string]struct{}{"/data": {}}
	img, err := fixture.New([]fixture.Layer{bb, fixture.NewLayer(b.Bytes(), "VOLUME /data")}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Archive(t, fixture.DockerArchive, fixture.Tagged{Image: img, Tags: []string{"withvolume:1"}})
}

// An image's VOLUME gets an anonymous volume filled with the image's
// content there (owners, modes, mtimes, symlinks kept); a new named volume
// is filled too, unless nocopy; one that holds data is left as it is.
func TestVolumeImageVolumeCopyUp(t *testing.T) {
	t.Parallel()
	archive := volumeImage(t)
	const check = `stat -c '%n %u:%g %a %Y' /data /data/sub/hello && readlink /data/shadow && cat /data/sub/hello`
	want := "/data 1000:1000 750 1500000000\n/data/sub/hello 1000:1000 640 1500000000\n/etc/shadow\nhello\n"
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		setup(t, s)
		s.Run("load", "-i", archive).MustSucceed(t)
		s.Run("run", "--name", "img", "withvolume:1", "sh", "-c", check).Assert(t, Expect{Stdout: want})
		anon := volumeNames(t, s)
		if len(anon) != 1 || len(anon[0]) != 64 {
			t.Fatalf("the image's VOLUME: want one anonymous volume, got %q", anon)
		}
		if ms := mountsOf(t, s, "img"); len(ms) != 1 || ms[0]["Name"] != anon[0] || ms[0]["Destination"] != "/data" {
			t.Errorf("inspect Mounts %v, want the anonymous volume %s at /data", ms, anon[0])
		}
		// On the host the symlink is still a symlink: nothing followed.
		mp := strings.TrimSpace(s.Run("volume", "inspect", "--format", "{{.Mountpoint}}", anon[0]).MustSucceed(t).Stdout)
		if l, err := os.Readlink(filepath.Join(mp, "shadow")); err != nil || l != "/etc/shadow" {
			t.Errorf("the copied symlink: %q %v", l, err)
		}
		s.Run("rm", "-v", "img").MustSucceed(t)
		requireVolumes(t, s, "rm -v of the image's container")

		s.Run("run", "--rm", "-v", "filled:/data", "withvolume:1", "sh", "-c", check+" && echo mine > /data/sub/hello").Assert(t, Expect{Stdout: want})
		// Not empty any more: the next container sees the volume's data.
		s.Run("run", "--rm", "-v", "filled:/data", "withvolume:1", "cat", "/data/sub/hello").Assert(t, Expect{Stdout: "mine\n"})
		s.Run("run", "--rm", "-v", "empty:/data:nocopy", "withvolume:1", "ls", "-A", "/data").Assert(t, Expect{Stdout: ""}).MustSucceed(t)
		if out := s.Run("run", "--rm", "--mount", "type=volume,src=empty2,dst=/data,volume-nocopy", "withvolume:1", "ls", "-A", "/data").MustSucceed(t).Stdout; out != "" {
			t.Errorf("volume-nocopy: the volume holds %q", out)
		}
		// run --rm of an image with a VOLUME leaves no anonymous volume.
		s.Run("run", "--rm", "withvolume:1", "true").MustSucceed(t)
		requireVolumes(t, s, "the runs of TestVolumeImageVolumeCopyUp", "empty", "empty2", "filled")
	})
}

// ls, inspect, exists, prune and their filters, as Docker's.
func TestVolumeCommands(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("volume", "create", "--label", "tier=db", "--label", "env=prod", "alpha").Assert(t, Expect{Stdout: "alpha\n"})
		s.Run("volume", "create", "beta", "-l", "tier=web").MustSucceed(t) // flags after the name, as Docker's
		s.Run("volume", "create", "gamma").MustSucceed(t)
		s.Run("volume", "create", "gamma").Assert(t, Expect{Stdout: "gamma\n"}) // Docker: the existing one
		random := s.Run("volume", "create").MustSucceed(t).Out()
		if len(random) != 64 {
			t.Errorf("volume create without a name: %q", random)
		}
		s.Run("volume", "rm", random).MustSucceed(t)
		s.Run("create", "--name", "user", "-v", "beta:/b", bb).MustSucceed(t)

		s.Run("volume", "ls").Assert(t, Expect{Stdout: "DRIVER    VOLUME NAME\nlocal     alpha\nlocal     beta\nlocal     gamma\n"})
		s.Run("volume", "ls", "--format", "{{.Name}}:{{.Driver}}:{{.Scope}}").Assert(t, Expect{Stdout: "alpha:local:local\nbeta:local:local\ngamma:local:local\n"})
		if out := s.Run("volume", "ls", "--format", "{{.Name}} {{.Size}}", "--filter", "name=gamma").MustSucceed(t).Out(); out != "gamma 0B" {
			t.Errorf("ls --format with .Size: %q", out)
		}
		for _, tc := range []struct {
			filters []string
			want    []string
		}{
			{[]string{"name=alp"}, []string{"alpha"}},
			{[]string{"name=alpha", "name=gamma"}, []string{"alpha", "gamma"}}, // one key twice: OR
			{[]string{"label=tier"}, []string{"alpha", "beta"}},
			{[]string{"label=tier=db", "label=env=prod"}, []string{"alpha"}}, // labels: AND
			{[]string{"label=tier=web", "label=env=prod"}, nil},
			{[]string{"label!=tier"}, []string{"gamma"}},
			{[]string{"dangling=true"}, []string{"alpha", "gamma"}},
			{[]string{"dangling=false"}, []string{"beta"}},
			{[]string{"driver=local", "name=beta"}, []string{"beta"}},
			{[]string{"driver=other"}, nil},
		} {
			if got := volumeNames(t, s, tc.filters...); !slices.Equal(got, tc.want) {
				t.Errorf("ls --filter %q: %q, want %q", tc.filters, got, tc.want)
			}
		}
		requireOneLine(t, s.Run("volume", "ls", "--filter", "colour=red").MustFail(t, 125, `unknown filter "colour"`))
		requireOneLine(t, s.Run("volume", "ls", "--filter", "dangling=maybe").MustFail(t, 125, "true or false"))

		out := s.Run("volume", "inspect", "alpha").MustSucceed(t).Stdout
		var docs []map[string]any
		if err := json.Unmarshal([]byte(out), &docs); err != nil || len(docs) != 1 {
			t.Fatalf("volume inspect: %v\n%s", err, out)
		}
		d := docs[0]
		if d["Name"] != "alpha" || d["Driver"] != "local" || d["Scope"] != "local" ||
			d["Mountpoint"] != filepath.Join(s.Root, "volumes", "alpha", "_data") {
			t.Errorf("volume inspect: %v", d)
		}
		if l, _ := d["Labels"].(map[string]any); l["tier"] != "db" || l["env"] != "prod" {
			t.Errorf("volume inspect Labels: %v", d["Labels"])
		}
		if _, err := time.Parse(time.RFC3339, d["CreatedAt"].(string)); err != nil {
			t.Errorf("CreatedAt: %v", err)
		}
		keys := []string{`"CreatedAt"`, `"Driver"`, `"Labels"`, `"Mountpoint"`, `"Name"`, `"Options"`, `"Scope"`}
		for i := 1; i < len(keys); i++ {
			if strings.Index(out, keys[i-1]) > strings.Index(out, keys[i]) {
				t.Errorf("volume inspect: %s should come before %s (Docker's order)", keys[i-1], keys[i])
			}
		}
		s.Run("volume", "inspect", "--format", "{{.Name}} {{.Labels.tier}}", "alpha", "beta").Assert(t, Expect{Stdout: "alpha db\nbeta web\n"})
		s.Run("inspect", "--type", "volume", "--format", "{{.Name}}", "gamma").Assert(t, Expect{Stdout: "gamma\n"})
		s.Run("inspect", "--format", "{{.Name}} {{.Scope}}", "gamma").Assert(t, Expect{Stdout: "gamma local\n"}) // after containers and images
		requireOneLine(t, s.Run("inspect", "nosuchthing").MustFail(t, 125, "No such object: nosuchthing"))
		requireOneLine(t, s.Run("volume", "inspect", "nosuch").MustFail(t, 125, "no such volume: nosuch"))

		s.Run("__complete", "volume", "rm", "al").Assert(t, Expect{Stdout: "alpha\n"}) // shell completion
		s.Run("__complete", "volume", "inspect", "alpha", "").Assert(t, Expect{Stdout: "alpha\nbeta\ngamma\n"})
		s.Run("volume", "exists", "alpha").MustSucceed(t)
		s.Run("volume", "exists", "nosuch").Assert(t, Expect{Code: 1})

		// prune without -f asks Docker's question; no answer removes nothing.
		r := s.RunStdin(strings.NewReader("n\n"), "volume", "prune", "--all")
		r.Assert(t, Expect{Stdout: "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] "})
		r = s.RunStdin(strings.NewReader("n\n"), "volume", "prune")
		r.Assert(t, Expect{Stdout: "WARNING! This will remove anonymous local volumes not used by at least one container."})
		requireVolumes(t, s, "prune answered no", "alpha", "beta", "gamma")
		s.Run("volume", "prune", "-f", "-a", "--filter", "label=tier").Assert(t, Expect{Stdout: "Deleted Volumes:\nalpha\n\nTotal reclaimed space: 0B\n"})
		requireOneLine(t, s.Run("volume", "prune", "-f", "--filter", "dangling=true").MustFail(t, 125, `unknown filter "dangling"`))
		s.Run("volume", "prune", "-f", "--filter", "all=true").Assert(t, Expect{Stdout: "Deleted Volumes:\ngamma\n"})
		requireVolumes(t, s, "prune -a", "beta") // in use by a created container
		s.Run("rm", "user").MustSucceed(t)
		s.Run("volume", "rm", "beta", "nosuch", "-f").Assert(t, Expect{Stdout: "beta\nnosuch\n"})
	})
}

// The local driver's tmpfs and bind volumes: mounted while a container
// uses them; removing a bind volume never removes the host's files.
func TestVolumeLocalDriver(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=2m,mode=1770", "scratch").MustSucceed(t)
		s.Run("run", "-d", "--name", "holder", "-v", "scratch:/s", bb, "sleep", "60").MustSucceed(t)
		s.Run("exec", "holder", "sh", "-c", "echo live > /s/f").MustSucceed(t) // written before the next run reads it
		s.Run("run", "--rm", "-v", "scratch:/s", bb, "sh", "-c", "df -k /s | tail -1; stat -c %a /s; cat /s/f").
			Assert(t, Expect{Stdout: "tmpfs"}).Assert(t, Expect{Stdout: "2048"}).Assert(t, Expect{Stdout: "1770\nlive\n"})
		if !volumeMounted(t, s, "scratch") {
			t.Errorf("the tmpfs volume is not mounted on its data directory while a container uses it")
		}
		s.Run("rm", "-f", "holder").MustSucceed(t)
		// Unmounted with its last user: a tmpfs volume's data goes with it.
		s.Run("run", "--rm", "-v", "scratch:/s", bb, "sh", "-c", "ls -A /s; df -k /s | tail -1").Assert(t, Expect{Stdout: "tmpfs", NotStdout: "f\n"})
		if volumeMounted(t, s, "scratch") {
			t.Errorf("the tmpfs volume is still mounted after its last user")
		}
		// A container that exits and stays releases it too.
		s.Run("run", "--name", "once", "-v", "scratch:/s", bb, "true").MustSucceed(t)
		eventually(t, 10*time.Second, "the tmpfs volume to be unmounted after its user exited", func() bool { return !volumeMounted(t, s, "scratch") })
		s.Run("rm", "once").MustSucceed(t)

		// --mount's volume-opt makes a tmpfs volume on first use.
		s.Run("run", "--rm", "--mount", `type=volume,src=viaopt,dst=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"volume-opt=o=size=1m"`, bb,
			"sh", "-c", "df -k /v | tail -1").Assert(t, Expect{Stdout: "1024"})
		if v := s.Run("volume", "inspect", "--format", "{{.Options.type}}", "viaopt").MustSucceed(t).Out(); v != "tmpfs" {
			t.Errorf("volume-opt: Options.type %q", v)
		}

		host := hostDir(t, s, "hostdir")
		s.WriteFile(filepath.Join(host, "keep"), []byte("host file\n"))
		s.Run("volume", "create", "-o", "type=none", "-o", "device="+host, "-o", "o=bind", "hostbind").MustSucceed(t)
		s.Run("run", "--rm", "-v", "hostbind:/h", bb, "sh", "-c", "cat /h/keep; echo from-ctr > /h/new").Assert(t, Expect{Stdout: "host file\n"})
		if b, err := os.ReadFile(filepath.Join(host, "new")); err != nil || string(b) != "from-ctr\n" {
			t.Errorf("the bind volume's write on the host: %q %v", b, err)
		}
		s.Run("volume", "rm", "hostbind").MustSucceed(t)
		if _, err := os.Stat(filepath.Join(host, "keep")); err != nil {
			t.Fatalf("volume rm of a bind volume removed the host's files: %v", err)
		}

		requireOneLine(t, s.Run("volume", "create", "-o", "type=tmpfs", "bad").MustFail(t, 125, `missing required option: "device"`))
		requireOneLine(t, s.Run("volume", "create", "-o", "colour=red", "bad").MustFail(t, 125, `invalid option key: "colour"`))
		requireOneLine(t, s.Run("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=/nonexistent/dir", "bad").MustFail(t, 125, "does not exist"))
		requireOneLine(t, s.Run("volume", "create", "-d", "nfs-plugin", "bad").MustFail(t, 125, `volume driver "nfs-plugin" is not supported`))
		if s.Rootless() {
			requireOneLine(t, s.Run("volume", "create", "-o", "type=ext4", "-o", "device=/dev/loop0", "bad").MustFail(t, 125, "cannot be mounted by rootless skiff"))
		}
		requireVolumes(t, s, "the bad volume creates", "scratch", "viaopt")
	})
}

// A block device volume (rootful): an ext4 image on a loop device.
func TestVolumeBlockDevice(t *testing.T) {
	t.Parallel()
	RequiresCommand(t, "mkfs.ext4")
	RequiresCommand(t, "losetup")
	s := NewSkiff(t, Rootful)
	bb := setup(t, s)
	img := filepath.Join(s.Dir, "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	s.RunCommand("mkfs.ext4", "-q", img).MustSucceed(t)
	dev := s.RunCommand("losetup", "--find", "--show", img).MustSucceed(t).Out()
	t.Cleanup(func() { s.RunCommand("losetup", "-d", dev) })
	s.Run("volume", "create", "-o", "type=ext4", "-o", "device="+dev, "disk").MustSucceed(t)
	s.Run("run", "--rm", "-v", "disk:/disk", bb, "sh", "-c", "echo on-disk > /disk/f; ls /disk").Assert(t, Expect{Stdout: "lost+found"})
	// Unmounted after the run; mounted again by the next.
	if volumeMounted(t, s, "disk") {
		t.Errorf("the device is still mounted after its last user")
	}
	s.Run("run", "--rm", "-v", "disk:/disk", bb, "cat", "/disk/f").Assert(t, Expect{Stdout: "on-disk\n"})
	s.Run("volume", "rm", "disk").MustSucceed(t)
}

// volumeMounted reports whether something is mounted on the data
// directory of volume name: in the host's mount table rootful, in skiff's
// own mount namespace (skiff unshare) rootless.
func volumeMounted(t testing.TB, s *Skiff, name string) bool {
	t.Helper()
	data := filepath.Join(s.Root, "volumes", name, "_data")
	var table string
	if s.Rootless() {
		table = s.Run("unshare", "cat", "/proc/self/mountinfo").MustSucceed(t).Stdout
	} else {
		b, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		table = string(b)
	}
	for line := range strings.Lines(table) {
		if f := strings.Fields(line); len(f) > 4 && unescapeMount(f[4]) == data {
			return true
		}
	}
	return false
}

// --mount's forms, --volumes-from, and inspect's Mounts as Docker's.
func TestVolumeMountForms(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		host := hostDir(t, s, "share")
		s.WriteFile(filepath.Join(host, "in"), []byte("shared\n"))
		s.Run("run", "--name", "src", "--mount", "type=volume,source=vol,target=/vol",
			"--mount", "type=bind,src="+host+",dst=/share,readonly",
			"--mount", "type=tmpfs,destination=/tmp/t,tmpfs-size=1m,tmpfs-mode=700",
			bb, "sh", "-c", "echo v > /vol/f; cat /share/in; touch /share/x 2>/dev/null || echo ro; df -k /tmp/t | tail -1; stat -c %a /tmp/t").
			Assert(t, Expect{Stdout: "shared\nro\n"}).Assert(t, Expect{Stdout: "1024"}).Assert(t, Expect{Stdout: "700\n"})
		ms := mountsOf(t, s, "src")
		if len(ms) != 2 {
			t.Fatalf("inspect Mounts (tmpfs is no entry, as Docker): %v", ms)
		}
		vol, bind := ms[0], ms[1]
		if vol["Type"] != "volume" || vol["Name"] != "vol" || vol["Destination"] != "/vol" || vol["Driver"] != "local" || vol["RW"] != true ||
			vol["Source"] != filepath.Join(s.Root, "volumes", "vol", "_data") {
			t.Errorf("the volume's Mounts entry: %v", vol)
		}
		if bind["Type"] != "bind" || bind["Source"] != host || bind["Destination"] != "/share" || bind["RW"] != false || bind["Propagation"] != "rprivate" {
			t.Errorf("the bind's Mounts entry: %v", bind)
		}
		if _, ok := bind["Name"]; ok {
			t.Errorf("a bind has no Name: %v", bind)
		}
		// --volumes-from: the same volume and bind; :ro makes both read-only.
		s.Run("run", "--rm", "--volumes-from", "src", bb, "sh", "-c", "cat /vol/f /share/in; echo more >> /vol/f && echo rw").
			Assert(t, Expect{Stdout: "v\nshared\nrw\n"})
		s.Run("run", "--rm", "--volumes-from", "src:ro", bb, "sh", "-c", "cat /vol/f; echo x >> /vol/f || echo refused").
			Assert(t, Expect{Stdout: "v\nmore\nrefused\n"})
		s.Run("create", "--name", "from", "--volumes-from", "src:ro", bb).MustSucceed(t)
		if ms := mountsOf(t, s, "from"); len(ms) != 2 || ms[0]["Name"] != "vol" || ms[0]["RW"] != false {
			t.Errorf("--volumes-from src:ro Mounts: %v", ms)
		}
		requireOneLine(t, s.Run("volume", "rm", "vol").MustFail(t, 125, "volume is in use"))
		s.Run("ps", "-a", "--filter", "volume=vol", "--format", "{{.Names}} {{.Mounts}}").Assert(t, Expect{Stdout: "from vol," + host + "\nsrc vol," + host + ",/tmp/t\n"})
		s.Run("rm", "src", "from").MustSucceed(t)
		requireOneLine(t, s.Run("run", "--rm", "--volumes-from", "nosuch", bb, "true").MustFail(t, 125, "No such container"))
		requireOneLine(t, s.Run("run", "--rm", "--volumes-from", "nosuch:rx", bb, "true").MustFail(t, 125, "CONTAINER[:ro|rw]"))
		requireNoContainers(t, s, "the runs of TestVolumeMountForms")
	})
}

// Rootless, what the container's root writes into a bind mount belongs to
// the user on the host; :U gives a volume to the container's user.
func TestVolumeOwnership(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		host := hostDir(t, s, "bind")
		s.Run("run", "--rm", "-v", host+":/m", bb, "sh", "-c", "echo root-wrote > /m/file").MustSucceed(t)
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(host, "file"), &st); err != nil {
			t.Fatal(err)
		}
		if int(st.Uid) != s.UID() || int(st.Gid) != s.GID() {
			t.Errorf("a file the container's root wrote is owned by %d:%d on the host, want the user's %d:%d", st.Uid, st.Gid, s.UID(), s.GID())
		}
		s.Run("run", "--rm", "-v", "owned:/o", bb, "sh", "-c", "mkdir /o/d && touch /o/d/f").MustSucceed(t)
		s.Run("run", "--rm", "--user", "1234:5678", "-v", "owned:/o:U", bb, "sh", "-c", "stat -c '%u:%g' /o /o/d /o/d/f && touch /o/mine && echo wrote").
			Assert(t, Expect{Stdout: "1234:5678\n1234:5678\n1234:5678\nwrote\n"})
		s.Run("run", "--rm", "-v", "owned:/o:z", bb, "true").MustSucceed(t) // :z/:Z: accepted, no SELinux
		s.Run("run", "--rm", "-v", "owned:/o:Z", bb, "true").MustSucceed(t)
	})
}

// Every bad input: one clear line, exit 125, no container, no volume.
func TestVolumeBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"run", "--rm", "-v", "./rel:/x", bb, "true"}, `invalid volume name "./rel"`},
			{[]string{"run", "--rm", "-v", "rel/dir:/x", bb, "true"}, `invalid volume name "rel/dir"`},
			{[]string{"create", "-v", "data/x:/x", bb}, "to mount a host directory, give its absolute path"},
			{[]string{"run", "--rm", "-v", "/nonexistent/skiff-src:/x", bb, "true"}, "bind source path does not exist: /nonexistent/skiff-src"},
			{[]string{"run", "--rm", "--mount", "type=bind,source=/nonexistent/skiff-src,target=/x", bb, "true"}, "bind source path does not exist"},
			{[]string{"run", "--rm", "--mount", "type=bind,source=/tmp,target=/x,colour=red", bb, "true"}, "unexpected key 'colour' in 'colour=red'"},
			{[]string{"run", "--rm", "--mount", "type=volume,src=ok,target=/x,bogus", bb, "true"}, "unexpected key 'bogus' in 'bogus'"},
			{[]string{"run", "--rm", "--mount", "type=volume,src=ok", bb, "true"}, "target is required"},
			{[]string{"run", "--rm", "--mount", "type=volume,src=a/b,dst=/x", bb, "true"}, `invalid volume name "a/b"`},
			{[]string{"run", "--rm", "--mount", "type=volume,src=ok,dst=/x,volume-opt=colour=red", bb, "true"}, `invalid option key: "colour"`},
			{[]string{"run", "--rm", "-v", "ok:relative", bb, "true"}, "is not an absolute path"},
			{[]string{"run", "--rm", "-v", "ok:/x", "-v", "ok2:/x", bb, "true"}, "duplicate mount point: /x"},
			{[]string{"volume", "create", "a/b"}, `invalid volume name "a/b"`},
			{[]string{"volume", "create", "x"}, `invalid volume name "x"`},
		} {
			r := s.Run(tc.args...).MustFail(t, 125, tc.want)
			requireOneLine(t, r)
		}
		requireNoContainers(t, s, "the bad volume inputs")
		requireVolumes(t, s, "the bad volume inputs")
		if ls, _ := os.ReadDir(filepath.Join(s.Root, "volumes")); len(ls) != 0 {
			t.Errorf("the bad inputs left %d entries under volumes/", len(ls))
		}
	})
}
