package runtime

import (
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestCheckProcessSize(t *testing.T) {
	big := func(n int) string { return strings.Repeat("x", n) }
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		args  []string
		env   []string
		stack uint64
		err   string
	}{
		{name: "small", args: []string{"sh", "-c", "true"}, env: []string{"A=1"}, stack: 8 * mib},
		{name: "variable of 131071 bytes", args: []string{"sh"}, env: []string{"A=" + big(131069)}, stack: 8 * mib},
		{name: "variable of 131072 bytes", args: []string{"sh"}, env: []string{"A=" + big(131070)}, stack: 8 * mib,
			err: "environment variable A is 131072 bytes: Linux allows 131071 per variable or argument"},
		{name: "1 MB value", args: []string{"sh"}, env: []string{"PATH=/bin", "BIG=" + big(mib)}, stack: 8 * mib,
			err: "environment variable BIG is 1048580 bytes"},
		{name: "long argument", args: []string{"echo", big(200000)}, stack: 8 * mib,
			err: "argument 1 of the command is 200000 bytes: Linux allows 131071 per argument or environment variable"},
		{name: "total over a quarter of the stack", args: []string{"sh"}, env: strings.Split(strings.Repeat("A="+big(100000)+" ", 21)[:21*100003-1], " "), stack: 8 * mib,
			err: "the command and environment take 2100245 bytes: Linux allows 2097152 with a stack limit of 8388608"},
		{name: "same total with a 16 MiB stack", args: []string{"sh"}, env: strings.Split(strings.Repeat("A="+big(100000)+" ", 21)[:21*100003-1], " "), stack: 16 * mib},
		{name: "unlimited stack: 6 MiB", args: []string{"sh"}, env: strings.Split(strings.Repeat("A="+big(100000)+" ", 63)[:63*100003-1], " "), stack: ^uint64(0),
			err: "Linux allows 6291456 with a stack limit of unlimited"},
		{name: "tiny stack: ARG_MAX still", args: []string{"sh"}, env: []string{"A=" + big(100000)}, stack: 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkProcessSize(tc.args, tc.env, tc.stack)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errdefs.IsInvalidArgument(err)):
				t.Fatalf("error %v, want InvalidArgument containing %q", err, tc.err)
			}
		})
	}
}
