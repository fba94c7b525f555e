package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Foreground run: output, Docker's exit codes, --rm.
func TestContainerRunForeground(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		if out := s.Run("run", "--rm", bb, "echo", "hi").MustSucceed(t).Stdout; out != "hi\n" {
			t.Fatalf("run --rm echo hi printed %q", out)
		}
		requireNoContainers(t, s, "run --rm")
		s.Run("run", "--rm", bb, "sh", "-c", "exit 3").MustFail(t, 3, "")
		s.Run("run", "--rm", bb, "sh", "-c", "echo out; echo err >&2").Assert(t, Expect{Stdout: "out", Stderr: "err", NotStdout: "err"})
		requireNoContainers(t, s, "run --rm with a failing command")

		// Docker's codes for a command that cannot run; the containers stay (no --rm).
		s.Run("run", "--name", "notfound", bb, "nosuchcmd").MustFail(t, 127, "nosuchcmd")
		s.Run("run", "--name", "notexec", bb, "/etc/passwd").MustFail(t, 126, "/etc/passwd")
		s.Run("run", "--rm", bb, "/no/such/file").MustFail(t, 127, "")
		if st := status(t, s, "notfound"); !strings.HasPrefix(st, "Exited (127)") {
			t.Fatalf("status of a container whose command was not found: %q", st)
		}
		// So with -d: the failed container stays unless --rm.
		s.Run("run", "-d", "--name", "dfail", bb, "nosuchcmd").MustFail(t, 127, "nosuchcmd")
		if st := status(t, s, "dfail"); !strings.HasPrefix(st, "Exited (127)") {
			t.Fatalf("status of a run -d whose command was not found: %q", st)
		}
		s.Run("run", "-d", "--rm", "--name", "dfailrm", bb, "nosuchcmd").MustFail(t, 127, "nosuchcmd")
		eventually(t, 10*time.Second, "run -d --rm of a missing command left its container", func() bool {
			return s.Run("container", "exists", "dfailrm").ExitCode == 1
		})
		s.Run("rm", "notfound", "notexec", "dfail").MustSucceed(t)
		requireClean(t, s, "rm of containers that never started")
	})
}

// The process flags of run change what the process sees.
func TestContainerRunProcessOptions(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		out := func(args ...string) string {
			t.Helper()
			return s.Run(append([]string{"run", "--rm"}, args...)...).MustSucceed(t).Out()
		}
		if got := out("-e", "FOO=bar baz", bb, "sh", "-c", `echo "$FOO"`); got != "bar baz" {
			t.Errorf("-e FOO: %q", got)
		}
		envFile := s.WriteFile("env.list", []byte("# a comment\nA=1\n\nB=two words\nFOO=from-file\n"))
		got := out("--env-file", envFile, "-e", "FOO=flag", bb, "env")
		for _, want := range []string{"A=1", "B=two words", "FOO=flag"} {
			if !slices.Contains(strings.Split(got, "\n"), want) {
				t.Errorf("--env-file then -e: env lacks %q:\n%s", want, got)
			}
		}
		if got := out("-w", "/tmp/work/dir", bb, "pwd"); got != "/tmp/work/dir" {
			t.Errorf("-w: pwd = %q", got)
		}
		if got := out("-u", "nobody", bb, "id", "-u"); got != "65534" {
			t.Errorf("-u nobody: id -u = %q", got)
		}
		if got := out("-u", "1234:5678", bb, "sh", "-c", "id -u; id -g"); got != "1234\n5678" {
			t.Errorf("-u 1234:5678: %q", got)
		}
		if got := out("-u", "1234:5678", "--group-add", "4321", bb, "id", "-G"); got != "5678 4321" {
			t.Errorf("--group-add 4321: id -G = %q, want 5678 4321", got)
		}
		if got := out("--entrypoint", "echo", bb, "from", "entrypoint"); got != "from entrypoint" {
			t.Errorf("--entrypoint echo: %q", got)
		}
		if got := out("--hostname", "box.example", bb, "sh", "-c", "hostname; cat /etc/hostname"); got != "box.example\nbox.example" {
			t.Errorf("--hostname: %q", got)
		}
		// --init: PID 1 is the init, the command its child.
		got = out("--init", bb, "sh", "-c", `tr '\0' ' ' </proc/1/cmdline; echo; echo $PPID`)
		if lines := strings.Split(got, "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "/dev/init ") || lines[1] != "1" {
			t.Errorf("--init: PID 1 and the parent of the command: %q", got)
		}
		if got := out(bb, "sh", "-c", "echo $$"); got != "1" {
			t.Errorf("without --init the command is PID 1, got %q", got)
		}
		requireNoContainers(t, s, "run --rm with options")
	})
}

