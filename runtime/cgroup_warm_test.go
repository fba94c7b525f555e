package runtime

import (
	"os"
	"testing"
	"time"
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
