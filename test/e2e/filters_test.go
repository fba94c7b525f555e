package e2e

import (
	"slices"
	"strings"
	"testing"
)

// Docker's filter rules on images and ps: one key twice is either (OR),
// except label, where each must match (AND); different keys are all (AND);
// reference selects which names of an image are listed; an unknown key is
// one line and exit 125.
func TestFilters(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("tag", bb, "fa:1", "other:2").MustSucceed(t)
		names := func(args ...string) []string {
			t.Helper()
			got := s.Run(append([]string{"images", "--format", "{{.Repository}}:{{.Tag}}"}, args...)...).MustSucceed(t).Lines()
			slices.Sort(got)
			return got
		}
		if got := names("-f", "reference=fa"); !slices.Equal(got, []string{"fa:1"}) {
			t.Errorf("images -f reference=fa lists %q, want only fa:1 (not the image's other names)", got)
		}
		if got := names("-f", "reference=fa", "-f", "reference=oth*"); !slices.Equal(got, []string{"fa:1", "other:2"}) {
			t.Errorf("images -f reference=fa -f reference=oth* lists %q, want either: fa:1 and other:2", got)
		}
		if got := names("-f", "reference=other", "fa"); !slices.Equal(got, []string{"fa:1", "other:2"}) {
			t.Errorf("images -f reference=other fa lists %q, want either: fa:1 and other:2", got)
		}

		s.Run("create", "--name", "both", "-l", "app=web", "-l", "tier=front", bb, "true").MustSucceed(t)
		s.Run("create", "--name", "one", "-l", "app=web", bb, "true").MustSucceed(t)
		got := s.Run("ps", "-a", "--format", "{{.Names}}", "-f", "label=app=web", "-f", "label=tier=front").MustSucceed(t).Lines()
		if !slices.Equal(got, []string{"both"}) {
			t.Errorf("ps -a -f label=app=web -f label=tier=front lists %q, want both labels to match: only \"both\"", got)
		}

		for _, args := range [][]string{{"images", "-f", "colour=red"}, {"ps", "-a", "--filter", "colour=red"}} {
			r := s.Run(args...).MustFail(t, 125, `unknown filter "colour"`)
			lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "use one of ") || !strings.Contains(lines[0], "label") || r.Stdout != "" {
				t.Errorf("%s: want one line that names the key and lists the valid ones, nothing on stdout\n%s", strings.Join(args, " "), r)
			}
		}
		s.Run("rm", "both", "one").MustSucceed(t)
	})
}
