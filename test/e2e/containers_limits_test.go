package e2e

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/skiff-engine/skiff/test/fixture"
)

// An environment execve would refuse is refused by run before anything is
// created: exit 125, one line naming the variable, no container.
func TestRunEnvTooLarge(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		big := s.WriteFile("big.env", []byte("SMALL=1\nBIG="+strings.Repeat("v", 1<<20)+"\n"))
		r := s.Run("run", "--env-file", big, bb, "true").MustFail(t, 125, "environment variable BIG is 1048580 bytes: Linux allows 131071 per variable or argument")
		requireOneLine(t, r)
		// 26 variables of 100 kB: each fits, together more than a quarter
		// of the 8 MiB stack.
		var lines strings.Builder
		for i := range 26 {
			lines.WriteString("V" + string(rune('a'+i)) + "=" + strings.Repeat("v", 100000) + "\n")
		}
		many := s.WriteFile("many.env", []byte(lines.String()))
		r = s.Run("create", "--env-file", many, bb, "true").MustFail(t, 125, "the command and environment take")
		requireOneLine(t, r)
		requireNoContainers(t, s, "runs with an environment too large")

		// The largest variable Linux takes still works.
		max := s.WriteFile("max.env", []byte("A="+strings.Repeat("v", 131071-2)+"\n"))
		s.Run("run", "--rm", "--env-file", max, bb, "sh", "-c", `echo ${#A}`).Assert(t, Expect{Stdout: "131069"})
	})
}

// Messages and behaviour where Docker's differed.
func TestRunDockerMessages(t *testing.T) {
	t.Parallel()
	bb, err := fixture.BusyboxLayer()
	if err != nil {
		t.Fatal(err)
	}
	// An image whose WORKDIR is a symlink to a directory that does not exist.
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "wd", Typeflag: tar.TypeSymlink, Linkname: "/srv/made/here"})
	tw.Close()
	cfg := fixture.BusyboxConfig()
	cfg.WorkingDir = "/wd"
	img, err := fixture.New([]fixture.Layer{bb, fixture.NewLayer(b.Bytes(), "ln -s /srv/made/here /wd")}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	archive := Archive(t, fixture.DockerArchive, fixture.Tagged{Image: img, Tags: []string{"dangling-wd:1"}})
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		// --name /web is the name web, as Docker's API names containers.
		s.Run("run", "--name", "/web", bb, "true").MustSucceed(t)
		if psRow(t, s, "web") == "" {
			t.Errorf("--name /web: no container named web:\n%s", s.Run("ps", "-a"))
		}
		s.Run("rm", "web").MustSucceed(t)

		s.Run("load", "-i", archive).MustSucceed(t)
		// The process starts in the symlink's target, created as Docker does.
		s.Run("run", "--rm", "dangling-wd:1", "pwd").Assert(t, Expect{Stdout: "/srv/made/here\n"})

		r := s.Run("run", "--rm", "--memory", "99999999999g", bb, "true").MustFail(t, 125, `invalid --memory "99999999999g": too large`)
		requireOneLine(t, r)
		s.Run("run", "--rm", "--memory", "12q", bb, "true").MustFail(t, 125, "use a number with an optional unit")
		requireNoContainers(t, s, "the runs of TestRunDockerMessages")
	})
}
