package main

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMeasureStartAndIdleMemory reports what the lean monitor is for: the
// time from forking `skiff-monitor run` to "started" for `true`, and the
// resident memory of a monitor whose container idles. It fails only far
// beyond the goals (a few ms of start-up overhead, about 3 MB).
func TestMeasureStartAndIdleMemory(t *testing.T) {
	const runs = 10
	var times []time.Duration
	for range runs {
		f := newFixture(t, "true")
		start := time.Now()
		m := f.start()
		m.line(t)
		if l := m.line(t); !strings.HasPrefix(l, "started ") {
			t.Fatalf("got %q", l)
		}
		times = append(times, time.Since(start))
		m.wait(t)
	}
	slices.Sort(times)
	t.Logf("fork of skiff-monitor run to \"started\" for true: median %s, min %s, max %s (%d runs)",
		times[runs/2], times[0], times[runs-1], runs)

	// Three idle monitors: file-backed pages (the binary) are shared
	// between them, so Pss and the private (USS) part show what one more
	// container costs. sync first: a binary just built has dirty page
	// cache pages, which smaps counts as Private_Dirty.
	exec.Command("sync").Run()
	var pids []int
	for range 3 {
		_, m := runningContainer(t)
		pids = append(pids, m.cmd.Process.Pid)
	}
	time.Sleep(time.Second)
	for _, pid := range pids {
		t.Logf("idle monitor %d: VmRSS %d kB (RssAnon %d, RssFile %d), Pss %d kB, private (USS) %d kB, %d threads",
			pid, statusKB(t, pid, "VmRSS"), statusKB(t, pid, "RssAnon"), statusKB(t, pid, "RssFile"),
			rollupKB(t, pid, "Pss"), rollupKB(t, pid, "Private_Clean")+rollupKB(t, pid, "Private_Dirty"),
			statusKB(t, pid, "Threads"))
	}
	if uss := rollupKB(t, pids[0], "Private_Clean") + rollupKB(t, pids[0], "Private_Dirty"); uss > 6<<10 {
		t.Errorf("an idle monitor has %d kB of its own memory", uss)
	}
}

// rollupKB reads a field of /proc/PID/smaps_rollup.
func rollupKB(t *testing.T, pid int, field string) int {
	return procKB(t, "/proc/"+strconv.Itoa(pid)+"/smaps_rollup", field)
}

// statusKB reads a numeric field of /proc/PID/status.
func statusKB(t *testing.T, pid int, field string) int {
	return procKB(t, "/proc/"+strconv.Itoa(pid)+"/status", field)
}

func procKB(t *testing.T, path, field string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}
