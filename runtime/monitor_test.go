package runtime

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFrameRoundTrip(t *testing.T) {
	frames := []struct {
		typ     byte
		payload []byte
	}{
		{FrameStdout, []byte("hello\n")},
		{FrameStdinClose, nil},
		{FrameResize, EncodeResize(24, 80)},
		{FrameExit, EncodeExit(137)},
		{FrameStdin, bytes.Repeat([]byte("x"), 70000)},
	}
	var buf bytes.Buffer
	for _, f := range frames {
		if err := WriteFrame(&buf, f.typ, f.payload); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range frames {
		typ, p, err := ReadFrame(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if typ != want.typ || !bytes.Equal(p, want.payload) {
			t.Errorf("frame %d with %d bytes, want %d with %d", typ, len(p), want.typ, len(want.payload))
		}
	}
	if _, _, err := ReadFrame(&buf); err != io.EOF {
		t.Errorf("after the last frame: %v, want EOF", err)
	}
}

func TestFrameWireFormat(t *testing.T) {
	var buf bytes.Buffer
	WriteFrame(&buf, FrameResize, EncodeResize(0x0102, 0x0304))
	if want := []byte{5, 0, 0, 0, 4, 1, 2, 3, 4}; !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("resize frame % x, want % x", buf.Bytes(), want)
	}
	buf.Reset()
	WriteFrame(&buf, FrameExit, EncodeExit(-1))
	if want := []byte{3, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff}; !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("exit frame % x, want % x", buf.Bytes(), want)
	}
}

func TestFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"too big", []byte{1, 0x7f, 0, 0, 0}, "exceeds"},
		{"short header", []byte{1, 0}, "unexpected EOF"},
		{"short payload", []byte{1, 0, 0, 0, 3, 'a'}, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadFrame(bytes.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	if _, _, err := DecodeResize([]byte{1}); err == nil {
		t.Error("DecodeResize accepted 1 byte")
	}
	if _, err := DecodeExit(nil); err == nil {
		t.Error("DecodeExit accepted no bytes")
	}
	if code, _ := DecodeExit(EncodeExit(3)); code != 3 {
		t.Errorf("exit code %d", code)
	}
}

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	st, err := ReadState(path)
	if err != nil || st.Status != StatusCreated {
		t.Fatalf("missing state: %+v, %v; want created", st, err)
	}
	want := State{Status: StatusExited, ExitCode: 137, OOMKilled: true,
		StartedAt: time.Date(2024, 5, 1, 10, 0, 0, 1, time.UTC), FinishedAt: time.Date(2024, 5, 1, 10, 0, 1, 0, time.UTC)}
	if err := WriteState(path, want, true); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(path)
	if err != nil || got != want {
		t.Errorf("read back %+v, %v; want %+v", got, err, want)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".state-*"))
	if len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}
