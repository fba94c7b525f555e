package runtime

import "testing"

func TestParseNetDev(t *testing.T) {
	in := []byte(`Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    1046      13    1    2    0     0          0         0      766       9    3    4    0     0       0          0
`)
	got, err := parseNetDev(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]InterfaceCounters{"eth0": {RxBytes: 1046, RxPackets: 13, RxErrors: 1, RxDropped: 2, TxBytes: 766, TxPackets: 9, TxErrors: 3, TxDropped: 4}}
	if len(got) != 1 || got["eth0"] != want["eth0"] {
		t.Errorf("parseNetDev = %+v, want %+v", got, want)
	}
	if _, err := parseNetDev([]byte("eth0: 1 2 3\n")); err == nil {
		t.Error("a short line: no error")
	}
}
