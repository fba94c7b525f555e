package monitorio

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The idle monitor writes by hand what encoding/json writes for the
// engine's types: the bytes must be the same.
func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "tab\there \"q\" back\\slash", "<html> & co", "\x00\x01\x1f\x7f",
		"\b\f\n\r", "ünïcödé ✓", "line\u2028sep\u2029para", "bad \xff utf8 \xe2\x82", strings.Repeat("x", 5000)} {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

// healthResult and healthDoc mirror runtime.HealthResult and runtime.Health
// (runtime imports this package, so not the other way round).
type healthResult struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

type healthDoc struct {
	Status        string         `json:"Status"`
	FailingStreak int            `json:"FailingStreak"`
	Log           []healthResult `json:"Log"`
}

func TestHealthFileIsEncodingJSON(t *testing.T) {
	start := time.Date(2026, 12, 3, 7, 0, 0, 123456789, time.UTC)
	results := []healthResult{
		{Start: start, End: start.Add(time.Millisecond), ExitCode: 0, Output: "ok\n"},
		{Start: start.Add(time.Second), End: start.Add(2 * time.Second), ExitCode: -1, Output: "Health check exceeded timeout (1s)"},
	}
	for _, tc := range []struct {
		name string
		doc  healthDoc
	}{
		{"no log", healthDoc{Status: HealthStarting}},
		{"results", healthDoc{Status: HealthUnhealthy, FailingStreak: 2, Log: results}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := HealthFile{Status: tc.doc.Status, FailingStreak: tc.doc.FailingStreak}
			for _, r := range tc.doc.Log {
				f.Add(AppendHealthResult(nil, r.Start, r.End, r.ExitCode, r.Output))
			}
			want, _ := json.Marshal(tc.doc)
			if got := f.Marshal(); string(got) != string(want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			// Read back: the log survives as it was written.
			path := filepath.Join(t.TempDir(), "health.json")
			os.WriteFile(path, want, 0o600)
			again := HealthFile{Status: tc.doc.Status, FailingStreak: tc.doc.FailingStreak, Log: ReadHealthLog(path)}
			if len(tc.doc.Log) == 0 {
				again.Log = nil
			}
			if got := again.Marshal(); string(got) != string(want) {
				t.Errorf("read back: got %s\nwant %s", got, want)
			}
		})
	}
}

// Braces and brackets inside strings do not split a result.
func TestReadHealthLogTricky(t *testing.T) {
	doc := healthDoc{Status: HealthHealthy, Log: []healthResult{{Output: `}]{"Log":[ \" \\`}, {ExitCode: 3, Output: "x"}}}
	b, _ := json.Marshal(doc)
	path := filepath.Join(t.TempDir(), "health.json")
	os.WriteFile(path, b, 0o600)
	log := ReadHealthLog(path)
	if len(log) != 2 {
		t.Fatalf("%d results, want 2: %q", len(log), log)
	}
	var r healthResult
	if err := json.Unmarshal(log[0], &r); err != nil || r.Output != doc.Log[0].Output {
		t.Errorf("first result %s: %v %+v", log[0], err, r)
	}
	os.WriteFile(path, b[:len(b)/2], 0o600)
	if log := ReadHealthLog(path); log != nil {
		t.Errorf("a truncated file gave %q", log)
	}
	if log := ReadHealthLog(filepath.Join(t.TempDir(), "missing")); log != nil {
		t.Errorf("a missing file gave %q", log)
	}
}

func TestHealthFileKeepsTheLastResults(t *testing.T) {
	var f HealthFile
	for i := range MaxHealthLog + 3 {
		f.Add([]byte{'0' + byte(i)})
	}
	if len(f.Log) != MaxHealthLog || string(f.Log[0]) != "3" || string(f.Log[MaxHealthLog-1]) != "7" {
		t.Errorf("log %q", f.Log)
	}
}

func TestNextHealth(t *testing.T) {
	for _, tc := range []struct {
		name          string
		status        string
		streak        int
		pass, inStart bool
		want          string
		wantStreak    int
	}{
		{"pass", HealthStarting, 0, true, false, HealthHealthy, 0},
		{"pass resets the streak", HealthUnhealthy, 5, true, false, HealthHealthy, 0},
		{"failure in the start period", HealthStarting, 0, false, true, HealthStarting, 0},
		{"failure after the start period", HealthStarting, 0, false, false, HealthStarting, 1},
		{"failure in the start period after a pass counts", HealthHealthy, 1, false, true, HealthUnhealthy, 2},
		{"the retries-th failure", HealthHealthy, 1, false, false, HealthUnhealthy, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, n := NextHealth(tc.status, tc.streak, tc.pass, tc.inStart, 2)
			if st != tc.want || n != tc.wantStreak {
				t.Errorf("got %s %d, want %s %d", st, n, tc.want, tc.wantStreak)
			}
		})
	}
}

func TestHealthReplyIsEncodingJSON(t *testing.T) {
	type reply struct {
		Status string       `json:"status,omitempty"`
		Result healthResult `json:"result"`
		Error  string       `json:"error,omitempty"`
	}
	r := healthResult{Start: time.Unix(100, 5).UTC(), End: time.Unix(101, 0).UTC(), ExitCode: 1, Output: "no"}
	for _, tc := range []struct {
		got  []byte
		want reply
	}{
		{AppendHealthReply(nil, HealthHealthy, AppendHealthResult(nil, r.Start, r.End, r.ExitCode, r.Output), ""), reply{Status: HealthHealthy, Result: r}},
		{AppendHealthReply(nil, "", nil, "the container is not running"), reply{Error: "the container is not running"}},
	} {
		want, _ := json.Marshal(tc.want)
		if string(tc.got) != string(want) {
			t.Errorf("got  %s\nwant %s", tc.got, want)
		}
	}
}

