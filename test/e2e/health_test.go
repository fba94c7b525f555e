package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// healthOf is inspect's State.Health.
type healthOf struct {
	Status        string
	FailingStreak int
	Log           []struct {
		Start, End time.Time
		ExitCode   int
		Output     string
	}
}

func inspectHealth(t *testing.T, s *Skiff, name string) healthOf {
	t.Helper()
	var h healthOf
	if err := json.Unmarshal([]byte(inspectOut(t, s, name, "{{json .State.Health}}")), &h); err != nil {
		t.Fatalf("inspect State.Health of %s: %v", name, err)
	}
	return h
}

// A check that passes twice, then fails, turns the container unhealthy
// within interval × retries of the first failure, with the failing output
// in inspect; ps shows and filters it; the monitor runs it all, no systemd.
func TestHealthcheckTurnsUnhealthy(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		check := `n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; echo "check $n"; [ $n -le 2 ]`
		s.Run("run", "-d", "--name", "hc", "--health-cmd", check, "--health-interval", "200ms", "--health-retries", "2", bb, "sleep", "100").MustSucceed(t)
		eventually(t, 5*time.Second, "the container never turned healthy", func() bool {
			return inspectHealth(t, s, "hc").Status == "healthy"
		})
		waitStatus(t, s, "hc", "Up", time.Second)
		// Checks 3 and 4 fail: unhealthy ~400 ms after the first failure.
		var turned time.Time
		eventually(t, 5*time.Second, "the container never turned unhealthy", func() bool {
			h := inspectHealth(t, s, "hc")
			if h.Status != "unhealthy" {
				return false
			}
			turned = time.Now()
			var firstFail time.Time
			for _, r := range h.Log {
				if r.ExitCode == 1 && strings.TrimSpace(r.Output) == "check 3" {
					firstFail = r.Start
				}
			}
			if firstFail.IsZero() {
				t.Fatalf("the failing output is not in the log: %+v", h.Log)
			}
			if d := turned.Sub(firstFail); d > 2*time.Second {
				t.Errorf("unhealthy %v after the first failure (interval 200ms × retries 2)", d)
			}
			if h.FailingStreak < 2 {
				t.Errorf("FailingStreak %d", h.FailingStreak)
			}
			return true
		})
		h := inspectHealth(t, s, "hc")
		if len(h.Log) > 5 {
			t.Errorf("Log keeps %d results, Docker's five at most", len(h.Log))
		}
		for _, r := range h.Log {
			if r.End.Before(r.Start) || r.Start.IsZero() {
				t.Errorf("a result's times: %+v", r)
			}
		}
		waitStatus(t, s, "hc", "Up", time.Second)
		if got := s.Run("ps", "--format", "{{.Status}}", "--filter", "name=hc").MustSucceed(t).Out(); !strings.HasSuffix(got, "(unhealthy)") {
			t.Errorf("ps status %q", got)
		}
		if got := s.Run("ps", "-q", "--filter", "health=unhealthy").MustSucceed(t).Out(); got == "" {
			t.Error("ps --filter health=unhealthy lists nothing")
		}
		if got := s.Run("ps", "-q", "--filter", "health=healthy").MustSucceed(t).Out(); got != "" {
			t.Errorf("ps --filter health=healthy lists %q", got)
		}
		if got := inspectOut(t, s, "hc", "{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}}"); !strings.HasPrefix(got, `["CMD-SHELL",`) || !strings.HasSuffix(got, " 2") {
			t.Errorf("inspect Config.Healthcheck: %q", got)
		}
		// healthcheck run: the monitor runs it; exit 1 when it fails.
		s.Run("healthcheck", "run", "hc").MustFail(t, 1, "")
		// Docker's events, through the monitor's spool.
		ev := s.Run("events", "--since", "1m", "--until", "0s", "--filter", "event=health_status", "--format", "{{.Action}}").MustSucceed(t).Out()
		if ev != "health_status: healthy\nhealth_status: unhealthy" {
			t.Errorf("health_status events: %q", ev)
		}
		s.Run("rm", "-f", "hc").MustSucceed(t)
	})
}

// --health-on-failure=restart restarts an unhealthy container (podman's),
// whatever its restart policy; kill kills it; healthcheck run exits 0
// for a healthy one.
func TestHealthcheckOnFailure(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "hr", "--health-on-failure=restart", "--health-cmd", "false", "--health-interval", "200ms", "--health-retries", "1", bb, "sleep", "100").MustSucceed(t)
		eventually(t, 10*time.Second, "the unhealthy container was not restarted", func() bool {
			n, _ := strconv.Atoi(inspectOut(t, s, "hr", "{{.RestartCount}}"))
			return n >= 1
		})
		s.Run("run", "-d", "--name", "hk", "--health-on-failure=kill", "--health-cmd", "false", "--health-interval", "200ms", "--health-retries", "1", bb, "sleep", "100").MustSucceed(t)
		waitStatus(t, s, "hk", "Exited (137)", 10*time.Second)
		s.Run("run", "-d", "--name", "ok", "--health-cmd", "true", "--health-interval", "30s", bb, "sleep", "100").MustSucceed(t)
		s.Run("healthcheck", "run", "ok").Assert(t, Expect{Code: 0, Stdout: "healthy"})
		if got := inspectHealth(t, s, "ok"); got.Status != "healthy" || len(got.Log) != 1 {
			t.Errorf("after healthcheck run: %+v", got)
		}
		s.Run("rm", "-f", "hr", "hk", "ok").MustSucceed(t)
	})
}