// Mounts: a read-only bind of a host directory, tmpfs, a read-only rootfs.
func TestContainerRunMounts(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		host := filepath.Join(s.Dir, "shared")
		if err := os.Mkdir(host, 0o755); err != nil {
			t.Fatal(err)
		}
		s.Chown(host)
		s.WriteFile("shared/hello.txt", []byte("from the host\n"))

		s.Run("run", "--rm", "-v", host+":/data:ro", bb, "cat", "/data/hello.txt").Assert(t, Expect{Stdout: "from the host"})
		s.Run("run", "--rm", "-v", host+":/data:ro", bb, "touch", "/data/new").MustFail(t, 0, "Read-only file system")
		if _, err := os.Stat(filepath.Join(host, "new")); err == nil {
			t.Fatal("a write through a :ro bind mount reached the host")
		}
		// Read-write bind: the container's write lands on the host.
		s.Run("run", "--rm", "-v", host+":/data", bb, "sh", "-c", "echo from the container > /data/back.txt").MustSucceed(t)
		if b, err := os.ReadFile(filepath.Join(host, "back.txt")); err != nil || string(b) != "from the container\n" {
			t.Fatalf("rw bind mount: host file %q, %v", b, err)
		}

		// --read-only with a --tmpfs: / refuses writes, the tmpfs takes them.
		r := s.Run("run", "--rm", "--read-only", "--tmpfs", "/scratch", bb, "sh", "-c",
			`touch /rootfile 2>&1 && echo ROOT-WRITABLE; echo data > /scratch/f && cat /scratch/f; grep " /scratch " /proc/mounts`)
		r.Assert(t, Expect{Stdout: "Read-only file system", NotStdout: "ROOT-WRITABLE"})
		if !strings.Contains(r.Stdout, "\ndata\n") || !strings.Contains(r.Stdout, "tmpfs /scratch tmpfs") {
			t.Fatalf("--tmpfs /scratch is not a writable tmpfs:\n%s", r)
		}
		// Without --read-only the root filesystem is writable.
		s.Run("run", "--rm", bb, "touch", "/rootfile").MustSucceed(t)
		requireClean(t, s, "run --rm with mounts")
	})
}

// --network host is the host's network namespace, --network none only lo.
func TestContainerRunNetwork(t *testing.T) {
	t.Parallel()
	// The suite may run in a namespace of its own (make test-e2e), whose
	// interfaces other tests add and remove: compare the namespace itself.
	hostNS, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		if got := s.Run("run", "--rm", "--network", "host", bb, "readlink", "/proc/self/ns/net").MustSucceed(t).Out(); got != hostNS {
			t.Errorf("--network host: the container's network namespace is %s, the host's %s", got, hostNS)
		}
		if got := s.Run("run", "--rm", "--network", "none", bb, "readlink", "/proc/self/ns/net").MustSucceed(t).Out(); got == hostNS {
			t.Errorf("--network none: the container is in the host's network namespace %s", got)
		}
		// none: loopback only, in netlink (ip link), /proc/net/dev and
		// /sys/class/net alike.
		got := strings.Fields(s.Run("run", "--rm", "--network", "none", bb, "sh", "-c",
			"ip -o link | cut -d: -f2; echo --; tail -n +3 /proc/net/dev | cut -d: -f1; echo --; ls /sys/class/net").MustSucceed(t).Stdout)
		if !slices.Equal(got, []string{"lo", "--", "lo", "--", "lo"}) {
			t.Errorf("--network none: interfaces (ip link -- /proc/net/dev -- /sys/class/net) %q, want only lo", got)
		}
		if mode := inspectNetworkMode(t, s, bb, "none"); mode != "none" {
			t.Errorf("inspect HostConfig.NetworkMode of --network none: %q", mode)
		}
		if mode := inspectNetworkMode(t, s, bb, "host"); mode != "host" {
			t.Errorf("inspect HostConfig.NetworkMode of --network host: %q", mode)
		}
	})
}

func inspectNetworkMode(t *testing.T, s *Skiff, bb, mode string) string {
	t.Helper()
	id := s.Run("create", "--network", mode, bb, "true").MustSucceed(t).Out()
	defer s.Run("rm", id)
	return s.Run("inspect", "-f", "{{.HostConfig.NetworkMode}}", id).MustSucceed(t).Out()
}