func TestParseCheckOutput(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code int
		ok   bool
	}{
		{"0\n{\"ExitCode\":0}\n", 0, true},
		{"137\n{\"ExitCode\":137}", 137, true},
		{"-1\n{}\n", -1, true},
		{"", 0, false},
		{"0", 0, false},
		{"x\n{}", 0, false},
		{"0\nnot json", 0, false},
		{"0\n{\"cut", 0, false},
	} {
		code, res, ok := ParseCheckOutput([]byte(tc.in))
		if ok != tc.ok || code != tc.code || (ok && res[0] != '{') {
			t.Errorf("%q: got %d %q %v, want %d %v", tc.in, code, res, ok, tc.code, tc.ok)
		}
	}
}

func TestSpoolEventIsEncodingJSON(t *testing.T) {
	type event struct {
		Time   time.Time `json:"time"`
		Type   string    `json:"type"`
		Action string    `json:"action"`
		ID     string    `json:"id"`
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	want, _ := json.Marshal(event{now, "container", "health_status: healthy", "abc"})
	if got := AppendSpoolEvent(nil, now, "container", "health_status: healthy", "abc"); string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	dir := filepath.Join(t.TempDir(), "events")
	if err := WriteSpoolFile(dir, now, want); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(names) != 1 || !strings.HasPrefix(filepath.Base(names[0]), "01767323045000000006-") {
		t.Errorf("spool files %v", names)
	}
}

func TestHandoffRoundTrip(t *testing.T) {
	h := Handoff{Config: "/run/c/x/monitor.json", Monitor: "/usr/bin/skiff-monitor", Pid: 1234,
		StartedAt: time.Unix(1700000000, 123456789).UTC(), RestartCount: 3, Backoff: 400 * time.Millisecond,
		Listener: 5, Notify: -1, Stdin: 7, Pty: 7, Stdout: 7, Stderr: -1,
		Clients: []HandoffClient{{Fd: 9}, {Fd: 10, Owner: true}}, Height: 24, Width: 80,
		StopRequested: true, SetGOMAXPROCS: true, ID: "abc", EventSpool: "/run/events", HealthPath: "/var/c/health.json",
		LogDriver: LogK8sFile, LogPath: "/var/c/ctr.log\nwith newline \"q\"", LogMaxSize: 1 << 20, LogMaxFiles: 3,
		StopSignal: 15, StopTimeout: 10 * time.Second, Timeout: time.Minute, NotifySocket: "@sd",
		Health: HandoffHealth{Interval: 2 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 3,
			Status: "unhealthy", FailingStreak: 4},
		HealthOnFailure: "restart"}
	got, err := DecodeHandoff(h.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, h) {
		t.Errorf("got  %+v\nwant %+v", got, h)
	}
	for _, bad := range []string{"", "pid=1", "config=\"x\"", "pid=1\nconfig=\"x\"\nbogus=1", "pid=x\nconfig=\"x\"", "pid=1\nconfig=\"x\nno"} {
		if _, err := DecodeHandoff(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

// A deadline stops ReadWholeFrame between frames only.
func TestReadWholeFrame(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	done := make(chan error, 1)
	go func() {
		_, err := a.Write([]byte{FrameStdin, 0, 0})
		if err == nil {
			time.Sleep(100 * time.Millisecond)
			_, err = a.Write([]byte{0, 3, 'a', 'b', 'c'})
		}
		done <- err
	}()
	time.AfterFunc(20*time.Millisecond, func() { b.SetReadDeadline(time.Unix(1, 0)) })
	typ, p, err := ReadWholeFrame(b)
	if err != nil || typ != FrameStdin || string(p) != "abc" {
		t.Fatalf("got %d %q %v, want the whole frame", typ, p, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b.SetReadDeadline(time.Unix(1, 0))
	if _, _, err := ReadWholeFrame(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("at a boundary: %v, want the deadline", err)
	}
	b.SetReadDeadline(time.Time{})
	go a.Write([]byte{FrameResize, 0, 0, 0, 4, 0, 24, 0, 80})
	typ, p, err = ReadWholeFrame(b)
	if h, w, _ := DecodeResize(p); err != nil || typ != FrameResize || h != 24 || w != 80 {
		t.Errorf("after the deadline: %d %v %v", typ, p, err)
	}
	go a.Write([]byte{FrameStdin, 0xff, 0xff, 0xff, 0xff})
	if _, _, err := ReadWholeFrame(b); err == nil {
		t.Error("an oversized frame was read")
	}
}

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	WriteFrame(&buf, FrameExit, EncodeExit(-2))
	typ, p, err := ReadFrame(&buf)
	code, _ := DecodeExit(p)
	if err != nil || typ != FrameExit || code != -2 {
		t.Errorf("got %d %d %v", typ, code, err)
	}
}

// NotifyEmpty's function runs once the last client leaves, by Remove or
// by a failed Send, and not while one is left.
func TestClientsNotifyEmpty(t *testing.T) {
	pair := func() (*Client, *net.UnixConn) {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		return &Client{Conn: FileConn(fds[0])}, FileConn(fds[1])
	}
	var cs Clients
	calls := 0
	cs.NotifyEmpty(func() { calls++ })
	a, _ := pair()
	b, peerB := pair()
	cs.Add(a)
	cs.Add(b)
	cs.Remove(a)
	if calls != 0 {
		t.Fatalf("called with a client left")
	}
	peerB.Close()
	for i := 0; i < 100 && cs.Len() > 0; i++ {
		cs.Send(FrameStdout, []byte("x")) // fails once the peer is gone
	}
	if cs.Len() != 0 || calls != 1 {
		t.Fatalf("after the last client went: %d clients, %d calls; want 0 and 1", cs.Len(), calls)
	}
}
