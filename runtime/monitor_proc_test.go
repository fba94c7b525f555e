package runtime

import (
	"errors"
	"testing"
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