// Paths on the command line are relative to where the user runs skiff.
func TestContainerRelativePaths(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.WriteFile("vars.env", []byte("WHERE=relative\n"))
		// s.Dir is the working directory of every command.
		id := s.Run("run", "-d", "--cidfile", "rel.cid", "--env-file", "vars.env", bb, "sleep", "1000").MustSucceed(t).Out()
		if b, err := os.ReadFile(filepath.Join(s.Dir, "rel.cid")); err != nil || string(b) != id {
			t.Errorf("--cidfile rel.cid: %q, %v", b, err)
		}
		if got := s.Run("exec", id, "sh", "-c", "echo $WHERE").MustSucceed(t).Out(); got != "relative" {
			t.Errorf("--env-file vars.env: WHERE=%q", got)
		}
		s.Run("rm", "-f", id).MustSucceed(t)
	})
}

// Standard streams carry everything, in order, binary included.
func TestContainerStdio(t *testing.T) {
	t.Parallel()
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i*7919>>3 ^ i>>11)
	}
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		lines := s.Run("run", "--rm", bb, "seq", "1", "200000").MustSucceed(t).Lines()
		if len(lines) != 200000 || lines[0] != "1" || lines[len(lines)-1] != "200000" {
			t.Fatalf("seq 1 200000 through run: %d lines, %q … %q", len(lines), lines[0], lines[len(lines)-1])
		}
		if got := s.RunStdin(strings.NewReader("piped in\n"), "run", "-i", "--rm", bb, "cat").MustSucceed(t).Stdout; got != "piped in\n" {
			t.Fatalf("run -i: cat echoed %q", got)
		}
		// Without -i the container's stdin is empty.
		if got := s.RunStdin(strings.NewReader("piped in\n"), "run", "--rm", bb, "cat").MustSucceed(t).Stdout; got != "" {
			t.Fatalf("run without -i: cat read %q", got)
		}
		if got := s.RunStdin(bytes.NewReader(data), "run", "-i", "--rm", bb, "cat").MustSucceed(t).Stdout; got != string(data) {
			t.Fatalf("run -i cat of %d binary bytes returned %d bytes, different", len(data), len(got))
		}
		s.Run("run", "-d", "--name", "box", bb, "sleep", "1000").MustSucceed(t)
		if got := s.RunStdin(bytes.NewReader(data), "exec", "-i", "box", "cat").MustSucceed(t).Stdout; got != string(data) {
			t.Fatalf("exec -i cat of %d binary bytes returned %d bytes, different", len(data), len(got))
		}
		// -t without -i works without a terminal; the output is a terminal's.
		if got := s.Run("run", "-t", "--rm", bb, "sh", "-c", "tty; echo x").MustSucceed(t).Stdout; got != "/dev/pts/0\r\nx\r\n" {
			t.Fatalf("run -t: %q", got)
		}
		s.Run("rm", "-f", "box").MustSucceed(t)
		requireClean(t, s, "rm -f")
	})
}

// A --rm container's /etc/hosts, /etc/hostname and /etc/resolv.conf are
// written by each start into its run directory, on the run root: a
// restart gets them again, and none is left on the graph root.
func TestContainerRunRmFiles(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		id := s.Run("run", "-d", "--rm", "--name", "rmfiles", "--hostname", "rmhost", "--add-host", "extra:192.0.2.7", bb, "sleep", "1000").MustSucceed(t).Out()
		check := func(when string) {
			t.Helper()
			s.Run("exec", "rmfiles", "cat", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf").
				Assert(t, Expect{Stdout: "rmhost\n"}).Assert(t, Expect{Stdout: "192.0.2.7\textra"})
			for _, f := range []string{"HostsPath", "HostnamePath", "ResolvConfPath"} {
				p := s.Run("inspect", "-f", "{{."+f+"}}", "rmfiles").MustSucceed(t).Out()
				if !strings.HasPrefix(p, s.RunRoot+"/") {
					t.Errorf("%s: %s of a --rm container is %q, not under the run root %s", when, f, p, s.RunRoot)
				}
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s: %s: %v", when, f, err)
				}
			}
			for _, f := range []string{"hosts", "hostname", "resolv.conf", "state.json"} {
				if _, err := os.Stat(filepath.Join(s.Root, "containers", id, f)); err == nil {
					t.Errorf("%s: %s of a --rm container is on the graph root", when, f)
				}
			}
		}
		check("after run")
		s.Run("restart", "-t", "0", "rmfiles").MustSucceed(t)
		check("after restart")
		s.Run("rm", "-f", "rmfiles").MustSucceed(t)
		requireClean(t, s, "rm -f of a --rm container")
	})
}
