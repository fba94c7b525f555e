package runtime

import (
	"testing"

	"github.com/containerd/errdefs"
)

func TestCheckRestartPolicy(t *testing.T) {
	tests := []struct {
		p          RestartPolicy
		autoRemove bool
		err        string
	}{
		{RestartPolicy{}, true, ""},
		{RestartPolicy{Name: "no"}, true, ""},
		{RestartPolicy{Name: "always"}, false, ""},
		{RestartPolicy{Name: "unless-stopped"}, false, ""},
		{RestartPolicy{Name: "on-failure"}, false, ""},
		{RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, false, ""},
		{RestartPolicy{Name: "on-failure", MaximumRetryCount: -1}, false, "invalid restart policy: maximum retry count cannot be negative: invalid argument"},
		{RestartPolicy{Name: "always", MaximumRetryCount: 1}, false, "invalid restart policy: maximum retry count can only be used with 'on-failure': invalid argument"},
		{RestartPolicy{Name: "no", MaximumRetryCount: 1}, false, "invalid restart policy: maximum retry count can only be used with 'on-failure': invalid argument"},
		{RestartPolicy{Name: "sometimes"}, false, `invalid restart policy: unknown policy "sometimes"; use one of 'no', 'always', 'on-failure', or 'unless-stopped': invalid argument`},
		{RestartPolicy{Name: "always"}, true, "a container removed when it exits (auto-remove) cannot have a restart policy: invalid argument"},
	}
	for _, tt := range tests {
		err := CheckRestartPolicy(tt.p, tt.autoRemove)
		got := ""
		if err != nil {
			got = err.Error()
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%+v: %v is not an invalid argument", tt.p, err)
			}
		}
		if got != tt.err {
			t.Errorf("%+v autoRemove=%v: %q, want %q", tt.p, tt.autoRemove, got, tt.err)
		}
	}
}
