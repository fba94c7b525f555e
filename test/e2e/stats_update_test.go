package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	units "github.com/docker/go-units"
)

// statsColumns are docker stats' default columns.
var statsColumns = []string{"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"}

// columnGap splits a table line into its cells (tabwriter pads with at
// least three spaces; a cell holds at most one in a row).
var columnGap = regexp.MustCompile(` {2,}`)

// statsTable reads a stats table: its header must be docker's; the rows
// by container name.
func statsTable(t *testing.T, out string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if got := columnGap.Split(strings.TrimSpace(lines[0]), -1); strings.Join(got, "|") != strings.Join(statsColumns, "|") {
		t.Fatalf("stats header %q, want docker's columns %q", lines[0], statsColumns)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		cells := columnGap.Split(strings.TrimSpace(l), -1)
		if len(cells) != len(statsColumns) {
			t.Fatalf("stats row %q: %d cells, want %d", l, len(cells), len(statsColumns))
		}
		rows[cells[1]] = cells
	}
	return rows
}

// percent reads "12.34%".
func percent(t *testing.T, cell string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSuffix(cell, "%"), 64)
	if err != nil || !strings.HasSuffix(cell, "%") {
		t.Fatalf("not a percentage: %q", cell)
	}
	return f
}

// hostMemory is the host's RAM as docker's stats prints a limit.
func hostMemory(t *testing.T) string {
	t.Helper()
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	return units.BytesSize(float64(si.Totalram) * float64(si.Unit))
}

// busyLoop is a container command that keeps one CPU busy.
var busyLoop = []string{"sh", "-c", "while :; do :; done"}

// stats --no-stream: docker's columns, the CPU of a busy container above
// zero, a memory limit shown as the limit (rootless containers here have
// no cgroup: their processes are summed, against the host's memory), a
// stopped container with --all, --format, and an unknown container.
func TestStatsNoStream(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		limited := []string{"run", "-d", "--name", "busy"}
		limit := hostMemory(t)
		if !s.Rootless() {
			limited, limit = append(limited, "--memory", "64m"), "64MiB"
		}
		busyID := s.Run(append(append(limited, bb), busyLoop...)...).MustSucceed(t).Out()
		s.Run("run", "-d", "--name", "idle", bb, "sleep", "1000").MustSucceed(t)
		s.Run("create", "--name", "stopped", bb, "true").MustSucceed(t)

		r := s.Run("stats", "--no-stream").MustSucceed(t)
		rows := statsTable(t, r.Stdout)
		if len(rows) != 2 || rows["busy"] == nil || rows["idle"] == nil {
			t.Fatalf("stats --no-stream lists the running containers only:\n%s", r.Stdout)
		}
		busy := rows["busy"]
		if busy[0] != busyID[:12] {
			t.Errorf("CONTAINER ID %q, want %q", busy[0], busyID[:12])
		}
		if cpu := percent(t, busy[2]); cpu <= 0 || cpu > 205 {
			t.Errorf("CPU %% of a busy container: %v\n%s", cpu, r.Stdout)
		}
		if !strings.HasSuffix(busy[3], " / "+limit) || percent(t, busy[4]) <= 0 {
			t.Errorf("MEM USAGE / LIMIT %q, MEM %% %q: want a usage of / %s", busy[3], busy[4], limit)
		}
		if !regexp.MustCompile(`^\S+B / \S+B$`).MatchString(busy[5]) || !regexp.MustCompile(`^\S+B / \S+B$`).MatchString(busy[6]) {
			t.Errorf("NET I/O %q, BLOCK I/O %q", busy[5], busy[6])
		}
		if busy[7] != "1" || rows["idle"][7] != "1" {
			t.Errorf("PIDS %q and %q, want 1 each", busy[7], rows["idle"][7])
		}
		if cpu := percent(t, rows["idle"][2]); cpu > 5 {
			t.Errorf("CPU %% of a sleeping container: %v", cpu)
		}

		r = s.Run("stats", "--no-stream", "--all", "--no-trunc", "stopped", "busy").MustSucceed(t)
		rows = statsTable(t, r.Stdout)
		if got := strings.Join(rows["stopped"][2:], "|"); got != "0.00%|0B / 0B|0.00%|0B / 0B|0B / 0B|0" {
			t.Errorf("a stopped container's row: %q", got)
		}
		if rows["busy"][0] != busyID {
			t.Errorf("--no-trunc: ID %q", rows["busy"][0])
		}
		// Flags after the names, as docker's CLI takes them.
		s.Run("stats", "busy", "--no-stream", "--format", "{{.Container}} {{.Name}} {{.PIDs}}").Assert(t, Expect{Stdout: "busy busy 1\n"})
		r = s.Run("stats", "--no-stream", "--format", "json", "idle").MustSucceed(t)
		for _, key := range []string{`"BlockIO":`, `"CPUPerc":`, `"Container":"idle"`, `"ID":`, `"MemPerc":`, `"MemUsage":`, `"Name":"idle"`, `"NetIO":`, `"PIDs":"1"`} {
			if !strings.Contains(r.Stdout, key) {
				t.Errorf("--format json lacks %s: %s", key, r.Stdout)
			}
		}

		r = s.Run("stats", "--no-stream", "idle", "nosuch").MustFail(t, 125, "nosuch")
		requireOneLine(t, r)
		if r.Stdout != "" {
			t.Errorf("stats of an unknown container printed %q", r.Stdout)
		}
		s.Run("stats", "--interval", "0").MustFail(t, 125, "--interval")
		s.Run("rm", "-f", "busy", "idle", "stopped").MustSucceed(t)
	})
}

