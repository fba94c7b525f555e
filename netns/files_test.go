package netns

import (
	"strings"
	"testing"
)

func TestResolvConf(t *testing.T) {
	for _, tc := range []struct {
		name, host, want string
		hostNet          bool
	}{
		{"drops loopback", "search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n", "search lan\nnameserver 10.0.0.1\n", false},
		{"only loopback falls back", "nameserver 127.0.0.1\noptions edns0\n", "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n", false},
		{"host network keeps it", "nameserver 127.0.0.53\n", "nameserver 127.0.0.53\n", true},
		{"empty", "", "nameserver 8.8.8.8\nnameserver 8.8.4.4\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(ResolvConf([]byte(tc.host), tc.hostNet)); got != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestHostsFile(t *testing.T) {
	got := string(HostsFile("abc123", []string{"10.0.0.2\tdb"}))
	for _, want := range []string{"127.0.0.1\tlocalhost\n", "10.0.0.2\tdb\n", "127.0.1.1\tabc123\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("hosts lacks %q:\n%s", want, got)
		}
	}
}
