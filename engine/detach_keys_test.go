package engine

import (
	"bytes"
	"testing"
)

func TestParseDetachKeys(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []byte
		ok   bool
	}{
		{"", nil, true},
		{"ctrl-p,ctrl-q", []byte{16, 17}, true},
		{"a,ctrl-b", []byte{'a', 2}, true},
		{"ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", []byte{0, 27, 28, 29, 30, 31}, true},
		{"ctrl-1", nil, false},
		{"ctrl-", nil, false},
		{"ab", nil, false},
		{"a,,b", nil, false},
	} {
		got, ok := ParseDetachKeys(c.in)
		if ok != c.ok || !bytes.Equal(got, c.want) {
			t.Errorf("ParseDetachKeys(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
