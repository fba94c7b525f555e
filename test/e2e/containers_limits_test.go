package e2e

import (
	"strings"
	"testing"
)

// An environment execve would refuse is refused by run before anything is
// created: exit 125, one line naming the variable, no container.
func TestRunEnvTooLarge(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		big := s.WriteFile("big.env", []byte("SMALL=1\nBIG="+strings.Repeat("v", 1<<20)+"\n"))
		r := s.Run("run", "--env-file", big, bb, "true").MustFail(t, 125, "environment variable BIG is 1048580 bytes: Linux allows 131071 per variable or argument")
		requireOneLine(t, r)
		// 26 variables of 100 kB: each fits, together more than a quarter
		// of the 8 MiB stack.
		var lines strings.Builder
		for i := range 26 {
			lines.WriteString("V" + string(rune('a'+i)) + "=" + strings.Repeat("v", 100000) + "\n")
		}
		many := s.WriteFile("many.env", []byte(lines.String()))
		r = s.Run("create", "--env-file", many, bb, "true").MustFail(t, 125, "the command and environment take")
		requireOneLine(t, r)
		requireNoContainers(t, s, "runs with an environment too large")

		// The largest variable Linux takes still works.
		max := s.WriteFile("max.env", []byte("A="+strings.Repeat("v", 131071-2)+"\n"))
		s.Run("run", "--rm", "--env-file", max, bb, "sh", "-c", `echo ${#A}`).Assert(t, Expect{Stdout: "131069"})
	})
}
