package main

import "testing"

func TestSplitCpArg(t *testing.T) {
	for _, c := range []struct{ arg, ctr, path string }{
		{"web:/etc/hosts", "web", "/etc/hosts"},
		{"web:relative", "web", "relative"},
		{"/abs/with:colon", "", "/abs/with:colon"},
		{"./file:name.txt", "", "./file:name.txt"},
		{"file", "", "file"},
		{"-", "", "-"},
		{"web:", "web", ""},
	} {
		if ctr, path := splitCpArg(c.arg); ctr != c.ctr || path != c.path {
			t.Errorf("splitCpArg(%q) = %q, %q; want %q, %q", c.arg, ctr, path, c.ctr, c.path)
		}
	}
}
