package runtime

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
)

// Warming writes this process into the cgroup it is already in: it must
// never move it, and stop ends it (twice is harmless).
func TestWarmCgroupAttachStaysPut(t *testing.T) {
	procs := ownCgroupProcs()
	if procs == "" {
		t.Skip("needs root and a writable cgroup hierarchy")
	}
	if _, err := os.Stat(procs); err != nil {
		t.Fatalf("own cgroup.procs: %v", err)
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	stop := WarmCgroupAttach()
	time.Sleep(5 * warmInterval)
	stop()
	stop()
	after, _ := os.ReadFile("/proc/self/cgroup")
	if string(before) != string(after) {
		t.Errorf("warming moved the process:\n%s\nto\n%s", before, after)
	}
}

// The loop writes until it is stopped, ends on its own after its limit
// when nobody stops it, and ends at its first failed write.
func TestWarmLoopEnds(t *testing.T) {
	dir := t.TempDir()
	run := func(procs string, done chan struct{}, limit time.Duration) chan struct{} {
		out := make(chan struct{})
		go func() { warmLoop(procs, []byte("42"), done, limit); close(out) }()
		return out
	}
	wait := func(out chan struct{}, what string) {
		t.Helper()
		select {
		case <-out:
		case <-time.After(10 * time.Second):
			t.Fatal("the loop did not end " + what)
		}
	}
	procs := dir + "/cgroup.procs"
	if err := os.WriteFile(procs, nil, 0o600); err != nil { // as the kernel's is: there
		t.Fatal(err)
	}
	done := make(chan struct{})
	out := run(procs, done, time.Hour)
	time.Sleep(5 * warmInterval)
	select {
	case <-out:
		t.Fatal("the loop ended before it was stopped or timed out")
	default:
	}
	close(done)
	wait(out, "when stopped")
	if b, _ := os.ReadFile(procs); string(b) != "42" {
		t.Errorf("the loop wrote %q, want 42", b)
	}
	start := time.Now()
	wait(run(procs, make(chan struct{}), 20*time.Millisecond), "at its limit")
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("the loop ended after %v, before its limit", d)
	}
	wait(run(dir+"/missing/cgroup.procs", make(chan struct{}), time.Hour), "at a failed write")
}

// Finding the v1 paths ahead joins nothing (the process stays in its
// cgroups), and a manager made afterwards, as libcontainer's create makes
// one, still finds every hierarchy this process is in.
func TestWarmCgroupPaths(t *testing.T) {
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	WarmCgroupPaths()
	if after, _ := os.ReadFile("/proc/self/cgroup"); string(after) != string(before) {
		t.Errorf("warming the paths moved the process:\n%s\nto\n%s", before, after)
	}
	if cgroups.IsCgroup2UnifiedMode() {
		return
	}
	m, err := fs.NewManager(&cgroups.Cgroup{Path: "/skiff-warm-test", Resources: &cgroups.Resources{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	own, err := cgroups.ParseCgroupFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	paths := m.GetPaths()
	for _, sub := range []string{"cpu", "memory", "pids", "devices", "freezer", "blkio"} {
		if _, in := own[sub]; !in {
			continue
		}
		if p, ok := paths[sub]; !ok || !strings.HasPrefix(p, "/sys/fs/cgroup/") || !strings.HasSuffix(p, "/skiff-warm-test") {
			t.Errorf("controller %s: path %q", sub, p)
		}
	}
}
