package e2e

import "testing"

// TestRunOOMKilled: a container that outgrows its memory limit is killed
// by the kernel, exits 137, and inspect says OOMKilled; one that ends by
// itself says not, rootful and rootless (where, without cgroups on this
// host, no limit can be set and the monitor reads no OOM count).
func TestRunOOMKilled(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		s.Run("run", "--name", "fine", "--network", "none", image, "true").MustSucceed(t)
		s.Run("inspect", "--format", "{{.State.OOMKilled}} {{.State.ExitCode}}", "fine").Assert(t, Expect{Stdout: "false 0"})
		if s.Rootless() {
			return
		}
		s.Run("run", "--name", "hog", "--network", "none", "-m", "16m", image,
			"sh", "-c", `x=$(head -c 100000000 /dev/zero | tr "\0" x); echo survived`).Assert(t, Expect{Code: 137, NotStdout: "survived"})
		s.Run("inspect", "--format", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog").Assert(t, Expect{Stdout: "true 137"})
	})
}
