package e2e

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// curlCase is one bad request and Docker's answer to it.
type curlCase struct {
	args   []string
	status int
	msg    string
}

// checkCurl runs each case: its status, a {"message"} body holding msg,
// Docker's headers.
func checkCurl(t *testing.T, a *apiService, cases []curlCase) {
	t.Helper()
	for _, c := range cases {
		status, h, body := a.curl(t, c.args...)
		if status != c.status || !strings.Contains(body, `"message":`) || !strings.Contains(body, c.msg) {
			t.Errorf("curl %q: %d %q, want %d with a message containing %q", c.args, status, body, c.status, c.msg)
		}
		if h.Get("Api-Version") == "" {
			t.Errorf("curl %q: no Api-Version header", c.args)
		}
	}
}

func postJSON(body, url string) []string {
	return []string{"-X", "POST", "-H", "Content-Type: application/json", "-d", body, url}
}

// TestAPIVolumes: docker volume create/ls/inspect/rm/prune through the
// shim, Docker's prune semantics by API version, and bad input.
func TestAPIVolumes(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		if out := a.mustDocker(t, "volume", "create", "--label", "team=a", "vol1"); out != "vol1" {
			t.Errorf("docker volume create: %q", out)
		}
		a.mustDocker(t, "volume", "create", "vol2")
		lines := strings.Split(a.mustDocker(t, "volume", "ls"), "\n")
		if !regexp.MustCompile(`^DRIVER\s+VOLUME NAME$`).MatchString(lines[0]) || !slicesHasMatch(lines[1:], `^local\s+vol1$`) || !slicesHasMatch(lines[1:], `^local\s+vol2$`) {
			t.Errorf("docker volume ls:\n%s", strings.Join(lines, "\n"))
		}
		if out := a.mustDocker(t, "volume", "ls", "-q", "--filter", "label=team=a"); out != "vol1" {
			t.Errorf("docker volume ls --filter label=team=a: %q", out)
		}
		out := a.mustDocker(t, "volume", "inspect", "--format", "{{.Name}} {{.Driver}} {{.Labels.team}} {{.Scope}} {{.Mountpoint}}", "vol1")
		if f := strings.Fields(out); len(f) != 5 || strings.Join(f[:4], " ") != "vol1 local a local" || !strings.HasSuffix(f[4], "/vol1/_data") {
			t.Errorf("docker volume inspect: %q", out)
		}
		var vs []map[string]any
		if err := json.Unmarshal([]byte(a.mustDocker(t, "volume", "inspect", "vol1")), &vs); err != nil || len(vs) != 1 {
			t.Fatalf("docker volume inspect: %v %v", err, vs)
		}
		v := vs[0]
		for _, k := range []string{"CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"} {
			if _, ok := v[k]; !ok {
				t.Errorf("docker volume inspect has no %s: %v", k, v)
			}
		}

		// in use: 409 and the docker CLI's failure; free again after rm.
		a.mustDocker(t, "run", "-d", "--name", "vuser", "-v", "vol1:/data", image, "sleep", "60")
		if out, err := a.docker(t, "volume", "rm", "vol1"); err == nil || !strings.Contains(out, "volume is in use") {
			t.Errorf("docker volume rm of a used volume: %v %q", err, out)
		}
		checkCurl(t, a, []curlCase{{[]string{"-X", "DELETE", "http://d/volumes/vol1"}, 409, "in use"}})
		if out := a.mustDocker(t, "volume", "ls", "-q", "--filter", "dangling=true"); out != "vol2" {
			t.Errorf("docker volume ls --filter dangling=true: %q", out)
		}
		a.mustDocker(t, "rm", "-f", "vuser")
		a.mustDocker(t, "volume", "rm", "vol1")

		// prune: anonymous volumes only, unless -a; API 1.41 prunes all.
		a.mustDocker(t, "create", "--name", "anon", "-v", "/anon", image, "true")
		anon := a.mustDocker(t, "inspect", "--format", "{{range .Mounts}}{{.Name}}{{end}}", "anon")
		a.mustDocker(t, "rm", "anon")
		out = a.mustDocker(t, "volume", "prune", "-f")
		if !strings.Contains(out, anon) || strings.Contains(out, "vol2") || !strings.Contains(out, "Total reclaimed space") {
			t.Errorf("docker volume prune (anonymous %s):\n%s", anon, out)
		}
		if out := a.mustDocker(t, "volume", "prune", "-af"); !strings.Contains(out, "vol2") {
			t.Errorf("docker volume prune -a:\n%s", out)
		}
		a.mustDocker(t, "volume", "create", "vol3")
		if status, _, body := a.curl(t, "-X", "POST", "http://d/v1.41/volumes/prune"); status != 200 || !strings.Contains(body, `"VolumesDeleted":["vol3"]`) {
			t.Errorf("POST /v1.41/volumes/prune: %d %s", status, body)
		}
		if status, _, body := a.curl(t, postJSON(`{"Name":"api1","Labels":{"x":"y"}}`, "http://d/volumes/create")...); status != 201 || !strings.Contains(body, `"Name":"api1"`) || !strings.Contains(body, `"Labels":{"x":"y"}`) {
			t.Errorf("POST /volumes/create: %d %s", status, body)
		}
		if status, _, body := a.curl(t, "http://d/volumes"); status != 200 || !strings.Contains(body, `"Warnings":[]`) || !strings.Contains(body, `"Name":"api1"`) {
			t.Errorf("GET /volumes: %d %s", status, body)
		}

		checkCurl(t, a, []curlCase{
			{[]string{"http://d/volumes/nope"}, 404, "nope"},
			{[]string{"-X", "DELETE", "http://d/volumes/nope"}, 404, "nope"},
			{postJSON(`{"Name":3}`, "http://d/volumes/create"), 400, "invalid JSON"},
			{postJSON(`{"Name":`, "http://d/volumes/create"), 400, "invalid JSON"},
			{postJSON(`{"Name":"a/b"}`, "http://d/volumes/create"), 400, "invalid volume name"},
			{postJSON(`{"Name":"xx","Driver":"nfs"}`, "http://d/volumes/create"), 400, "nfs"},
			{[]string{`http://d/volumes?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D`}, 400, "bogus"},
			{[]string{"-X", "POST", `http://d/volumes/prune?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D`}, 400, "bogus"},
		})
		if out := a.mustDocker(t, "volume", "ls", "-q"); out != "api1" {
			t.Errorf("volumes after the bad requests: %q, want only api1", out)
		}
	})
}

