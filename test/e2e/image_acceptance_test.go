package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/test/fixture"
)

// The acceptance of the images issue, each case rootful and rootless.

func imageInspect(t *testing.T, s *Skiff, ref string) map[string]any {
	t.Helper()
	var docs []map[string]any
	r := s.Run("image", "inspect", ref).MustSucceed(t)
	if err := json.Unmarshal([]byte(r.Stdout), &docs); err != nil || len(docs) != 1 {
		t.Fatalf("image inspect %s: %v\n%s", ref, err, r.Stdout)
	}
	return docs[0]
}

func layersOf(doc map[string]any) []string {
	var out []string
	rootfs, _ := doc["RootFS"].(map[string]any)
	layers, _ := rootfs["Layers"].([]any)
	for _, l := range layers {
		out = append(out, fmt.Sprint(l))
	}
	return out
}

func diffIDs(img *fixture.Image) []string {
	var out []string
	for _, d := range img.DiffIDs() {
		out = append(out, d.String())
	}
	return out
}

func TestImagePullListInspect(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := SharedRegistry(t)
		ref := PushImage(t, reg, Repo(t), "v1", img)
		// A docker.io short name served by a mirror on loopback.
		short := "mirrored-" + string(s.Mode)
		PushImage(t, reg, "library/"+short, "latest", img)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host) +
			fmt.Sprintf("[[registry]]\nlocation = \"docker.io\"\n[[registry.mirror]]\nlocation = %q\ninsecure = true\n", reg.Host))

		s.Run("pull", ref).Assert(t, Expect{Stdout: "Pull complete"})
		s.Run("pull", "-q", short).Assert(t, Expect{Stdout: "docker.io/library/" + short + ":latest"})

		r := s.Run("images").MustSucceed(t)
		header := regexpFields(r.Lines()[0])
		if header != "REPOSITORY TAG IMAGE ID CREATED SIZE" {
			t.Fatalf("images header = %q", r.Lines()[0])
		}
		for _, want := range []string{short + " ", "latest", img.ID().Encoded()[:12], reg.Host + "/e2e/"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("images lacks %q:\n%s", want, r.Stdout)
			}
		}
		s.Run("images", "-q").Assert(t, Expect{Stdout: img.ID().Encoded()[:12]})
		s.Run("images", "--digests").Assert(t, Expect{Stdout: img.Manifest.Digest.String()})
		s.Run("images", "--filter", "reference="+short, "--format", "{{.Repository}}:{{.Tag}}").Assert(t, Expect{Stdout: short + ":latest\n"})

		// Nothing written where podman keeps its data: the blob-info cache
		// is in skiff's store.
		if s.Rootless() {
			if _, err := os.Stat(filepath.Join(s.DataHome, "containers")); err == nil {
				t.Errorf("pull wrote %s/containers, outside skiff's store", s.DataHome)
			}
		}
		doc := imageInspect(t, s, short)
		if size, _ := doc["Size"].(float64); size < 1<<20 || doc["VirtualSize"] != doc["Size"] {
			t.Errorf("image inspect Size %v, VirtualSize %v: want busybox's megabytes, equal", doc["Size"], doc["VirtualSize"])
		}
		if doc["Id"] != "sha256:"+img.ID().Encoded() {
			t.Errorf("Id = %v, want %s", doc["Id"], img.ID())
		}
		if got, want := layersOf(doc), diffIDs(img); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("RootFS.Layers = %v, want %v", got, want)
		}
		if !strings.Contains(fmt.Sprint(doc["RepoDigests"]), img.Manifest.Digest.String()) {
			t.Errorf("RepoDigests %v lack %s", doc["RepoDigests"], img.Manifest.Digest)
		}
		s.Run("image", "inspect", "-f", "{{.Id}} {{.Config.Cmd}}", short).Assert(t, Expect{Stdout: "sha256:" + img.ID().Encoded() + " [sh]"})
		if n := len(s.Run("history", short).MustSucceed(t).Lines()); n < 2 {
			t.Errorf("history printed %d lines", n)
		}
	})
}

