package api

import "testing"

func TestParseAddr(t *testing.T) {
	for uri, want := range map[string]Addr{
		"":                        {Network: "unix"},
		"unix:///run/x/s.sock":    {Network: "unix", Path: "/run/x/s.sock"},
		"unix:///run/x/../s.sock": {Network: "unix", Path: "/run/s.sock"},
		"tcp://127.0.0.1:2375":    {Network: "tcp", Path: "127.0.0.1:2375"},
	} {
		if got, err := ParseAddr(uri); err != nil || got != want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %v", uri, got, err, want)
		}
	}
	for _, bad := range []string{"/run/s.sock", "ftp://x", "unix://rel.sock", "tcp://nohostport", "tcp://h:1/path", "%zz"} {
		if _, err := ParseAddr(bad); err == nil {
			t.Errorf("ParseAddr(%q): no error", bad)
		}
	}
}