// TestAPINetworks: docker network create/ls/inspect/connect/disconnect/
// rm/prune through the shim, the default network called bridge, and bad
// input.
func TestAPINetworks(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		id := a.mustDocker(t, "network", "create", "--label", "team=a", "--subnet", "10.97.3.0/24", "net1")
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
			t.Fatalf("docker network create: %q", id)
		}
		lines := strings.Split(a.mustDocker(t, "network", "ls"), "\n")
		if !regexp.MustCompile(`^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$`).MatchString(lines[0]) ||
			!slicesHasMatch(lines[1:], `^[0-9a-f]{12}\s+bridge\s+bridge\s+local$`) || !slicesHasMatch(lines[1:], `^`+id[:12]+`\s+net1\s+bridge\s+local$`) {
			t.Errorf("docker network ls:\n%s", strings.Join(lines, "\n"))
		}
		if out := a.mustDocker(t, "network", "ls", "--format", "{{.Name}}", "--filter", "label=team=a"); out != "net1" {
			t.Errorf("docker network ls --filter label=team=a: %q", out)
		}
		if out := a.mustDocker(t, "network", "inspect", "--format", "{{.Name}} {{.Id}} {{.Driver}} {{.Scope}} {{(index .IPAM.Config 0).Subnet}} {{.Labels.team}}", "net1"); out != "net1 "+id+" bridge local 10.97.3.0/24 a" {
			t.Errorf("docker network inspect: %q", out)
		}
		if out := a.mustDocker(t, "network", "inspect", "--format", "{{.Name}} {{.Driver}}", "bridge"); out != "bridge bridge" {
			t.Errorf("docker network inspect bridge: %q", out)
		}
		if out, err := a.docker(t, "network", "create", "net1"); err == nil || !strings.Contains(out, "net1") {
			t.Errorf("docker network create of a taken name: %v %q", err, out)
		}
		if out, err := a.docker(t, "network", "create", "-d", "overlay", "ov"); err == nil || !strings.Contains(out, "overlay") {
			t.Errorf("docker network create -d overlay: %v %q", err, out)
		}

		// connect with an alias and an address; disconnect. (The
		// container starts on a user network: rootless, the default one is
		// slirp4netns, which joins no other.)
		a.mustDocker(t, "network", "create", "base")
		a.mustDocker(t, "run", "-d", "--name", "nc", "--network", "base", image, "sleep", "60")
		a.mustDocker(t, "network", "connect", "--alias", "web", "--ip", "10.97.3.7", "net1", "nc")
		if out := a.mustDocker(t, "network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{.IPv4Address}} {{.MacAddress}}{{end}}", "net1"); !regexp.MustCompile(`^nc 10\.97\.3\.7/24 ([0-9a-f]{2}:){5}[0-9a-f]{2}$`).MatchString(out) {
			t.Errorf("docker network inspect after connect: %q", out)
		}
		if out := a.mustDocker(t, "inspect", "--format", "{{(index .NetworkSettings.Networks \"net1\").IPAddress}} {{index (index .NetworkSettings.Networks \"net1\").Aliases 0}}", "nc"); out != "10.97.3.7 web" {
			t.Errorf("docker inspect nc after connect: %q", out)
		}
		// The list shows each container's networks and mounts, as Docker's.
		a.mustDocker(t, "run", "-d", "--name", "nv", "--network", "base", "-v", "nvdata:/data", "-v", s.Dir+":/host:ro", image, "sleep", "60")
		if out := a.mustDocker(t, "ps", "--filter", "name=nc", "--format", "{{.Networks}}"); out != "base,net1" && out != "net1,base" {
			t.Errorf("docker ps {{.Networks}} of nc: %q", out)
		}
		if out := a.mustDocker(t, "ps", "--no-trunc", "--filter", "name=nv", "--format", "{{.Networks}} {{.Mounts}}"); out != "base nvdata,"+s.Dir && out != "base "+s.Dir+",nvdata" {
			t.Errorf("docker ps {{.Networks}} {{.Mounts}} of nv: %q", out)
		}
		_, _, body := a.curl(t, "http://d/containers/json?filters=%7B%22name%22%3A%5B%22nc%22%5D%7D")
		var list []struct {
			NetworkSettings struct {
				Networks map[string]struct{ IPAddress string }
			}
		}
		if json.Unmarshal([]byte(body), &list); len(list) != 1 || list[0].NetworkSettings.Networks["net1"].IPAddress != "10.97.3.7" {
			t.Errorf("GET /containers/json of nc: no address on net1: %s", body)
		}
		a.mustDocker(t, "rm", "-f", "-v", "nv")
		a.mustDocker(t, "volume", "rm", "nvdata")
		if out, err := a.docker(t, "network", "rm", "net1"); err == nil || !strings.Contains(out, "in use") {
			t.Errorf("docker network rm of a used network: %v %q", err, out)
		}
		a.mustDocker(t, "network", "disconnect", "net1", "nc")
		if out := a.mustDocker(t, "network", "inspect", "--format", "{{len .Containers}}", "net1"); out != "0" {
			t.Errorf("containers on net1 after disconnect: %q", out)
		}
		if out, err := a.docker(t, "network", "rm", "bridge"); err == nil || !strings.Contains(out, "bridge is a pre-defined network and cannot be removed") {
			t.Errorf("docker network rm bridge: %v %q", err, out)
		}
		checkCurl(t, a, []curlCase{{[]string{"-X", "DELETE", "http://d/networks/bridge"}, 403, "pre-defined"}})
		a.mustDocker(t, "network", "rm", "net1")
		a.mustDocker(t, "network", "create", "net2")
		if out := a.mustDocker(t, "network", "prune", "-f"); !strings.Contains(out, "Deleted Networks:") || !strings.Contains(out, "net2") || strings.Contains(out, "base") {
			t.Errorf("docker network prune:\n%s", out)
		}
		if status, _, body := a.curl(t, postJSON(`{"Name":"api1","CheckDuplicate":true}`, "http://d/networks/create")...); status != 201 || !regexp.MustCompile(`^\{"Id":"[0-9a-f]{64}","Warning":""\}`).MatchString(body) {
			t.Errorf("POST /networks/create: %d %s", status, body)
		}

		checkCurl(t, a, []curlCase{
			{[]string{"http://d/networks/nope"}, 404, "nope"},
			{[]string{"-X", "DELETE", "http://d/networks/nope"}, 404, "nope"},
			{postJSON(`{"Name":"api1"}`, "http://d/networks/create"), 409, "api1"},
			{postJSON(`{"Name":"x","Driver":"macvlan"}`, "http://d/networks/create"), 400, "macvlan"},
			{postJSON(`{"Name":"x","EnableIPv6":true}`, "http://d/networks/create"), 400, "IPv6"},
			{postJSON(`{"Name":"x","IPAM":{"Config":[{"Subnet":"not-a-cidr"}]}}`, "http://d/networks/create"), 400, "invalid JSON"},
			{postJSON(`{"Name":4}`, "http://d/networks/create"), 400, "invalid JSON"},
			{postJSON(`{"Name":`, "http://d/networks/create"), 400, "invalid JSON"},
			{postJSON(`{}`, "http://d/networks/api1/connect"), 400, "container"},
			{postJSON(`{"Container":"nope"}`, "http://d/networks/api1/connect"), 404, "nope"},
			{postJSON(`{"Container":"nc"}`, "http://d/networks/nope/connect"), 404, "nope"},
			{postJSON(`{"Container":"nc","EndpointConfig":{"Aliases":"x"}}`, "http://d/networks/api1/connect"), 400, "invalid JSON"},
			{postJSON(`{"Container":7}`, "http://d/networks/api1/disconnect"), 400, "invalid JSON"},
			{[]string{`http://d/networks?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D`}, 400, "bogus"},
			{[]string{"-X", "POST", `http://d/networks/prune?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D`}, 400, "bogus"},
		})
		names := strings.Fields(a.mustDocker(t, "network", "ls", "--format", "{{.Name}}"))
		slices.Sort(names)
		if strings.Join(names, " ") != "api1 base bridge" {
			t.Errorf("networks after the bad requests: %q, want api1, base and bridge", names)
		}
	})
}

func slicesHasMatch(lines []string, pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}