// stats streams a table a second, without terminal codes when its output
// is not a terminal, and follows new containers when none is named.
func TestStatsStream(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run(append([]string{"run", "-d", "--name", "loop", bb}, busyLoop...)...).MustSucceed(t)
		cmd := s.Cmd("stats", "--format", "{{.Name}} {{.CPUPerc}}")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		next := func() string {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("stats ended")
				}
				return l
			case <-time.After(10 * time.Second):
				t.Fatal("no stats line in 10 s")
			}
			return ""
		}
		first := next()
		start := time.Now()
		var cpu []float64
		for i := 0; i < 3; i++ {
			l := first
			if i > 0 {
				l = next()
			}
			if strings.Contains(l, "\033") {
				t.Errorf("terminal codes without a terminal: %q", l)
			}
			name, pc, _ := strings.Cut(l, " ")
			if name != "loop" {
				t.Fatalf("stream line %q, want the loop container's", l)
			}
			cpu = append(cpu, percent(t, pc))
		}
		if d := time.Since(start); d < 1500*time.Millisecond || d > 6*time.Second {
			t.Errorf("two refreshes took %v, want about 2 s", d)
		}
		if cpu[1] <= 0 || cpu[2] <= 0 {
			t.Errorf("CPU %% of the refreshes: %v", cpu)
		}
		// A container started during the stream joins it.
		s.Run("run", "-d", "--name", "late", bb, "sleep", "1000").MustSucceed(t)
		deadline := time.Now().Add(5 * time.Second)
		for !strings.HasPrefix(next(), "late ") {
			if time.Now().After(deadline) {
				t.Fatal("a container started during the stream does not appear")
			}
		}
		cmd.Process.Kill()

		// A stream of named containers ends when they are all removed.
		named := s.Cmd("stats", "--format", "{{.Name}}", "late")
		namedOut, err := named.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := named.Start(); err != nil {
			t.Fatal(err)
		}
		defer named.Process.Kill()
		sc := bufio.NewScanner(namedOut)
		if !sc.Scan() || sc.Text() != "late" {
			t.Fatalf("stats late: first line %q", sc.Text())
		}
		s.Run("rm", "-f", "late").MustSucceed(t)
		ended := make(chan error, 1)
		go func() {
			for sc.Scan() {
			}
			ended <- named.Wait()
		}()
		select {
		case err := <-ended:
			if err != nil {
				t.Errorf("stats of a removed container ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("stats of a removed container still streams after 5 s")
		}
		s.Run("rm", "-f", "loop").MustSucceed(t)
	})
}

// cgroupValue reads a control file of rootful container id's cgroup:
// v1 (controller/file) or v2 (file2).
func cgroupValue(t *testing.T, id, controller, file, file2 string) string {
	t.Helper()
	paths := []string{filepath.Join("/sys/fs/cgroup", controller, "skiff", id, file), filepath.Join("/sys/fs/cgroup/skiff", id, file2)}
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	t.Fatalf("container %s: none of %v", id, paths)
	return ""
}

