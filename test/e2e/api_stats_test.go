package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// webLoop is a busy container with a symlink to /etc in its /tmp: a copy
// into the link must land in the container's /etc, never the host's.
var webLoop = []string{"sh", "-c", "ln -s /etc /tmp/etclink; while :; do :; done"}

// The docker CLI through the shim: stats --no-stream, update, cp both
// ways (through a container symlink too); curl's bad input; the stats
// stream's samples.
func TestAPIStatsUpdateCp(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := setup(t, s)
		a := startService(t, s, "--time", "0")
		run := []string{"run", "-d", "--name", "web"}
		limit := hostMemory(t)
		if !s.Rootless() {
			run, limit = append(run, "--memory", "64m"), "64MiB"
		}
		id := a.mustDocker(t, append(append(run, image), webLoop...)...)

		// stats --no-stream: docker's own columns and arithmetic on our
		// samples.
		rows := statsTable(t, a.mustDocker(t, "stats", "--no-stream"))
		web := rows["web"]
		if len(rows) != 1 || web == nil || web[0] != id[:12] {
			t.Fatalf("docker stats --no-stream: %v", rows)
		}
		if cpu := percent(t, web[2]); cpu <= 0 {
			t.Errorf("docker stats: CPU %% of a busy container %v", cpu)
		}
		if !strings.HasSuffix(web[3], " / "+limit) || web[7] != "1" {
			t.Errorf("docker stats: MEM USAGE / LIMIT %q, PIDS %q; want / %s, 1", web[3], web[7], limit)
		}

		// update: the limit in the cgroup (rootful), the policy for both.
		if s.Rootless() {
			out, err := a.docker(t, "update", "--memory", "100m", "web")
			if err == nil || !strings.Contains(out, "a memory limit cannot be applied") {
				t.Errorf("docker update --memory of a rootless container: %v: %s", err, out)
			}
		} else {
			if out := a.mustDocker(t, "update", "--memory", "100m", "web"); out != "web" {
				t.Errorf("docker update printed %q", out)
			}
			if got := cgroupValue(t, id, "memory", "memory.limit_in_bytes", "memory.max"); got != "104857600" {
				t.Errorf("memory limit in the cgroup after docker update: %s", got)
			}
		}
		a.mustDocker(t, "update", "--restart", "on-failure:2", "web")
		if got := inspectOut(t, s, "web", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"); got != "on-failure:2" {
			t.Errorf("restart policy after docker update: %q", got)
		}
		if out, err := a.docker(t, "update", "--blkio-weight", "300", "web"); err == nil || !strings.Contains(out, "BlkioWeight: not supported") {
			t.Errorf("docker update --blkio-weight: %v: %s", err, out)
		}

		// cp both ways, and into the container's symlink to /etc.
		name := "skiff-cp-" + id[:12] + ".txt"
		src := filepath.Join(s.Dir, name)
		if err := os.WriteFile(src, []byte("from the host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		a.mustDocker(t, "cp", src, "web:/tmp/")
		s.Run("exec", "web", "cat", "/tmp/"+name).Assert(t, Expect{Stdout: "from the host\n"})
		a.mustDocker(t, "cp", src, "web:/tmp/etclink/")
		s.Run("exec", "web", "cat", "/etc/"+name).Assert(t, Expect{Stdout: "from the host\n"})
		if _, err := os.Lstat("/etc/" + name); err == nil {
			os.Remove("/etc/" + name)
			t.Errorf("docker cp through the container's symlink wrote the host's /etc/%s", name)
		}
		dst := t.TempDir()
		a.mustDocker(t, "cp", "web:/etc/hostname", dst)
		want := s.Run("exec", "web", "cat", "/etc/hostname").MustSucceed(t).Stdout
		if b, err := os.ReadFile(filepath.Join(dst, "hostname")); err != nil || string(b) != want {
			t.Errorf("docker cp out of the container: %q, %v; want %q", b, err, want)
		}

		// Bad input: Docker's statuses, {"message"}, and nothing changed.
		var tarball bytes.Buffer
		tw := tar.NewWriter(&tarball)
		tw.WriteHeader(&tar.Header{Name: "x", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
		tw.Close()
		body := s.WriteFile("x.tar", tarball.Bytes())
		for _, c := range []struct {
			args   []string
			status int
			msg    string
		}{
			{[]string{"http://d/containers/nosuch/stats?stream=false"}, 404, "No such container"},
			{[]string{"http://d/containers/web/stats?stream=true&one-shot=true"}, 400, "one-shot"},
			{[]string{"-I", "http://d/containers/web/archive?path=/nope"}, 404, ""},
			{[]string{"http://d/containers/web/archive?path=/nope"}, 404, "/nope"},
			{[]string{"http://d/containers/web/archive"}, 400, "path"},
			{[]string{"-X", "PUT", "--data-binary", "@" + body, "http://d/containers/web/archive?path=/etc/hostname"}, 400, "not a directory"},
			{[]string{"-X", "PUT", "--data-binary", "@" + body, "http://d/containers/web/archive?path=/nope"}, 404, ""},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Memory":134217728}`, "http://d/containers/nosuch/update"}, 404, "No such container"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"BlkioWeight":300,"MemorySwappiness":10}`, "http://d/containers/web/update"}, 400, "BlkioWeight, MemorySwappiness: not supported"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"Memory":"lots"}`, "http://d/containers/web/update"}, 400, "invalid JSON"},
			{[]string{"-X", "POST", "-H", "Content-Type: application/json", "-d", `{"RestartPolicy":{"Name":"sometimes"}}`, "http://d/containers/web/update"}, 400, "unknown policy"},
		} {
			status, _, got := a.curl(t, c.args...)
			if status != c.status || !strings.Contains(got, c.msg) || (c.args[0] != "-I" && !strings.HasPrefix(got, `{"message":`)) {
				t.Errorf("curl %v: %d %q; want %d with %q", c.args, status, got, c.status, c.msg)
			}
		}
		if got := inspectOut(t, s, "web", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"); got != "on-failure:2" {
			t.Errorf("after refused updates: %q", got)
		}
		status, h, _ := a.curl(t, "-I", "http://d/containers/web/archive?path=/etc/hostname")
		var st container.PathStat
		if status != 200 || json.NewDecoder(base64Reader(h.Get("X-Docker-Container-Path-Stat"))).Decode(&st) != nil || st.Name != "hostname" || st.Size != int64(len(want)) {
			t.Errorf("HEAD archive: %d, stat %+v", status, st)
		}

		// The stream: a sample a second, the first without a previous one
		// (Docker's), the next with the first as its previous.
		out, _ := exec.Command("curl", "-sS", "--max-time", "2.7", "--unix-socket", a.sock, "http://d/containers/web/stats").Output()
		dec := json.NewDecoder(bytes.NewReader(out))
		var samples []container.StatsResponse
		for {
			var sr container.StatsResponse
			if dec.Decode(&sr) != nil {
				break
			}
			samples = append(samples, sr)
		}
		if len(samples) < 2 || len(samples) > 4 {
			t.Fatalf("%d samples in 2.7 s: %s", len(samples), out)
		}
		first, second := samples[0], samples[1]
		if first.Name != "/web" || first.ID != id || first.CPUStats.OnlineCPUs == 0 || first.CPUStats.SystemUsage == 0 || first.MemoryStats.Limit == 0 {
			t.Errorf("first sample: %+v", first)
		}
		if first.PreCPUStats.SystemUsage != 0 || !first.PreRead.IsZero() {
			t.Errorf("first streamed sample has a previous one: %+v", first.PreCPUStats)
		}
		if second.PreCPUStats.CPUUsage.TotalUsage != first.CPUStats.CPUUsage.TotalUsage || !second.PreRead.Equal(first.Read) {
			t.Errorf("second sample's previous is not the first: %+v vs %+v", second.PreCPUStats, first.CPUStats)
		}
		if d := second.Read.Sub(first.Read); d < 900*time.Millisecond || d > 1500*time.Millisecond {
			t.Errorf("samples %v apart, want a second", d)
		}
		a.mustDocker(t, "rm", "-f", "web")
	})
}

// The moby Go client's ContainerStats: with the previous sample (stream
// false) its precpu_stats are filled; one-shot has none.
func TestAPIGoClientStats(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := setup(t, s)
		s.Run(append([]string{"run", "-d", "--name", "gostats", image}, busyLoop...)...).MustSucceed(t)
		a := startService(t, s, "--time", "0")
		cli, err := client.New(client.WithHost("unix://"+a.sock), client.WithAPIVersionNegotiation())
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sample := func(o client.ContainerStatsOptions) container.StatsResponse {
			res, err := cli.ContainerStats(ctx, "gostats", o)
			if err != nil {
				t.Fatalf("ContainerStats %+v: %v", o, err)
			}
			defer res.Body.Close()
			var sr container.StatsResponse
			if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
				t.Fatalf("ContainerStats %+v: %v", o, err)
			}
			return sr
		}
		sr := sample(client.ContainerStatsOptions{IncludePreviousSample: true})
		pre := sr.PreCPUStats
		if pre.SystemUsage == 0 || pre.CPUUsage.TotalUsage == 0 || pre.OnlineCPUs == 0 || !sr.PreRead.Before(sr.Read) {
			t.Errorf("stream=false: precpu_stats %+v, preread %v, read %v", pre, sr.PreRead, sr.Read)
		}
		if sr.CPUStats.CPUUsage.TotalUsage <= pre.CPUUsage.TotalUsage || sr.CPUStats.SystemUsage <= pre.SystemUsage {
			t.Errorf("a busy container's CPU did not grow between the samples: %+v then %+v", pre, sr.CPUStats)
		}
		if sr.PidsStats.Current != 1 || sr.MemoryStats.Usage == 0 {
			t.Errorf("pids %+v, memory %+v", sr.PidsStats, sr.MemoryStats)
		}
		one := sample(client.ContainerStatsOptions{})
		if one.PreCPUStats.SystemUsage != 0 || one.CPUStats.SystemUsage == 0 {
			t.Errorf("one-shot: precpu %+v, cpu %+v", one.PreCPUStats, one.CPUStats)
		}
		if _, err := cli.ContainerStats(ctx, "nosuch", client.ContainerStatsOptions{}); err == nil || !strings.Contains(err.Error(), "No such container") {
			t.Errorf("ContainerStats of an unknown container: %v", err)
		}
		s.Run("rm", "-f", "gostats").MustSucceed(t)
	})
}

