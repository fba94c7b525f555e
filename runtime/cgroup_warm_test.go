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
