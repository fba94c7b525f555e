package runtime

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// A process reads with its start time while it runs, and as gone (0) once
// it is a zombie, before anyone reaps it, and after.
func TestProcessStartTime(t *testing.T) {
	if ProcessStartTime(os.Getpid()) == 0 {
		t.Fatal("this process reads as gone")
	}
	cmd := exec.Command("sh", "-c", "read x")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	start := ProcessStartTime(pid)
	if start == 0 {
		t.Fatal("a running child reads as gone")
	}
	in.Close() // sh exits; nobody reaps it yet
	deadline := time.Now().Add(10 * time.Second)
	for {
		f := statFields(pid)
		if len(f) > 0 && f[0] == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child never became a zombie: %v", f)
		}
		time.Sleep(time.Millisecond)
	}
	if got := ProcessStartTime(pid); got != 0 {
		t.Errorf("a zombie reads as started at %d, want gone (0)", got)
	}
	cmd.Wait()
	if got := ProcessStartTime(pid); got != 0 {
		t.Errorf("a reaped process reads as started at %d", got)
	}
}