func base64Reader(s string) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, strings.NewReader(s))
}

// POST /containers/{id}/resize reaches the container's terminal; bad
// sizes, a stopped and an unknown container are Docker's 400, 409, 404.
func TestAPIContainerResize(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := setup(t, s)
		s.Run("run", "-d", "-t", "--name", "tty", image, "sh", "-c", "while :; do stty size; sleep 0.2; done").MustSucceed(t)
		s.Run("create", "--name", "idle", image, "true").MustSucceed(t)
		a := startService(t, s, "--time", "0")
		if status, _, body := a.curl(t, "-X", "POST", "http://d/containers/tty/resize?h=40&w=100"); status != 200 || body != "" {
			t.Fatalf("resize: %d %q", status, body)
		}
		eventually(t, 10*time.Second, "the container's terminal is not 40x100", func() bool {
			return strings.Contains(s.Run("logs", "tty").Stdout, "40 100")
		})
		for _, c := range []struct {
			url    string
			status int
			msg    string
		}{
			{"http://d/containers/tty/resize?h=abc&w=100", 400, `invalid h \"abc\"`},
			{"http://d/containers/tty/resize?h=40", 400, `invalid w \"\"`},
			{"http://d/containers/idle/resize?h=40&w=100", 409, "is not running"},
			{"http://d/containers/nosuch/resize?h=40&w=100", 404, "No such container"},
		} {
			if status, _, body := a.curl(t, "-X", "POST", c.url); status != c.status || !strings.Contains(body, c.msg) {
				t.Errorf("POST %s: %d %q; want %d with %q", c.url, status, body, c.status, c.msg)
			}
		}
		s.Run("rm", "-f", "tty", "idle").MustSucceed(t)
	})
}
