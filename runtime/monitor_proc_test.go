package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStartErrorWire(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{errors.New(`exec: "nosuch": executable file not found in $PATH`), 127},
		{errors.New(`exec: "/etc": permission denied`), 126},
		{errors.New("mount failed:\nno space"), 125},
	} {
		se := NewStartError(tc.err)
		back := ParseStartError(se.Encode())
		if back.Code != tc.code || back.Message != se.Message {
			t.Errorf("%q: round trip gave %d %q, want %d %q", tc.err, back.Code, back.Message, tc.code, se.Message)
		}
	}
	for in, want := range map[string]int{"": 125, "boom": 125, "42 not a code": 125, "126 cannot run": 126} {
		if got := ParseStartError(in).Code; got != want {
			t.Errorf("ParseStartError(%q).Code = %d, want %d", in, got, want)
		}
	}
}

// The monitor's fork: argv names its config, stdio is /dev/null, the
// handshake and control pipes are fds 3 and 4 (the environment says so),
// it leads a session of its own, and it is reaped when it exits.
func TestForkMonitor(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fake-monitor")
	script := `#!/bin/sh
echo "$1 $2 $(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/2) $(cut -d' ' -f6 /proc/$$/stat) $` + MonitorControlEnv + `" >&3
exec 3>&-
cat <&4 >/dev/null
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	syncR, syncW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer syncR.Close()
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pid, start, err := forkMonitor(bin, "/run/c/monitor.json", []*os.File{syncW, ctlR})
	syncW.Close()
	ctlR.Close()
	if err != nil {
		t.Fatal(err)
	}
	if start == 0 || start != ProcessStartTime(pid) {
		t.Errorf("start time %d, /proc says %d", start, ProcessStartTime(pid))
	}
	line, err := bufio.NewReader(syncR).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the handshake pipe: %v", err)
	}
	if want := fmt.Sprintf("run /run/c/monitor.json /dev/null /dev/null %d %d\n", pid, MonitorControlFd); line != want {
		t.Errorf("the monitor saw %q, want %q", line, want)
	}
	ctlW.Close() // its control pipe ends: it exits
	for i := 0; ; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			return // exited and reaped: no zombie left
		}
		if i == 500 {
			t.Fatalf("monitor %d not reaped after its exit", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