// regexpFields folds runs of spaces, so a header compares as words.
func regexpFields(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestImageTagRmiSaveLoad(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	other := Layered(t, fixture.LayersOptions{Layers: 2, Size: 64 << 10, Busybox: true, Seed: 7})
	archive := Archive(t, fixture.DockerArchive, fixture.Tagged{Image: img, Tags: []string{"busybox:latest"}},
		fixture.Tagged{Image: other, Tags: []string{"layers:latest"}})
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		s.Run("load", "-i", archive).Assert(t, Expect{Stdout: "Loaded image: busybox:latest"})
		s.Run("tag", "busybox", "example.com/tools/bb:1").MustSucceed(t)
		s.Run("images").Assert(t, Expect{Stdout: "example.com/tools/bb"})
		s.Run("rmi", "example.com/tools/bb:1").Assert(t, Expect{Stdout: "Untagged: example.com/tools/bb:1", NotStdout: "Deleted"})
		s.Run("image", "exists", "busybox").MustSucceed(t)
		s.Run("image", "exists", "example.com/tools/bb:1").MustFail(t, 1, "")
		s.Run("tag", "busybox", "bb2").MustSucceed(t)
		s.Run("untag", "busybox", "bb2").MustSucceed(t)
		s.Run("image", "exists", "bb2").MustFail(t, 1, "")

		for _, format := range []string{"docker-archive", "oci-archive"} {
			out := filepath.Join(s.Dir, "saved-"+format+".tar")
			s.Run("tag", "busybox", "twice:1").MustSucceed(t)
			s.Run("save", "--format", format, "-o", out, "busybox", "layers", "twice:1").MustSucceed(t)
			s.Run("rmi", "-f", img.ID().Encoded()).MustSucceed(t)
			s.Run("rmi", "layers").MustSucceed(t)
			s.Run("images", "-q").Assert(t, Expect{NotStdout: img.ID().Encoded()[:12]})
			r := s.Run("load", "-i", out).MustSucceed(t)
			for _, name := range []string{"busybox:latest", "layers:latest", "twice:1"} {
				if !strings.Contains(r.Stdout, name) {
					t.Errorf("%s: load did not report %s:\n%s", format, name, r.Stdout)
				}
			}
			for name, want := range map[string]*fixture.Image{"busybox": img, "layers": other, "twice:1": img} {
				doc := imageInspect(t, s, name)
				if doc["Id"] != "sha256:"+want.ID().Encoded() || strings.Join(layersOf(doc), ",") != strings.Join(diffIDs(want), ",") {
					t.Errorf("%s: %s came back as %v %v", format, name, doc["Id"], layersOf(doc))
				}
			}
			s.Run("rmi", "twice:1").MustSucceed(t)
		}
		// stdout and stdin work too.
		saved := s.Run("save", "busybox").MustSucceed(t)
		s.Run("rmi", "busybox").MustSucceed(t)
		s.RunStdin(strings.NewReader(saved.Stdout), "load").Assert(t, Expect{Stdout: "Loaded image: busybox:latest"})
		s.Run("image", "exists", "busybox").MustSucceed(t)
	})
}

func TestImageImport(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bb))})
	tw.Write(bb)
	tw.WriteHeader(&tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "busybox"})
	tw.Close()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		tarball := s.WriteFile("rootfs.tar", buf.Bytes())
		r := s.Run("import", "--change", `CMD ["sh","-c","echo imported $GREETING"]`, "--change", "ENV GREETING=hello", "-m", "from a tarball", tarball, "imported:1").MustSucceed(t)
		if !strings.HasPrefix(r.Out(), "sha256:") {
			t.Fatalf("import printed %q", r.Out())
		}
		s.Run("image", "inspect", "-f", "{{.Config.Env}} {{.Comment}}", "imported:1").Assert(t, Expect{Stdout: "[GREETING=hello] from a tarball"})
		s.Run("run", "--rm", "imported:1").Assert(t, Expect{Stdout: "imported hello"})
		s.RunStdin(bytes.NewReader(buf.Bytes()), "import", "-", "fromstdin").MustSucceed(t)
		s.Run("image", "exists", "fromstdin").MustSucceed(t)
	})
}

