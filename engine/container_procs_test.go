package engine

import (
	"reflect"
	"testing"

	"github.com/containerd/errdefs"
)

func TestFilterPs(t *testing.T) {
	out := []byte(`UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 Nov23 ?        00:00:50 /sbin/init
root         200       1  0 00:52 ?        00:00:00 sh -c while true; do sleep 1; done
root         201     200  0 00:52 ?        00:00:00 sleep 1
`)
	got, err := filterPs(out, []int{200, 201})
	if err != nil {
		t.Fatal(err)
	}
	want := TopResult{
		Titles: []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
		Processes: [][]string{
			{"root", "200", "1", "0", "00:52", "?", "00:00:00", "sh -c while true; do sleep 1; done"},
			{"root", "201", "200", "0", "00:52", "?", "00:00:00", "sleep 1"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("filterPs:\n got %q\nwant %q", got, want)
	}
	if _, err := filterPs([]byte("COMMAND\nsh\n"), []int{1}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("ps output without PID: %v, want an invalid-argument error", err)
	}
	if got, err := filterPs([]byte("PID COMMAND\n"), []int{1}); err != nil || len(got.Processes) != 0 {
		t.Errorf("header only: %v %v", got, err)
	}
}

func TestParsePortProto(t *testing.T) {
	for _, tc := range []struct {
		in    string
		port  int
		proto string
		ok    bool
	}{
		{"80", 80, "tcp", true},
		{"53/udp", 53, "udp", true},
		{"9/sctp", 9, "sctp", true},
		{"65535/tcp", 65535, "tcp", true},
		{"0", 0, "", false},
		{"65536", 0, "", false},
		{"http", 0, "", false},
		{"80/xyz", 0, "", false},
		{"", 0, "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			port, proto, err := ParsePortProto(tc.in)
			if (err == nil) != tc.ok || port != tc.port || proto != tc.proto {
				t.Errorf("ParsePortProto(%q) = %d, %q, %v", tc.in, port, proto, err)
			}
			if err != nil && !errdefs.IsInvalidArgument(err) {
				t.Errorf("error kind: %v", err)
			}
		})
	}
}

func TestPortMappingString(t *testing.T) {
	for _, tc := range []struct {
		m    PortMapping
		want string
	}{
		{PortMapping{80, "tcp", "0.0.0.0", 8080}, "80/tcp -> 0.0.0.0:8080"},
		{PortMapping{53, "udp", "::", 5353}, "53/udp -> [::]:5353"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
}
