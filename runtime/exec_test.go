package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestStartExitCode(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		code int
	}{
		{`unable to start container process: exec: "nope": executable file not found in $PATH`, 127},
		{`unable to start container process: exec: "/no/such": stat /no/such: no such file or directory`, 127},
		{`unable to start container process: exec: "/etc/passwd": permission denied`, 126},
		{`unable to start container process: exec: "/etc": is a directory`, 126},
		{`unable to start container process: error during container init: error mounting "/x" to rootfs at "/y": no such file or directory`, 125},
		{`container's cgroup is not empty`, 125},
		{`no client attached within 30s`, 125},
	} {
		if got := StartExitCode(tc.msg); got != tc.code {
			t.Errorf("StartExitCode(%q) = %d, want %d", tc.msg, got, tc.code)
		}
	}
}

func TestReadExecConfigRemovesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exec.json")
	os.WriteFile(path, []byte(`{"id":"c1","state_root":"/run/x","process":{"args":["sh"],"cwd":"/"},"detach":true}`), 0o600)
	c, err := ReadExecConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := ExecConfig{ID: "c1", StateRoot: "/run/x", Process: specs.Process{Args: []string{"sh"}, Cwd: "/"}, Detach: true}
	if c.ID != want.ID || c.StateRoot != want.StateRoot || c.Process.Args[0] != "sh" || !c.Detach {
		t.Errorf("got %+v", c)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("the exec config (with the environment) was not removed")
	}
}