func TestImagePushAuth(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	archive := BusyboxArchive(t, fixture.DockerArchive)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := StartRegistry(t, RegistryOptions{TLS: true, Auth: true})
		s.Run("load", "-i", archive).MustSucceed(t)
		dest := reg.Host + "/team/bb:1"
		s.Run("tag", "busybox", dest).MustSucceed(t)
		s.Run("push", "--tls-verify=false", dest).MustFail(t, 125, "log in")
		s.Run("login", "--tls-verify=false", "-u", reg.User, "-p", "wrong", reg.Host).MustFail(t, 125, "wrong username or password")
		if b, err := os.ReadFile(s.AuthFile); err == nil && strings.Contains(string(b), reg.Host) {
			t.Fatalf("a failed login stored credentials: %s", b)
		}
		s.RunStdin(strings.NewReader(reg.Password+"\n"), "login", "--tls-verify=false", "-u", reg.User, "--password-stdin", reg.Host).
			Assert(t, Expect{Stdout: "Login Succeeded"})
		s.Run("push", "--tls-verify=false", dest).Assert(t, Expect{Stdout: "digest: sha256:"})
		s.Run("rmi", "busybox", dest).MustSucceed(t)
		s.Run("pull", "-q", "--tls-verify=false", dest).MustSucceed(t)
		s.Run("images", "-q", "--no-trunc").Assert(t, Expect{Stdout: img.ID().String()})
		s.Run("logout", reg.Host).Assert(t, Expect{Stdout: "Removing login credentials"})
		s.Run("push", "--tls-verify=false", dest).MustFail(t, 125, "")
	})
}

func requireOneLine(t *testing.T, r *Result) {
	t.Helper()
	if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "Error: ") {
		t.Errorf("want one Error line on stderr, got:\n%s", r.Stderr)
	}
}

func TestImageBadInput(t *testing.T) {
	t.Parallel()
	archive := BusyboxArchive(t, fixture.DockerArchive)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		s.Run("load", "-i", archive).MustSucceed(t)
		before := s.Run("images", "-q").MustSucceed(t).Stdout
		b, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		truncated := s.WriteFile("truncated.tar", b[:len(b)/2])
		corrupt := s.WriteFile("corrupt.tar", []byte("this is not a tar archive at all\n"))
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"pull", "Bad!!"}, "invalid reference format"},
			{[]string{"rmi", "nope"}, "No such image"},
			{[]string{"image", "inspect", "nope"}, "No such image"},
			{[]string{"pull", "--tls-verify=false", "127.0.0.1:1/closed/port"}, "unreachable"},
			{[]string{"load", "-i", truncated}, "corrupt or truncated"},
			{[]string{"load", "-i", corrupt}, ""},
			{[]string{"save", "-o", filepath.Join(s.Dir, "x.tar"), "nope"}, "No such image"},
			{[]string{"images", "--filter", "bogus=1"}, "unknown filter"},
		} {
			r := s.Run(tc.args...).MustFail(t, 125, tc.msg)
			requireOneLine(t, r)
		}
		if _, err := os.Stat(filepath.Join(s.Dir, "x.tar")); err == nil {
			t.Error("a failed save left its output file")
		}
		s.Run("images", "-q").Assert(t, Expect{Stdout: before})
	})
}