// An image's HEALTHCHECK is run; the container's flags override its fields
// and --no-healthcheck turns it off.
func TestHealthcheckFromImage(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		saved := filepath.Join(s.Dir, "bb.tar")
		s.Run("save", "-o", saved, bb).MustSucceed(t)
		img := withHealthcheck(t, saved, "hc-image:1", map[string]any{
			"Test": []string{"CMD-SHELL", "echo from-image; exit 1"}, "Interval": int64(200 * time.Millisecond), "Retries": 1,
		})
		s.Run("load", "-i", s.WriteFile("hc-image.tar", img)).MustSucceed(t)
		s.Run("run", "-d", "--name", "fromimg", "hc-image:1", "sleep", "100").MustSucceed(t)
		eventually(t, 5*time.Second, "the image's HEALTHCHECK did not run", func() bool {
			h := inspectHealth(t, s, "fromimg")
			return h.Status == "unhealthy" && len(h.Log) > 0 && strings.TrimSpace(h.Log[0].Output) == "from-image"
		})
		// A command of the container's own, the image's interval and retries.
		s.Run("run", "-d", "--name", "own", "--health-cmd", "true", "hc-image:1", "sleep", "100").MustSucceed(t)
		eventually(t, 5*time.Second, "the container's own check did not take over", func() bool {
			return inspectHealth(t, s, "own").Status == "healthy"
		})
		if got := inspectOut(t, s, "own", "{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}"); got != "200000000 1" {
			t.Errorf("merged healthcheck: %q", got)
		}
		s.Run("run", "-d", "--name", "none", "--no-healthcheck", "hc-image:1", "sleep", "100").MustSucceed(t)
		time.Sleep(500 * time.Millisecond)
		if got := inspectOut(t, s, "none", "{{json .State.Health}}"); got != "null" {
			t.Errorf("--no-healthcheck: State.Health %q", got)
		}
		if got := s.Run("ps", "--format", "{{.Status}}", "--filter", "name=none").MustSucceed(t).Out(); strings.Contains(got, "health") {
			t.Errorf("ps of a container without a check: %q", got)
		}
		s.Run("rm", "-f", "fromimg", "own", "none").MustSucceed(t)
	})
}

// withHealthcheck rewrites a docker-archive: its image's config gets hc as
// config.Healthcheck (as a Dockerfile's HEALTHCHECK gives it), and tag.
func withHealthcheck(t *testing.T, archive, tag string, hc map[string]any) []byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	var order []*tar.Header
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
		order = append(order, h)
	}
	var manifest []map[string]any
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json of the saved image: %v", err)
	}
	cfgName := manifest[0]["Config"].(string)
	var cfg map[string]any
	if err := json.Unmarshal(files[cfgName], &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["config"].(map[string]any)["Healthcheck"] = hc
	b, _ := json.Marshal(cfg)
	files[cfgName] = b
	manifest[0]["RepoTags"] = []string{tag}
	files["manifest.json"], _ = json.Marshal(manifest)
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, h := range order {
		h.Size = int64(len(files[h.Name]))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[h.Name])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Bad healthcheck options: one line, exit 125, nothing created.
func TestHealthcheckBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		refusedFlags(t, s, bb, []refused{
			{[]string{"--health-cmd", "true", "--health-interval", "0"}, "--health-interval cannot be 0"},
			{[]string{"--health-cmd", "true", "--health-timeout", "-1s"}, "--health-timeout cannot be negative"},
			{[]string{"--health-cmd", "true", "--health-retries", "-1"}, "--health-retries cannot be negative"},
			{[]string{"--health-cmd", "true", "--health-interval", "soon"}, "invalid --health-interval"},
			{[]string{"--health-cmd", "true", "--health-interval", "100us"}, "Interval in Healthcheck cannot be less than 1ms"},
			{[]string{"--health-cmd", "true", "--no-healthcheck"}, "--no-healthcheck conflicts with --health-* options"},
			{[]string{"--health-cmd", "true", "--health-on-failure", "explode"}, `invalid health-on-failure action "explode"`},
		})
		requireNoContainers(t, s, "refused healthchecks")
		s.Run("healthcheck", "run", "nosuch").MustFail(t, 125, "No such container")
		s.Run("run", "-d", "--name", "plain", bb, "sleep", "100").MustSucceed(t)
		s.Run("healthcheck", "run", "plain").MustFail(t, 125, "container plain has no defined healthcheck")
		s.Run("create", "--name", "idle", "--health-cmd", "true", bb, "true").MustSucceed(t)
		s.Run("healthcheck", "run", "idle").MustFail(t, 125, "is not running")
		s.Run("rm", "-f", "plain", "idle").MustSucceed(t)
	})
}

// refusedFlags runs and creates with each set of bad flags: each must exit
// 125 with its message on one line.
func refusedFlags(t *testing.T, s *Skiff, image string, cases []refused) {
	t.Helper()
	for _, tc := range cases {
		for _, cmd := range []string{"run", "create"} {
			args := append(append([]string{cmd, "--name", "bad"}, tc.flags...), image, "true")
			r := s.Run(args...).MustFail(t, 125, tc.msg)
			if n := strings.Count(strings.TrimSpace(r.Stderr), "\n"); n != 0 {
				t.Errorf("%s: want one line, got\n%s", args, r.Stderr)
			}
		}
	}
}

// refused is a set of flags and the message refusing it.
type refused struct {
	flags []string
	msg   string
}
