package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The create options the command line parses and the engine validates
// once: what a user sees for each, and that a refused one leaves nothing.
func TestContainerOptionsFlags(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		refused := func(what string, r *Result, msg string) {
			t.Helper()
			r.MustFail(t, 125, msg)
			requireOneLine(t, r)
			requireNoContainers(t, s, what)
		}

		// --cidfile: an existing file is refused before anything is made
		// and keeps its content; a failed create leaves no file.
		cid := s.WriteFile("taken.cid", []byte("someone else's\n"))
		refused("an existing --cidfile", s.Run("run", "--rm", "--cidfile", cid, bb, "true"),
			"container ID file found, make sure the other container isn't running or delete "+cid)
		if b, _ := os.ReadFile(cid); string(b) != "someone else's\n" {
			t.Errorf("the existing --cidfile was changed: %q", b)
		}
		fresh := filepath.Join(s.Dir, "fresh.cid")
		refused("a create that fails with --cidfile", s.Run("create", "--cidfile", fresh, "--cap-add", "NOPE", bb, "true"), "unknown capability")
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Errorf("a failed create left its --cidfile: %v", err)
		}

		// The runtime's rules, in messages that name no flag.
		refused("a duplicate mount point", s.Run("run", "--rm", "-v", s.Dir+":/data", "--tmpfs", "/data", bb, "true"), "duplicate mount point: /data")
		refused("a relative -v source", s.Run("run", "--rm", "-v", "./cache:/cache", bb, "true"), `invalid volume name "./cache"`)
		refused("an unknown --security-opt", s.Run("run", "--rm", "--security-opt", "bogus=1", bb, "true"), `unknown --security-opt "bogus=1"`)
		refused("a missing seccomp profile", s.Run("run", "--rm", "--security-opt", "seccomp="+filepath.Join(s.Dir, "none.json"), bb, "true"),
			"no such file or directory")
		if s.Rootless() {
			refused("--memory 4k rootless", s.Run("run", "--rm", "--memory", "4k", bb, "true"), "a memory limit cannot be applied")
		} else {
			refused("--memory 4k", s.Run("run", "--rm", "--memory", "4k", bb, "true"), "memory limit 4k is below the minimum of 6 MB")
			refused("--cpus 1000", s.Run("run", "--rm", "--cpus", "1000", bb, "true"), "range of CPUs is from 0.01")
		}
		refused("an unknown ulimit", s.Run("run", "--rm", "--ulimit", "files=1", bb, "true"), "invalid ulimit type: files")

		// A comma belongs to the value; env files then -e, later wins.
		env := s.WriteFile("opts.env", []byte("A=from-file\nB=1,2\n"))
		s.Run("run", "--rm", "--env-file", env, "-e", "A=flag,x", bb, "sh", "-c", `echo "$A $B"`).Assert(t, Expect{Stdout: "flag,x 1,2\n"})

		// unmask: Docker's masked paths are masked unless unmasked.
		firmware := func(flags ...string) string {
			t.Helper()
			args := append(append([]string{"run", "--rm"}, flags...), bb, "sh", "-c", "ls /sys/firmware | wc -l")
			return s.Run(args...).MustSucceed(t).Out()
		}
		if got := firmware("--security-opt", "unmask=/proc/kcore"); got != "0" {
			t.Errorf("unmask=/proc/kcore unmasked /sys/firmware too: %s entries", got)
		}
		if got := firmware("--security-opt", "unmask=ALL"); got == "0" {
			t.Errorf("unmask=ALL left /sys/firmware masked")
		}

		// inspect gives the typed options back in Docker's fields.
		s.Run("create", "--name", "typed", "-v", s.Dir+":/data:ro", "--tmpfs", "/run:size=1m", "--security-opt", "label=disable",
			"--security-opt", "apparmor=unconfined", "--label", "k=v,w", "--entrypoint", "", bb, "sh").MustSucceed(t)
		got := s.Run("inspect", "-f", "{{json .HostConfig.Binds}} {{json .HostConfig.Tmpfs}} {{json .HostConfig.SecurityOpt}} {{json .Config.Labels}} {{json .Config.Entrypoint}} {{json .Config.Cmd}}", "typed").MustSucceed(t).Out()
		want := `["` + s.Dir + `:/data:ro"] {"/run":"size=1m"} ["label=disable","apparmor=unconfined"] {"k":"v,w"} null ["sh"]`
		if got != want {
			t.Errorf("inspect of the typed options:\n got %s\nwant %s", got, want)
		}
		if h := s.Run("start", "-a", "typed").Out(); h != "" {
			t.Errorf("start -a typed printed %q", h)
		}
		s.Run("rm", "typed").MustSucceed(t)
		if out := s.Run("run", "--rm", "--network", "host", bb, "hostname").MustSucceed(t).Out(); !strings.EqualFold(out, hostName(t)) {
			t.Errorf("--network host: hostname %q, want the host's %q", out, hostName(t))
		}
		requireClean(t, s, "typed options")
	})
}

func hostName(t *testing.T) string {
	t.Helper()
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
