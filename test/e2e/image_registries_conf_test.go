package e2e

import (
	"fmt"
	"testing"
)

// TestImageRegistriesConf: short-name aliases, unqualified-search-registries
// and blocked registries from containers-registries.conf(5).
func TestImageRegistriesConf(t *testing.T) {
	t.Parallel()
	img := Busybox(t)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		reg := SharedRegistry(t)
		aliased := Repo(t)
		PushImage(t, reg, aliased, "latest", img)
		searched := "searched-" + string(s.Mode)
		PushImage(t, reg, searched, "latest", img)
		s.WriteRegistriesConf(fmt.Sprintf(`unqualified-search-registries = [%q]

[[registry]]
location = %q
insecure = true

[[registry]]
location = "blocked.example.com"
blocked = true

[aliases]
"myalias" = "%s/%s"
`, reg.Host, reg.Host, reg.Host, aliased))

		s.Run("pull", "-q", "myalias").Assert(t, Expect{Stdout: reg.Host + "/" + aliased + ":latest"})
		s.Run("pull", "-q", searched).Assert(t, Expect{Stdout: reg.Host + "/" + searched + ":latest"})
		r := s.Run("pull", "blocked.example.com/x/y").MustFail(t, 125, "blocked")
		requireOneLine(t, r)
	})
}