// update changes a running container's cgroup and its record (kept by a
// later start), and its restart policy reaches the running monitor: a
// kill -9 of the process then restarts it. Rootless containers here have
// no cgroup: a limit is refused, the policy still changes.
func TestUpdate(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		args := []string{"run", "-d", "--name", "upd"}
		if !s.Rootless() {
			args = append(args, "--memory", "64m")
		}
		id := s.Run(append(args, bb, "sleep", "1000")...).MustSucceed(t).Out()
		if s.Rootless() {
			r := s.Run("update", "--memory", "128m", "upd").MustFail(t, 125, "a memory limit cannot be applied")
			requireOneLine(t, r)
			if got := inspectOut(t, s, "upd", "{{.HostConfig.Memory}}"); got != "0" {
				t.Errorf("a refused update recorded memory %s", got)
			}
		} else {
			s.Run("update", "--memory", "128m", "--cpus", "0.5", "--pids-limit", "50", "upd").Assert(t, Expect{Stdout: "upd\n"})
			if got := cgroupValue(t, id, "memory", "memory.limit_in_bytes", "memory.max"); got != "134217728" {
				t.Errorf("memory limit in the cgroup %s, want 134217728", got)
			}
			if got := cgroupValue(t, id, "cpu", "cpu.cfs_quota_us", "cpu.max"); got != "50000" && got != "50000 100000" {
				t.Errorf("CPU quota in the cgroup %s, want 50000", got)
			}
			if got := cgroupValue(t, id, "pids", "pids.max", "pids.max"); got != "50" {
				t.Errorf("pids limit in the cgroup %s, want 50", got)
			}
			if got := inspectOut(t, s, "upd", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}"); got != "134217728 500000000 50" {
				t.Errorf("inspect after update: %q", got)
			}
			// The cpu-quota way of --cpus, by ID prefix.
			s.Run("update", "--cpu-quota", "150000", id[:12]).Assert(t, Expect{Stdout: id[:12] + "\n"})
			if got := inspectOut(t, s, "upd", "{{.HostConfig.NanoCpus}}"); got != "1500000000" {
				t.Errorf("--cpu-quota 150000: NanoCpus %s", got)
			}
		}

		// Bad input: one line, exit 125, nothing changed.
		before := inspectOut(t, s, "upd", "{{json .HostConfig}}")
		for _, c := range []struct {
			args []string
			msg  string
		}{
			{[]string{"update", "--memory", "128m", "nosuch"}, "nosuch"},
			{[]string{"update", "upd"}, "you must provide one or more flags"},
			{[]string{"update", "--blkio-weight", "300", "upd"}, "--blkio-weight: not supported by skiff"},
			{[]string{"update", "--memory-swap", "lots", "upd"}, `invalid --memory-swap "lots"`},
			{[]string{"update", "--restart", "sometimes", "upd"}, "unknown policy"},
			{[]string{"update", "--cpus", "1", "--cpu-quota", "1000", "upd"}, "Conflicting options"},
			{[]string{"update", "--memory", "12q", "upd"}, `invalid --memory "12q"`},
			{[]string{"update", "--pids-limit", "-5", "upd"}, "pids limit -5"},
			{[]string{"update", "--memory"}, "flag needs an argument"},
		} {
			r := s.Run(c.args...).MustFail(t, 125, c.msg)
			requireOneLine(t, r)
		}
		if !s.Rootless() {
			r := s.Run("update", "--memory", "1k", "upd").MustFail(t, 125, "below the minimum of 6 MB")
			requireOneLine(t, r)
		}
		if after := inspectOut(t, s, "upd", "{{json .HostConfig}}"); after != before {
			t.Errorf("a refused update changed the record:\n%s\n%s", before, after)
		}

		// The policy reaches the monitor already running.
		s.Run("update", "--restart", "always", "upd").Assert(t, Expect{Stdout: "upd\n"})
		pid, err := strconv.Atoi(inspectOut(t, s, "upd", "{{.State.Pid}}"))
		if err != nil || pid <= 0 {
			t.Fatalf("pid %d: %v", pid, err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 15*time.Second, "kill -9 under --restart always did not restart the container", func() bool {
			return inspectOut(t, s, "upd", "{{.State.Status}} {{.RestartCount}}") == "running 1"
		})
		if got := inspectOut(t, s, "upd", "{{.HostConfig.RestartPolicy.Name}}"); got != "always" {
			t.Errorf("restart policy after update: %q", got)
		}
		if !s.Rootless() {
			// The restarted run and a later start keep the updated limit.
			if got := cgroupValue(t, id, "memory", "memory.limit_in_bytes", "memory.max"); got != "134217728" {
				t.Errorf("memory limit after the restart %s, want 134217728", got)
			}
			s.Run("stop", "-t", "1", "upd").MustSucceed(t)
			s.Run("start", "upd").MustSucceed(t)
			if got := cgroupValue(t, id, "memory", "memory.limit_in_bytes", "memory.max"); got != "134217728" {
				t.Errorf("memory limit after stop and start %s, want 134217728", got)
			}
		}
		// A container not running yet: recorded, applied by its start
		// (flags after the name).
		later := s.Run("create", "--name", "later", bb, "sleep", "1000").MustSucceed(t).Out()
		if s.Rootless() {
			s.Run("update", "later", "--pids-limit", "20").MustFail(t, 125, "a pids limit cannot be applied")
		} else {
			s.Run("update", "later", "--pids-limit", "20").Assert(t, Expect{Stdout: "later\n"})
			s.Run("start", "later").MustSucceed(t)
			if got := cgroupValue(t, later, "pids", "pids.max", "pids.max"); got != "20" {
				t.Errorf("pids limit of an updated container's start: %s", got)
			}
		}
		s.Run("rm", "-f", "later").MustSucceed(t)
		// --rm containers take no restart policy.
		s.Run("run", "-d", "--rm", "--name", "gone", bb, "sleep", "1000").MustSucceed(t)
		r := s.Run("update", "--restart", "always", "gone").MustFail(t, 125, "auto-remove")
		requireOneLine(t, r)
		s.Run("rm", "-f", "upd", "gone").MustSucceed(t)
	})
}
