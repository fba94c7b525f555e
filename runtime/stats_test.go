package runtime

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	in := []byte("cpu  10 2 30 400 5 6 7 8 0 0\ncpu0 5 1 15 200 2 3 3 4 0 0\ncpu1 5 1 15 200 3 3 4 4 0 0\nintr 1 2\n")
	total, online, err := parseProcStat(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(10+2+30+400+5+6+7) * 1e7; total != want || online != 2 {
		t.Errorf("parseProcStat = %d, %d; want %d, 2", total, online, want)
	}
	if _, _, err := parseProcStat([]byte("intr 1\n")); err == nil {
		t.Error("no cpu line: no error")
	}
}

func TestReadProcStat(t *testing.T) {
	// A command with a space and a parenthesis, as proc(5) allows.
	line := "42 (sh (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 2 0 1234 1000000 250 18446744073709551615\n"
	p := filepath.Join(t.TempDir(), "stat")
	if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readProcStat(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{utime: 7, stime: 3, threads: 2, rss: 250}); got != want {
		t.Errorf("readProcStat = %+v, want %+v", got, want)
	}
}

// The process summing finds this test's own process in its own PID
// namespace and reports CPU time, memory and at least one task.
func TestReadProcessStats(t *testing.T) {
	st, err := readProcessStats(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !st.FromProcesses || st.Pids.Current == 0 || st.Memory.Usage == 0 || st.CPU.Total != st.CPU.User+st.CPU.Kernel {
		t.Errorf("readProcessStats = %+v", st)
	}
}