// TestImageEscapes: layers that try to write outside themselves, through
// import and through load, must leave the host untouched.
func TestImageEscapes(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		for _, attack := range fixture.Attacks() {
			marker := fmt.Sprintf("skiff-escape-%s-%s-%d", attack, s.Mode, time.Now().UnixNano())
			target := fixture.EscapeTarget(marker)
			switch attack {
			case fixture.Symlink:
				os.Mkdir(target, 0o777)
				os.Chmod(target, 0o777)
			case fixture.Hardlink:
				os.Mkdir(target, 0o777)
				os.WriteFile(filepath.Join(target, "secret"), []byte("host secret"), 0o644)
			}
			layer, err := fixture.MaliciousLayer(attack, marker)
			if err != nil {
				t.Fatal(err)
			}
			s.RunStdin(bytes.NewReader(layer), "import", "-", "evil-import")
			img, err := fixture.Malicious(attack, marker)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(s.Dir, "evil-"+string(attack)+".tar")
			if err := fixture.WriteFile(path, fixture.DockerArchive, fixture.Tagged{Image: img, Tags: []string{"evil:load"}}); err != nil {
				t.Fatal(err)
			}
			s.Chown(path)
			s.Run("load", "-i", path)
			switch attack {
			case fixture.Traversal:
				if _, err := os.Lstat(target); err == nil {
					t.Errorf("%s: %s was written on the host", attack, target)
				}
			case fixture.Symlink:
				if entries, _ := os.ReadDir(target); len(entries) != 0 {
					t.Errorf("%s: files appeared in %s on the host: %v", attack, target, entries)
				}
			case fixture.Hardlink:
				var st syscall.Stat_t
				if err := syscall.Stat(filepath.Join(target, "secret"), &st); err != nil || st.Nlink != 1 {
					t.Errorf("%s: the host file was linked (nlink %d, %v)", attack, st.Nlink, err)
				}
				if s.Run("image", "exists", "evil:load").ExitCode == 0 {
					s.Run("run", "--rm", "evil:load", "cat", "/hl").Assert(t, Expect{NotStdout: "host secret"})
				}
			}
			os.RemoveAll(target)
		}
	})
}

func TestImagePullInterrupted(t *testing.T) {
	t.Parallel()
	big := Layered(t, fixture.LayersOptions{Layers: 3, Size: 60 << 20, Seed: 11})
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := SharedRegistry(t)
		ref := PushImage(t, reg, Repo(t), "big", big)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		cmd := s.Cmd("pull", "-q", ref)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		s.Run("pull", "-q", ref).MustSucceed(t)
		r := s.Run("images", "-q", "--no-trunc").MustSucceed(t)
		if lines := r.Lines(); len(lines) != 1 || lines[0] != big.ID().String() {
			t.Fatalf("after an interrupted pull and a second pull, images = %q", r.Stdout)
		}

		// Four pulls of one image at once end with one image.
		s.Run("rmi", ref).MustSucceed(t)
		var wg sync.WaitGroup
		codes := make([]int, 4)
		for i := range codes {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				codes[i] = s.Run("pull", "-q", ref).ExitCode
			}(i)
		}
		wg.Wait()
		for i, c := range codes {
			if c != 0 {
				t.Errorf("concurrent pull %d exited %d", i, c)
			}
		}
		if lines := s.Run("images", "-q").Lines(); len(lines) != 1 {
			t.Fatalf("concurrent pulls left %d images", len(lines))
		}
	})
}

func TestImagePullDiskFull(t *testing.T) {
	t.Parallel()
	RequiresRoot(t)
	big := Layered(t, fixture.LayersOptions{Layers: 3, Size: 60 << 20, Seed: 12})
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := SharedRegistry(t)
		ref := PushImage(t, reg, Repo(t), "big", big)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		small := filepath.Join(s.Dir, "small")
		os.MkdirAll(small, 0o755)
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", small).CombinedOutput(); err != nil {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", "-l", small).Run() })
		s.Chown(small)
		args := []string{"pull", "-q", ref}
		list := []string{"images", "-q"}
		if s.Rootless() {
			s.Setenv("XDG_DATA_HOME", small)
		} else {
			args = append([]string{"--root", small}, args...)
			list = append([]string{"--root", small}, list...)
		}
		r := s.Run(args...).MustFail(t, 125, "no space left")
		// skiff says it in one line; containers/image's blob-info cache,
		// which sits on the same full disk, may log its own failure above.
		if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); strings.Count(r.Stderr, "Error: ") != 1 || !strings.HasPrefix(lines[len(lines)-1], "Error: ") {
			t.Errorf("want skiff's one Error line, last, on stderr:\n%s", r.Stderr)
		}
		s.Run(list...).Assert(t, Expect{Stdout: ""})
	})
}
