package runtime

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fields of /proc/PID/stat after the command name: a live process, one
// in do_exit (PF_EXITING) that is not a zombie yet, a zombie, a dead one.
func TestStartTimeOf(t *testing.T) {
	line := func(state string, flags uint64) []string {
		f := strings.Fields("S 1 100 100 0 -1 4194560 500 0 0 0 1 2 0 0 20 0 4 0 123456 10000000 300")
		f[0], f[6] = state, strconv.FormatUint(flags, 10)
		return f
	}
	for _, tc := range []struct {
		name   string
		fields []string
		want   uint64
	}{
		{"running", line("S", 0x400100), 123456},
		{"exiting", line("R", 0x400104), 0},
		{"exiting, in D", line("D", 0x40010c), 0},
		{"zombie", line("Z", 0x400104), 0},
		{"dead", line("X", 0x400104), 0},
		{"short", line("S", 0)[:10], 0},
		{"no process", nil, 0},
	} {
		if got := startTimeOf(tc.fields); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

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
