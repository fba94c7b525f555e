package runtime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)

// clock returns t0, t0+1s, t0+2s... one tick per entry.
func clock() func() time.Time {
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n-1) * time.Second) }
}

func openTestLog(t *testing.T, driver string, maxSize int64, maxFiles int) (*LogWriter, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ctr.log")
	w, err := OpenLog(path, driver, maxSize, maxFiles)
	if err != nil {
		t.Fatal(err)
	}
	w.SetClock(clock())
	return w, path
}

// An entry is stamped when its line is complete: "oops" comes first.
func TestLogWriterFormats(t *testing.T) {
	for _, tc := range []struct {
		driver string
		want   string
	}{
		{LogJSONFile, `{"log":"oops\n","stream":"stderr","time":"2024-05-01T10:00:00.123456789Z"}
{"log":"hello \u003cworld\u003e\n","stream":"stdout","time":"2024-05-01T10:00:01.123456789Z"}
{"log":"tab\there \"q\"\n","stream":"stdout","time":"2024-05-01T10:00:02.123456789Z"}
{"log":"no newline","stream":"stdout","time":"2024-05-01T10:00:03.123456789Z"}
`},
		{LogK8sFile, `2024-05-01T10:00:00.123456789Z stderr F oops
2024-05-01T10:00:01.123456789Z stdout F hello <world>
2024-05-01T10:00:02.123456789Z stdout F tab	here "q"
2024-05-01T10:00:03.123456789Z stdout P no newline
`},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			w, path := openTestLog(t, tc.driver, 0, 1)
			w.Write(StreamStdout, []byte("hello <wor"))
			w.Write(StreamStderr, []byte("oops\n"))
			w.Write(StreamStdout, []byte("ld>\ntab\there \"q\"\nno newline"))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Errorf("log:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestLogWriterSplitsLongLines(t *testing.T) {
	w, path := openTestLog(t, LogJSONFile, 0, 1)
	long := strings.Repeat("x", MaxLogLine+10) + "\n"
	w.Write(StreamStdout, []byte(long))
	w.Close()
	var out bytes.Buffer
	if err := ReadLog(path, LogJSONFile, LogReadOptions{Tail: -1}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != long {
		t.Errorf("read back %d bytes, want %d", out.Len(), len(long))
	}
	raw, _ := os.ReadFile(path)
	if n := bytes.Count(raw, []byte("\n")); n != 2 {
		t.Errorf("%d entries, want 2 (a partial one of %d bytes, then the rest)", n, MaxLogLine)
	}
}

func TestLogRotation(t *testing.T) {
	for _, driver := range []string{LogJSONFile, LogK8sFile} {
		t.Run(driver, func(t *testing.T) {
			const maxSize = 300
			w, path := openTestLog(t, driver, maxSize, 3)
			for i := range 40 {
				w.Write(StreamStdout, []byte("line "+strconv.Itoa(i)+"\n"))
			}
			w.Close()
			for _, p := range []string{path, path + ".1", path + ".2"} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() > maxSize || st.Size() == 0 {
					t.Errorf("%s has %d bytes, want 1..%d", p, st.Size(), maxSize)
				}
			}
			if _, err := os.Stat(path + ".3"); err == nil {
				t.Errorf("max-file=3 kept a fourth file")
			}
			var out bytes.Buffer
			if err := ReadLog(path, driver, LogReadOptions{Tail: -1}, &out, nil); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if lines[len(lines)-1] != "line 39" {
				t.Errorf("last line %q", lines[len(lines)-1])
			}
			for i := 1; i < len(lines); i++ {
				a, _ := strconv.Atoi(strings.TrimPrefix(lines[i-1], "line "))
				b, _ := strconv.Atoi(strings.TrimPrefix(lines[i], "line "))
				if b != a+1 {
					t.Fatalf("lines out of order or missing across files: %q then %q", lines[i-1], lines[i])
				}
			}
		})
	}
}

func TestLogRotationMaxFileOneTruncates(t *testing.T) {
	w, path := openTestLog(t, LogJSONFile, 200, 1)
	for i := range 20 {
		w.Write(StreamStdout, []byte("line "+strconv.Itoa(i)+"\n"))
	}
	w.Close()
	if _, err := os.Stat(path + ".1"); err == nil {
		t.Error("max-file=1 kept a rotated file")
	}
	var out bytes.Buffer
	ReadLog(path, LogJSONFile, LogReadOptions{Tail: -1}, &out, nil)
	if !strings.HasSuffix(out.String(), "line 19\n") || strings.Contains(out.String(), "line 0\n") {
		t.Errorf("log after truncation: %q", out.String())
	}
}

// writeTestLog writes entries "0".."9" one second apart, odd ones to stderr.
func writeTestLog(t *testing.T, driver string) string {
	w, path := openTestLog(t, driver, 0, 1)
	for i := range 10 {
		stream := StreamStdout
		if i%2 == 1 {
			stream = StreamStderr
		}
		w.Write(stream, []byte(strconv.Itoa(i)+"\n"))
	}
	w.Close()
	return path
}

func TestReadLog(t *testing.T) {
	for _, driver := range []string{LogJSONFile, LogK8sFile} {
		path := writeTestLog(t, driver)
		for _, tc := range []struct {
			name           string
			o              LogReadOptions
			stdout, stderr string
		}{
			{"all", LogReadOptions{Tail: -1}, "0\n2\n4\n6\n8\n", "1\n3\n5\n7\n9\n"},
			{"tail 3", LogReadOptions{Tail: 3}, "8\n", "7\n9\n"},
			{"tail 0", LogReadOptions{Tail: 0}, "", ""},
			{"tail more than all", LogReadOptions{Tail: 50}, "0\n2\n4\n6\n8\n", "1\n3\n5\n7\n9\n"},
			{"since is inclusive", LogReadOptions{Tail: -1, Since: t0.Add(7 * time.Second)}, "8\n", "7\n9\n"},
			{"until is exclusive", LogReadOptions{Tail: -1, Until: t0.Add(2 * time.Second)}, "0\n", "1\n"},
			{"since, until and tail", LogReadOptions{Tail: 2, Since: t0.Add(2 * time.Second), Until: t0.Add(6 * time.Second)}, "4\n", "5\n"},
			{"timestamps", LogReadOptions{Tail: 1, Timestamps: true}, "", "2024-05-01T10:00:09.123456789Z 9\n"},
		} {
			t.Run(driver+"/"+tc.name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				if err := ReadLog(path, driver, tc.o, &stdout, &stderr); err != nil {
					t.Fatal(err)
				}
				if stdout.String() != tc.stdout || stderr.String() != tc.stderr {
					t.Errorf("stdout %q stderr %q, want %q and %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
				}
			})
		}
	}
}

func TestReadLogSkipsGarbageAndMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	var out bytes.Buffer
	if err := ReadLog(path, LogJSONFile, LogReadOptions{Tail: -1}, &out, &out); err != nil || out.Len() != 0 {
		t.Errorf("missing log: %v, %q", err, out.String())
	}
	os.WriteFile(path, []byte("not json\n"+`{"log":"ok\n","stream":"stdout","time":"2024-05-01T10:00:00Z"}`+"\n"), 0o600)
	if err := ReadLog(path, LogJSONFile, LogReadOptions{Tail: -1}, &out, &out); err != nil || out.String() != "ok\n" {
		t.Errorf("got %v, %q", err, out.String())
	}
	if err := ReadLog(path, LogNone, LogReadOptions{Tail: -1}, &out, &out); err == nil {
		t.Error("reading a none log succeeded")
	}
}

// syncBuffer is a bytes.Buffer safe to read while ReadLog writes.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func TestReadLogFollow(t *testing.T) {
	for _, driver := range []string{LogJSONFile, LogK8sFile} {
		t.Run(driver, func(t *testing.T) {
			// Small files: following must cross several rotations.
			w, path := openTestLog(t, driver, 250, 4)
			w.SetClock(time.Now)
			w.Write(StreamStdout, []byte("before\n"))
			var exited atomic.Bool
			out := newSyncBuffer()
			done := make(chan error, 1)
			go func() {
				done <- ReadLog(path, driver, LogReadOptions{Follow: true, Tail: 1, StopFollowing: exited.Load}, out, out)
			}()
			waitUntil(t, func() bool { return out.String() == "before\n" })
			var want strings.Builder
			want.WriteString("before\n")
			for i := range 12 {
				line := fmt.Sprintf("live %d\n", i)
				want.WriteString(line)
				w.Write(StreamStdout, []byte(line[:3]))
				w.Write(StreamStdout, []byte(line[3:]))
				time.Sleep(15 * time.Millisecond)
			}
			// Written just before the exit is noticed: still read.
			w.Write(StreamStderr, []byte("last words\n"))
			want.WriteString("last words\n")
			w.Close()
			exited.Store(true)
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("follow did not stop after the container exited")
			}
			if out.String() != want.String() {
				t.Errorf("followed:\n%s\nwant:\n%s", out.String(), want.String())
			}
		})
	}
}

func TestReadLogFollowWaitsForTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	var exited atomic.Bool
	out := newSyncBuffer()
	done := make(chan error, 1)
	go func() {
		done <- ReadLog(path, LogJSONFile, LogReadOptions{Follow: true, Tail: -1, StopFollowing: exited.Load}, out, out)
	}()
	time.Sleep(150 * time.Millisecond)
	w, err := OpenLog(path, LogJSONFile, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(StreamStdout, []byte("late\n"))
	w.Close()
	exited.Store(true)
	if err := <-done; err != nil || out.String() != "late\n" {
		t.Errorf("got %v, %q", err, out.String())
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("timed out")
}
