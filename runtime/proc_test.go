package runtime

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestProcessStartTimeThroughExecve: a Go program that calls execve from
// a thread other than its leader (as skiff-monitor does, becoming
// skiff-monitor-idle and back) keeps its pid and start time, and is never
// reported gone while it runs: its old leader reads as a zombie until the
// kernel swaps the two.
func TestProcessStartTimeThroughExecve(t *testing.T) {
	const rounds = 300
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperExecLoop$")
	cmd.Env = append(os.Environ(), "SKIFF_TEST_EXEC_LOOP="+strconv.Itoa(rounds))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	start := uint64(0)
	for deadline := time.Now().Add(10 * time.Second); start == 0; start = ProcessStartTime(pid) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the exec loop never ran: %s", out.Bytes())
		}
	}
	reads, lost := 0, 0
	for {
		st := statFields(pid)
		if len(st) > 0 && st[0] == "Z" && !execveZombie(pid) {
			break // it has exited for good
		}
		switch got := ProcessStartTime(pid); {
		case got == start:
			reads++
		case got == 0 && !execveZombie(pid):
			// It exited between the two reads.
		default:
			lost++
		}
		if lost > 0 {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the exec loop failed: %v: %s", err, out.Bytes())
	}
	if lost > 0 {
		t.Fatalf("the process read as gone (or as another) while it ran, after %d good reads", reads)
	}
	if ProcessStartTime(pid) != 0 {
		t.Error("a reaped process still has a start time")
	}
	t.Logf("%d reads across %d execve", reads, rounds)
}

// TestHelperExecLoop is TestProcessStartTimeThroughExecve's child: it
// execs itself from a non-leader thread until its count runs out.
func TestHelperExecLoop(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("SKIFF_TEST_EXEC_LOOP"))
	if err != nil || n <= 0 {
		return
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // a thread of its own: never the leader
		os.Setenv("SKIFF_TEST_EXEC_LOOP", strconv.Itoa(n-1))
		env := os.Environ()
		done <- syscall.Exec(os.Args[0], os.Args, env)
	}()
	t.Fatal(<-done)
}
