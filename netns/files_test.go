package netns

import (
	"strings"
	"testing"
)

func TestResolvConf(t *testing.T) {
	for _, tc := range []struct {
		name, host, want string
		o                ResolvOptions
	}{
		{"drops loopback", "search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n", "search lan\nnameserver 10.0.0.1\n", ResolvOptions{}},
		{"only loopback falls back", "nameserver 127.0.0.1\noptions edns0\n", "nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0\n", ResolvOptions{}},
		{"host network keeps it", "nameserver 127.0.0.53\n", "nameserver 127.0.0.53\n", ResolvOptions{HostNetwork: true}},
		{"empty", "", "nameserver 8.8.8.8\nnameserver 8.8.4.4\n", ResolvOptions{}},
		{"slirp4netns forwards loopback", "nameserver 127.0.0.53\nnameserver ::1\nnameserver 10.0.0.1\n", "nameserver 10.0.2.3\nnameserver 10.0.0.1\n", ResolvOptions{LoopbackResolver: "10.0.2.3"}},
		{"--dns, --dns-search, --dns-option replace", "search lan\nnameserver 10.0.0.1\noptions edns0\n", "search a.example b.example\nnameserver 10.1.1.1\noptions ndots:2\n",
			ResolvOptions{Nameservers: []string{"10.1.1.1"}, Search: []string{"a.example", "b.example"}, Options: []string{"ndots:2"}}},
		{"--dns with host network", "nameserver 127.0.0.53\n", "nameserver 10.1.1.1\n", ResolvOptions{HostNetwork: true, Nameservers: []string{"10.1.1.1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(ResolvConf([]byte(tc.host), tc.o)); got != tc.want {
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
