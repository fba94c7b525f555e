package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var psHeader = regexp.MustCompile(`^CONTAINER ID {3,}IMAGE {3,}COMMAND {3,}CREATED {3,}STATUS {3,}PORTS {3,}NAMES$`)

// run -d returns at once with the ID; ps, labels, --cidfile; logs -f, --tail, -t.
func TestContainerDetached(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		cidfile := filepath.Join(s.Dir, "ticker.cid")
		r := s.Run("run", "-d", "--name", "ticker", "-l", "e2e.role=ticker", "--cidfile", cidfile, bb,
			"sh", "-c", `trap "exit 0" TERM; i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.2; done`).MustSucceed(t)
		id := r.Out()
		if !hexID.MatchString(id) {
			t.Fatalf("run -d printed %q, want a 64-hex ID", r.Stdout)
		}
		if r.Duration > 5*time.Second {
			t.Errorf("run -d of a container that runs forever took %v", r.Duration)
		}
		if b, err := os.ReadFile(cidfile); err != nil || string(b) != id {
			t.Errorf("--cidfile holds %q (%v), want %s", b, err, id)
		}
		other := s.Run("run", "-d", "--name", "plain", bb, "sleep", "1000").MustSucceed(t).Out()

		ps := s.Run("ps").MustSucceed(t).Lines()
		if len(ps) != 3 || !psHeader.MatchString(ps[0]) {
			t.Fatalf("ps should show Docker's header and two containers:\n%s", strings.Join(ps, "\n"))
		}
		row := psRow(t, s, "ticker")
		for _, want := range []string{id[:12], "busybox:latest", "Up "} {
			if !strings.Contains(row, want) {
				t.Errorf("ps row of ticker lacks %q: %s", want, row)
			}
		}
		if !strings.Contains(row, `"sh -c trap`) || !strings.Contains(row, `…"`) {
			t.Errorf("ps COMMAND of ticker should be the command, quoted and cut with an ellipsis: %s", row)
		}
		if got := s.Run("ps", "-q", "--filter", "label=e2e.role=ticker").MustSucceed(t).Out(); got != id[:12] {
			t.Errorf("ps --filter label=e2e.role=ticker = %q, want %s", got, id[:12])
		}
		if got := s.Run("ps", "-q", "--filter", "label=e2e.role").MustSucceed(t).Out(); got != id[:12] {
			t.Errorf("ps --filter label=e2e.role = %q, want %s", got, id[:12])
		}
		if got := s.Run("ps", "-q", "--no-trunc", "--filter", "name=plain").MustSucceed(t).Out(); got != other {
			t.Errorf("ps --filter name=plain = %q, want %s", got, other)
		}

		// logs -f streams while the container runs and ends when it stops.
		lines, bg := startStreaming(t, s.Cmd("logs", "-f", "ticker"))
		var seen []string
		for len(seen) < 4 {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("logs -f ended while the container runs, after %q\n%s", seen, bg)
				}
				seen = append(seen, l.Text)
			case <-time.After(10 * time.Second):
				t.Fatalf("logs -f streamed only %q in 10s", seen)
			}
		}
		for i, l := range seen {
			if l != "tick "+strconv.Itoa(i) {
				t.Fatalf("logs -f: line %d is %q, want %q (all: %q)", i, l, "tick "+strconv.Itoa(i), seen)
			}
		}
		s.Run("stop", "ticker").Assert(t, Expect{Stdout: "ticker"})
		if code := bg.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("logs -f after the container stopped: exit %d\n%s", code, bg)
		}
		if st := status(t, s, "ticker"); !strings.HasPrefix(st, "Exited (0)") {
			t.Errorf("status after stop of a container that exits on TERM: %q", st)
		}

		all := s.Run("logs", "ticker").MustSucceed(t).Lines()
		if len(all) < 4 {
			t.Fatalf("logs: %q", all)
		}
		tail2 := s.Run("logs", "--tail", "2", "ticker").MustSucceed(t).Lines()
		if len(tail2) != 2 || tail2[0] != all[len(all)-2] || tail2[1] != all[len(all)-1] {
			t.Errorf("logs --tail 2 = %q, the log ends with %q", tail2, all[len(all)-2:])
		}
		stamped := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)) (tick \d+)$`)
		var prev time.Time
		for i, l := range s.Run("logs", "-t", "ticker").MustSucceed(t).Lines() {
			m := stamped.FindStringSubmatch(l)
			if m == nil || m[4] != all[i] {
				t.Fatalf("logs -t line %d: %q, want a timestamp then %q", i, l, all[i])
			}
			ts, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil || ts.Before(prev) || time.Since(ts) > time.Minute {
				t.Fatalf("logs -t: bad or unordered timestamp in %q (%v)", l, err)
			}
			prev = ts
		}

		// Sizes: what the container wrote, and that plus its image.
		s.Run("exec", "plain", "dd", "if=/dev/zero", "of=/100k", "bs=1024", "count=100").MustSucceed(t)
		if got := s.Run("ps", "--filter", "name=plain", "--format", "{{.Size}}").MustSucceed(t).Out(); !regexp.MustCompile(`^10\d(\.\d)?kB \(virtual \d+(\.\d+)?MB\)$`).MatchString(got) {
			t.Errorf("ps SIZE of a container that wrote 100 KiB: %q, want Docker's \"102kB (virtual 2.2MB)\"", got)
		}
		if !strings.Contains(s.Run("ps", "-s").MustSucceed(t).Lines()[0], "SIZE") {
			t.Errorf("ps -s has no SIZE column")
		}
		sized := s.Run("inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", "plain").MustSucceed(t).Out()
		var rw, rootfs int64
		if _, err := fmt.Sscan(sized, &rw, &rootfs); err != nil || rw < 100*1024 || rw > 1024*1024 || rootfs <= rw {
			t.Errorf("inspect -s: SizeRw SizeRootFs = %q, want >= 102400 and more than that", sized)
		}
		if got := s.Run("inspect", "-f", "{{.SizeRw}}", "plain").MustSucceed(t).Out(); got != "<no value>" {
			t.Errorf("inspect without -s measured the size: %q", got)
		}

		s.Run("rm", "-f", "ticker", other).MustSucceed(t)
		requireClean(t, s, "rm -f", id, other)
	})
}

// The k8s-file driver and size rotation.
func TestContainerLogDrivers(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		gen := `i=0; while [ $i -lt 3000 ]; do echo "line $i ................................................"; i=$((i+1)); done`

		s.Run("run", "--name", "k8s", "--log-driver", "k8s-file", bb, "sh", "-c", "echo one; echo two >&2; echo three").
			Assert(t, Expect{Stdout: "one\nthree\n", Stderr: "two"})
		k8s := inspect(t, s, "k8s")
		if v, _ := field(k8s, "HostConfig.LogConfig.Type"); v != "k8s-file" {
			t.Errorf("inspect HostConfig.LogConfig.Type = %v", v)
		}
		logPath, _ := field(k8s, "LogPath")
		b, err := os.ReadFile(logPath.(string))
		if err != nil {
			t.Fatal(err)
		}
		k8sLine := regexp.MustCompile(`^\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d) (stdout|stderr) F (.*)$`)
		var entries []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			m := k8sLine.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("k8s-file log line %q is not CRI's format:\n%s", l, b)
			}
			entries = append(entries, m[2]+" "+m[3])
		}
		// stdout and stderr are separate pipes: their relative order may vary.
		slices.Sort(entries)
		if strings.Join(entries, ",") != "stderr two,stdout one,stdout three" {
			t.Errorf("k8s-file entries %q", entries)
		}
		if got := s.Run("logs", "k8s").MustSucceed(t); got.Stdout != "one\nthree\n" || got.Stderr != "two\n" {
			t.Errorf("logs of a k8s-file container:\n%s", got)
		}

		// max-size: the log stays bounded and keeps the newest lines.
		const max = 20 << 10
		s.Run("run", "--name", "rotated", "--log-opt", "max-size=20k", bb, "sh", "-c", gen).MustSucceed(t)
		logPath, _ = field(inspect(t, s, "rotated"), "LogPath")
		st, err := os.Stat(logPath.(string))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() == 0 || st.Size() > max {
			t.Errorf("--log-opt max-size=20k: the log is %d bytes", st.Size())
		}
		if got := s.Run("logs", "--tail", "1", "rotated").MustSucceed(t).Out(); !strings.HasPrefix(got, "line 2999 ") {
			t.Errorf("after rotation, the last line is %q", got)
		}
		if got := s.Run("logs", "rotated").MustSucceed(t).Stdout; strings.Contains(got, "line 0 ") || len(got) > max {
			t.Errorf("logs after rotation should hold at most the last 20k: %d bytes, line 0 present: %v", len(got), strings.Contains(got, "line 0 "))
		}

		// max-file=2: one rotated file beside the log, both bounded.
		s.Run("run", "--name", "twofiles", "--log-opt", "max-size=20k", "--log-opt", "max-file=2", bb, "sh", "-c", gen).MustSucceed(t)
		logPath, _ = field(inspect(t, s, "twofiles"), "LogPath")
		for _, p := range []string{logPath.(string), logPath.(string) + ".1"} {
			if st, err := os.Stat(p); err != nil || st.Size() > max {
				t.Errorf("max-file=2: %s: %v (%v)", p, err, st)
			}
		}
		if _, err := os.Stat(logPath.(string) + ".2"); err == nil {
			t.Errorf("max-file=2 kept a second rotated file")
		}
		s.Run("rm", "k8s", "rotated", "twofiles").MustSucceed(t)

		// passthrough: the container writes to the caller's own files (the
		// same inode), there is no log, and it needs a foreground run.
		outPath := filepath.Join(s.Dir, "passthrough.out")
		out, err := os.Create(outPath)
		if err != nil {
			t.Fatal(err)
		}
		os.Chown(outPath, s.UID(), s.GID())
		cmd := s.Cmd("run", "--name", "direct", "--log-driver", "passthrough", bb, "sh", "-c", "echo to-stdout; stat -L -c %i /proc/self/fd/1; exit 4")
		cmd.Stdout = out
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err = cmd.Run()
		out.Close()
		if code := cmd.ProcessState.ExitCode(); code != 4 {
			t.Fatalf("run --log-driver passthrough, exit 4: exit %d (%v): %s", code, err, stderr.String())
		}
		var fst syscall.Stat_t
		if err := syscall.Stat(outPath, &fst); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(outPath); string(got) != fmt.Sprintf("to-stdout\n%d\n", fst.Ino) {
			t.Errorf("passthrough: the caller's stdout file holds %q, want to-stdout and its own inode %d", got, fst.Ino)
		}
		// With -i the container reads the caller's stdin itself.
		in := s.WriteFile("passthrough.in", []byte("typed in\n"))
		stdin, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		cmd = s.Cmd("run", "--rm", "-i", "--log-driver", "passthrough", bb, "cat")
		cmd.Stdin = stdin
		got, err := cmd.Output()
		stdin.Close()
		if err != nil || string(got) != "typed in\n" {
			t.Errorf("run -i --log-driver passthrough cat: %q, %v", got, err)
		}
		s.Run("logs", "direct").MustFail(t, 125, "")
		s.Run("rm", "direct").MustSucceed(t)
		before := psIDs(t, s)
		s.Run("run", "-d", "--log-driver", "passthrough", bb, "true").MustFail(t, 125, "drop -d")
		s.Run("run", "--rm", "-t", "--log-driver", "passthrough", bb, "true").MustFail(t, 125, "cannot also have a terminal")
		if got := psIDs(t, s); len(got) != len(before) {
			t.Errorf("a refused passthrough run left containers: %q", got)
		}
		requireClean(t, s, "rm")
	})
}
