package e2e

import (
	"strings"
	"testing"
	"time"
)

// Flags of run, logs, ps and exec not covered elsewhere: what the user
// would check for each.
func TestContainerMoreFlags(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)

		// --ulimit sets soft and hard; above the host's hard limit it is
		// refused before anything is created.
		if got := s.Run("run", "--rm", "--ulimit", "nofile=1024:2048", bb, "sh", "-c", "ulimit -n; ulimit -Hn").MustSucceed(t).Out(); got != "1024\n2048" {
			t.Errorf("--ulimit nofile=1024:2048: %q", got)
		}
		// inspect gives the flags back in Docker's HostConfig fields.
		s.Run("create", "--name", "flagged", "--init", "--ulimit", "nofile=100:200", "--security-opt", "no-new-privileges", bb, "true").MustSucceed(t)
		if got := s.Run("inspect", "-f", "{{.HostConfig.Init}} {{json .HostConfig.Ulimits}} {{json .HostConfig.SecurityOpt}} {{.HostConfig.RestartPolicy.Name}}", "flagged").MustSucceed(t).Out(); got != `true [{"Hard":200,"Name":"nofile","Soft":100}] ["no-new-privileges"] no` {
			t.Errorf("inspect HostConfig Init, Ulimits, SecurityOpt, RestartPolicy: %s", got)
		}
		s.Run("rm", "flagged").MustSucceed(t)
		before := psIDs(t, s)
		s.Run("run", "--rm", "--ulimit", "nofile=100000000:100000000", bb, "true").MustFail(t, 125, "nofile")
		if got := psIDs(t, s); len(got) != len(before) {
			t.Errorf("a refused --ulimit left a container: %q", got)
		}

		// --cpus and --pids-limit reach the container's cgroup (rootful);
		// rootless on this host they are refused clearly.
		if s.Rootless() {
			s.Run("run", "--rm", "--pids-limit", "50", bb, "true").MustFail(t, 125, "cgroup")
		} else {
			got := s.Run("run", "--rm", "--cpus", "0.5", "--pids-limit", "50", bb, "sh", "-c",
				"cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/pids/pids.max").MustSucceed(t).Out()
			if got != "50000\n100000\n50" {
				t.Errorf("--cpus 0.5 --pids-limit 50: quota, period, pids.max = %q", got)
			}
		}

		// --pull always fetches the image again; --pull never does not.
		reg := SharedRegistry(t)
		s.WriteRegistriesConf(InsecureRegistry(reg.Host))
		ref := PushImage(t, reg, Repo(t), "v1", Busybox(t))
		s.Run("run", "--rm", "--pull", "never", ref, "true").MustFail(t, 125, "No such image")
		r := s.Run("run", "--rm", ref, "echo", "pulled")
		if r.ExitCode != 0 || r.Out() != "pulled" || !strings.Contains(r.Stderr, "Unable to find image") {
			t.Errorf("run of an image that is not local should pull it:\n%s", r)
		}
		// The image is local now: only --pull always asks the registry.
		if r := s.Run("run", "--rm", ref, "true").MustSucceed(t); strings.Contains(r.Stderr, "Pulling from") {
			t.Errorf("run of a local image pulled it again:\n%s", r)
		}
		if r := s.Run("run", "--rm", "--pull", "always", ref, "true").MustSucceed(t); !strings.Contains(r.Stderr, "Pulling from") || !strings.Contains(r.Stderr, "Image is up to date") {
			t.Errorf("--pull always should pull (and find the image up to date):\n%s", r)
		}
		s.Run("run", "--rm", "--pull", "sometimes", bb, "true").MustFail(t, 125, "invalid pull policy")

		// logs --since and --until cut at a time between two lines.
		s.Run("run", "--name", "twolines", bb, "sh", "-c", "echo first; sleep 1; echo second").MustSucceed(t)
		stamped := s.Run("logs", "-t", "twolines").MustSucceed(t).Lines()
		if len(stamped) != 2 {
			t.Fatalf("logs -t: %q", stamped)
		}
		t1, err1 := time.Parse(time.RFC3339Nano, strings.Fields(stamped[0])[0])
		t2, err2 := time.Parse(time.RFC3339Nano, strings.Fields(stamped[1])[0])
		if err1 != nil || err2 != nil {
			t.Fatalf("logs -t timestamps: %v %v", err1, err2)
		}
		mid := t1.Add(t2.Sub(t1) / 2).Format(time.RFC3339Nano)
		if got := s.Run("logs", "--since", mid, "twolines").MustSucceed(t).Out(); got != "second" {
			t.Errorf("logs --since %s: %q, want second", mid, got)
		}
		if got := s.Run("logs", "--until", mid, "twolines").MustSucceed(t).Out(); got != "first" {
			t.Errorf("logs --until %s: %q, want first", mid, got)
		}
		s.Run("logs", "--since", "yesterday-ish", "twolines").MustFail(t, 125, "")

		// ps -n, and the filters by id, exited code and ancestor.
		s.Run("run", "--name", "three", bb, "sh", "-c", "exit 3").MustFail(t, 3, "")
		three := s.Run("inspect", "-f", "{{.Id}}", "three").MustSucceed(t).Out()
		if got := s.Run("ps", "-n", "1", "--format", "{{.Names}}").MustSucceed(t).Out(); got != "three" {
			t.Errorf("ps -n 1: %q, want the last created, three", got)
		}
		if got := s.Run("ps", "-a", "-q", "--filter", "id="+three[:8]).MustSucceed(t).Out(); got != three[:12] {
			t.Errorf("ps --filter id=%s: %q", three[:8], got)
		}
		if got := s.Run("ps", "-a", "--filter", "exited=3", "--format", "{{.Names}}").MustSucceed(t).Out(); got != "three" {
			t.Errorf("ps --filter exited=3: %q", got)
		}
		if got := s.Run("ps", "-a", "--filter", "ancestor="+bb, "--format", "{{.Names}}").MustSucceed(t).Lines(); len(got) != 2 {
			t.Errorf("ps --filter ancestor=%s: %q, want twolines and three", bb, got)
		}

		// exec -d returns at once; the command runs on in the container.
		s.Run("run", "-d", "--name", "host", bb, "sleep", "1000").MustSucceed(t)
		if r := s.Run("exec", "-d", "host", "sh", "-c", "sleep 1; echo done > /marker"); r.ExitCode != 0 || r.Duration > 900*time.Millisecond {
			t.Errorf("exec -d should return at once: exit %d after %v", r.ExitCode, r.Duration)
		}
		eventually(t, 10*time.Second, "exec -d's command never wrote /marker", func() bool {
			return s.Run("exec", "host", "cat", "/marker").Out() == "done"
		})
		s.Run("rm", "-f", "twolines", "three", "host").MustSucceed(t)
		requireClean(t, s, "rm -f")
	})
}
