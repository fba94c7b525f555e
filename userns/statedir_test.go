package userns

import "testing"

func TestChooseStateDir(t *testing.T) {
	const boot = "5e1f0c3a-0000-4000-8000-000000000001"
	usable := func(dirs ...string) func(string) bool {
		return func(d string) bool {
			for _, u := range dirs {
				if d == u {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name       string
		computed   string
		record     string
		usable     func(string) bool
		want       string
		fromRecord bool
	}{
		{"no record", "/run/user/1000/skiff", "", usable("/run/user/1000/skiff"), "/run/user/1000/skiff", false},
		{"record names the computed one", "/run/user/1000/skiff", "/run/user/1000/skiff\n" + boot + "\n", usable("/run/user/1000/skiff"), "/run/user/1000/skiff", false},
		{"su without XDG_RUNTIME_DIR: the recorded one wins", "/tmp/skiff-run-1000", "/run/user/1000/skiff\n" + boot + "\n", usable("/run/user/1000/skiff"), "/run/user/1000/skiff", true},
		{"recorded one gone: adopt the computed one", "/tmp/skiff-run-1000", "/run/user/1000/skiff\n" + boot + "\n", usable(), "/tmp/skiff-run-1000", false},
		{"recorded before a reboot: adopt the computed one", "/tmp/skiff-run-1000", "/run/user/1000/skiff\nold-boot\n", usable("/run/user/1000/skiff"), "/tmp/skiff-run-1000", false},
		{"record without a boot id is ignored", "/tmp/skiff-run-1000", "/run/user/1000/skiff\n", usable("/run/user/1000/skiff"), "/tmp/skiff-run-1000", false},
		{"relative recorded path is ignored", "/tmp/skiff-run-1000", "run/skiff\n" + boot + "\n", usable("run/skiff"), "/tmp/skiff-run-1000", false},
		{"garbage", "/tmp/skiff-run-1000", "\x00\x01", usable(), "/tmp/skiff-run-1000", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, ok := parseRecord(tc.record)
			got, from := chooseStateDir(tc.computed, rec, ok, boot, tc.usable)
			if got != tc.want || from != tc.fromRecord {
				t.Errorf("got %q (from record %v), want %q (%v)", got, from, tc.want, tc.fromRecord)
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	want := runRootRecord{"/run/user/1000/skiff", "b00t"}
	got, ok := parseRecord(want.String())
	if !ok || got != want {
		t.Errorf("parseRecord(%q) = %+v, %v", want.String(), got, ok)
	}
}
