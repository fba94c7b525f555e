package e2e

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// info and version: Docker's JSON keys through --format, the counts of
// containers and images, and the text layout; a bad template exits 125.
func TestSystemInfoVersion(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "up", bb, "sleep", "100").MustSucceed(t)
		s.Run("create", "--name", "idle", bb, "true").MustSucceed(t)
		var info map[string]any
		if err := json.Unmarshal([]byte(s.Run("info", "--format", "{{json .}}").MustSucceed(t).Out()), &info); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"ID", "Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images", "Driver",
			"DriverStatus", "KernelVersion", "OperatingSystem", "OSType", "Architecture", "NCPU", "MemTotal", "DockerRootDir", "Name",
			"ServerVersion", "CgroupDriver", "CgroupVersion", "SecurityOptions", "Runtimes", "DefaultRuntime", "Swarm", "LoggingDriver"} {
			if _, ok := info[k]; !ok {
				t.Errorf("info has no %s", k)
			}
		}
		if info["Containers"] != float64(2) || info["ContainersRunning"] != float64(1) || info["ContainersStopped"] != float64(1) || info["Images"] != float64(1) {
			t.Errorf("info counts: containers %v running %v stopped %v images %v", info["Containers"], info["ContainersRunning"], info["ContainersStopped"], info["Images"])
		}
		// ID: the same at each call, a UUID's form, its own for each store.
		if id := s.Run("info", "-f", "{{.ID}}").MustSucceed(t).Out(); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) || id != info["ID"] {
			t.Errorf("info ID %q (then %v)", id, info["ID"])
		}
		if info["OSType"] != "linux" || info["Driver"] == "" || info["DockerRootDir"] != s.Root {
			t.Errorf("info: OSType %v Driver %v DockerRootDir %v (root %s)", info["OSType"], info["Driver"], info["DockerRootDir"], s.Root)
		}
		opts, _ := json.Marshal(info["SecurityOptions"])
		if strings.Contains(string(opts), "name=rootless") != s.Rootless() || !strings.Contains(string(opts), "name=seccomp") {
			t.Errorf("SecurityOptions %s", opts)
		}
		if got := s.Run("info", "-f", "{{.ContainersRunning}} {{.Skiff.Rootless}}").MustSucceed(t).Out(); got != "1 "+strconv.FormatBool(s.Rootless()) {
			t.Errorf("info -f: %q", got)
		}
		text := s.Run("info").MustSucceed(t).Stdout
		for _, want := range []string{"Server:", " Containers: 2", "  Running: 1", " Images: 1", " Storage Driver: ", " Cgroup Version: "} {
			if !strings.Contains(text, want) {
				t.Errorf("info text lacks %q:\n%s", want, text)
			}
		}
		var v struct {
			Client, Server map[string]any
		}
		if err := json.Unmarshal([]byte(s.Run("version", "--format", "json").MustSucceed(t).Out()), &v); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"Version", "ApiVersion", "GitCommit", "GoVersion", "Os", "Arch", "BuildTime"} {
			if _, ok := v.Client[k]; !ok {
				t.Errorf("version Client has no %s", k)
			}
			if _, ok := v.Server[k]; !ok {
				t.Errorf("version Server has no %s", k)
			}
		}
		if v.Server["MinAPIVersion"] != "1.24" || v.Server["ApiVersion"] != "1.44" {
			t.Errorf("server API versions: %v, min %v", v.Server["ApiVersion"], v.Server["MinAPIVersion"])
		}
		if got := s.Run("version", "-f", "{{.Server.APIVersion}}").MustSucceed(t).Out(); got != "1.44" {
			t.Errorf("version -f: %q", got)
		}
		s.Run("info", "--format", "{{.Nope}}").MustFail(t, 125, "invalid --format template")
		s.Run("version", "--format", "{{").MustFail(t, 125, "invalid --format template")
		s.Run("info", "extra").MustFail(t, 125, "")
		s.Run("rm", "-f", "up", "idle").MustSucceed(t)
	})
}
