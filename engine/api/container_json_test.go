package api

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/skiff-engine/skiff/engine"
	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/storage"
)

// inspectDoc is an inspect document as the engine builds it for a running
// container with a healthcheck, a bind, a volume, a tmpfs, ports and a
// user network.
func inspectDoc() engine.ContainerInspect {
	init := true
	t0 := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	return engine.ContainerInspect{
		ID: "c0ffee" + "0000000000000000000000000000000000000000000000000000000000", Created: "2026-12-03T05:00:00Z",
		Path: "sh", Args: []string{"-c", "sleep 9"}, Image: "sha256:abc", Name: "/web", RestartCount: 1,
		ResolvConfPath: "/r/resolv.conf", HostnamePath: "/r/hostname", HostsPath: "/r/hosts", LogPath: "/r/ctr.log",
		Driver: "overlay", Platform: "linux",
		State: engine.InspectState{Status: "running", Running: true, Pid: 42, StartedAt: "2026-12-03T05:00:01Z", FinishedAt: "0001-01-01T00:00:00Z",
			Health: &engine.Health{Status: "healthy", FailingStreak: 0, Log: []runtime.HealthResult{{Start: t0, End: t0.Add(time.Second), ExitCode: 0, Output: "ok\n"}}}},
		HostConfig: engine.InspectHostConfig{Binds: []string{"/h:/b:ro"}, NetworkMode: "front", AutoRemove: false, Privileged: true,
			ReadonlyRootfs: true, CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"MKNOD"}, Memory: 64 << 20, NanoCpus: 5e8, PidsLimit: 100,
			LogConfig: map[string]any{"Type": "json-file", "Config": map[string]string{"max-size": "10m"}}, Tmpfs: map[string]string{"/t": "size=1m"},
			GroupAdd: []string{"audio"}, SecurityOpt: []string{"no-new-privileges"}, Init: &init,
			Ulimits:       []engine.InspectUlimit{{Name: "nofile", Soft: 1024, Hard: 4096}},
			RestartPolicy: engine.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}},
		Mounts: []engine.InspectMount{{Type: "bind", Source: "/h", Destination: "/b", Mode: "ro", RW: false, Propagation: "rprivate"},
			{Type: "volume", Name: "v", Source: "/s/v/_data", Destination: "/v", Driver: "local", RW: true}},
		Config: engine.InspectContainerConfig{Healthcheck: &engine.Healthcheck{Test: []string{"CMD-SHELL", "true"}, Interval: time.Second, Retries: 2},
			Hostname: "c0ffee000000", User: "1000", Tty: false, OpenStdin: true, Env: []string{"PATH=/bin"}, Cmd: []string{"sleep", "9"},
			Image: "busybox", WorkingDir: "/w", Entrypoint: []string{"sh", "-c"}, Labels: map[string]string{"l": "v"}, StopSignal: "SIGTERM", StopTimeout: 10},
		NetworkSettings: map[string]any{
			"Ports":     map[string]any{"80/tcp": []map[string]string{{"HostIp": "0.0.0.0", "HostPort": "8080"}}, "53/udp": nil},
			"IPAddress": "10.89.0.5", "Gateway": "10.89.0.1", "MacAddress": "92:d0:c6:0a:29:33",
			"Networks": map[string]any{"front": map[string]any{"IPAddress": "10.89.0.5", "Gateway": "10.89.0.1", "IPPrefixLen": 24,
				"MacAddress": "92:d0:c6:0a:29:33", "Aliases": []string{"web"}, "NetworkID": "n1", "EndpointID": "e1",
				"DNSNames": []string{"web", "c0ffee000000"}, "IPAMConfig": map[string]string{"IPv4Address": "10.89.0.5"}}},
		},
	}
}

// keys lists the JSON key paths of v ("State.Health.Log[].Output").
func keys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				out = append(out, p)
				if prefix == "NetworkSettings.Ports" || prefix == "HostConfig.Tmpfs" || prefix == "Config.Labels" ||
					prefix == "NetworkSettings.Networks" || prefix == "HostConfig.LogConfig.Config" {
					walk(prefix+".*", e) // map keys are data
					continue
				}
				walk(p, e)
			}
		case []any:
			for _, e := range v {
				walk(prefix+"[]", e)
			}
		}
	}
	walk("", doc)
	sort.Strings(out)
	return slices.Compact(out)
}

// TestInspectResponseKeys: the converted inspect document keeps every key
// of the engine's (the CLI's inspect output), and what a moby client
// decodes from the CLI's output equals the converted value.
func TestInspectResponseKeys(t *testing.T) {
	doc := inspectDoc()
	got, err := containerInspectResponse(doc)
	if err != nil {
		t.Fatal(err)
	}
	have := keys(t, got)
	for _, k := range keys(t, doc) {
		if k == "NetworkSettings.IPAddress" || k == "NetworkSettings.Gateway" || k == "NetworkSettings.MacAddress" {
			continue // dropped from Docker's NetworkSettings in API 1.52 (moby's type has them per network only)
		}
		if !slices.Contains(have, k) {
			t.Errorf("key %s of the engine's document is lost", k)
		}
	}
	// The CLI's output decoded by a client into moby's type.
	b, _ := json.Marshal(doc)
	var fromCLI container.InspectResponse
	if err := json.Unmarshal(b, &fromCLI); err != nil {
		t.Fatalf("the engine's document does not decode into moby's InspectResponse: %v", err)
	}
	g, _ := json.Marshal(got)
	var fromAPI container.InspectResponse
	if err := json.Unmarshal(g, &fromAPI); err != nil {
		t.Fatal(err)
	}
	fromCLI.HostConfig.NetworkMode = "front"
	fromCLI.Config.ExposedPorts = fromAPI.Config.ExposedPorts // the CLI's Config leaves them to NetworkSettings.Ports
	if !reflect.DeepEqual(normalize(t, fromCLI), normalize(t, fromAPI)) {
		t.Errorf("API inspect differs from the CLI's:\n%s\n%s", normalize(t, fromCLI), normalize(t, fromAPI))
	}
	if got.State.Health.Log[0].Output != "ok\n" || got.HostConfig.Ulimits[0].Hard != 4096 || *got.HostConfig.PidsLimit != 100 ||
		got.Config.Healthcheck.Interval != time.Second || *got.Config.StopTimeout != 10 {
		t.Errorf("values lost: %+v %+v %+v", got.State.Health, got.HostConfig, got.Config)
	}
	if len(got.Config.ExposedPorts) != 2 {
		t.Errorf("Config.ExposedPorts %v, want 80/tcp and 53/udp", got.Config.ExposedPorts)
	}
}

func normalize(t *testing.T, v container.InspectResponse) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContainerSummary(t *testing.T) {
	created := time.Unix(1700000000, 0)
	c := &engine.Container{ID: inspectDoc().ID, Name: "web", ImageID: "abc", Created: created,
		Config: engine.ContainerConfig{Image: "busybox", ImageName: "docker.io/library/busybox:latest", Labels: map[string]string{"l": "v"},
			Spec: runtime.SpecOptions{Args: []string{"sh", "-c", "sleep 9"}, Mounts: []runtime.Mount{
				{Type: "bind", Source: "/h", Destination: "/c", ReadOnly: true}, {Type: "volume", Name: "v", Source: "/vol/v", Destination: "/d"}}},
			Network: engine.ContainerNetwork{Exposed: []engine.Port{{Number: 80, Protocol: "tcp"}, {Number: 53, Protocol: "udp"}}}},
		State: runtime.State{Status: runtime.StatusRunning, StartedAt: time.Now().Add(-time.Minute)}}
	ports := []engine.PortMapping{{ContainerPort: 80, Proto: "tcp", HostPort: 8080}}
	networks := map[string]any{"front": map[string]any{"IPAddress": "10.89.0.5", "Aliases": []string{"web"}, "NetworkID": "n1"}}
	s := containerSummary(c, ports, networks, &engine.ContainerSize{RW: 1, RootFS: 2})
	want := []container.PortSummary{{IP: netip.MustParseAddr("0.0.0.0"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"}, {PrivatePort: 53, Type: "udp"}}
	if !reflect.DeepEqual(s.Ports, want) {
		t.Errorf("Ports %+v, want %+v", s.Ports, want)
	}
	if s.ID != c.ID || !reflect.DeepEqual(s.Names, []string{"/web"}) || s.Image != "busybox" || s.ImageID != "sha256:abc" ||
		s.Command != "sh -c sleep 9" || s.Created != 1700000000 || s.State != container.StateRunning || s.Status != "Up About a minute" ||
		s.SizeRw != 1 || s.SizeRootFs != 2 || s.HostConfig.NetworkMode != "bridge" || s.Labels["l"] != "v" {
		t.Errorf("summary %+v", s)
	}
	if ep := s.NetworkSettings.Networks["front"]; ep == nil || ep.IPAddress.String() != "10.89.0.5" || !slices.Equal(ep.Aliases, []string{"web"}) {
		t.Errorf("Networks %+v", s.NetworkSettings.Networks)
	}
	if len(s.Mounts) != 2 || s.Mounts[0].RW || s.Mounts[0].Mode != "ro" || s.Mounts[1].Name != "v" || s.Mounts[1].Driver != "local" || !s.Mounts[1].RW {
		t.Errorf("Mounts %+v", s.Mounts)
	}
	b, _ := json.Marshal(s)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"Id", "Names", "Image", "ImageID", "Command", "Created", "Ports", "Labels", "State", "Status", "HostConfig", "NetworkSettings", "Mounts", "SizeRw", "SizeRootFs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %s missing from %s", k, b)
		}
	}
}

func TestSmallResponses(t *testing.T) {
	if got := containerCreateResponse(engine.ContainerCreateResult{ID: "x"}); got.ID != "x" || got.Warnings == nil {
		t.Errorf("create %+v: Warnings must be [] as Docker's", got)
	}
	if got := containerWaitResponse(engine.ContainerWaitResult{ExitCode: 3}, nil); got.StatusCode != 3 || got.Error != nil {
		t.Errorf("wait %+v", got)
	}
	if got := containerWaitResponse(engine.ContainerWaitResult{}, errors.New("boom")); got.Error == nil || got.Error.Message != "boom" {
		t.Errorf("wait %+v", got)
	}
	top := containerTopResponse(engine.TopResult{Titles: []string{"PID"}, Processes: [][]string{{"1"}}})
	if !reflect.DeepEqual(top, container.TopResponse{Titles: []string{"PID"}, Processes: [][]string{{"1"}}}) {
		t.Errorf("top %+v", top)
	}
	ch, err := containerChanges(engine.ContainerDiffResult{Changes: []storage.Change{{Kind: "C", Path: "/etc"}, {Kind: "A", Path: "/etc/x"}, {Kind: "D", Path: "/tmp/y"}}})
	if err != nil || !reflect.DeepEqual(ch, []container.FilesystemChange{{Kind: 0, Path: "/etc"}, {Kind: 1, Path: "/etc/x"}, {Kind: 2, Path: "/tmp/y"}}) {
		t.Errorf("changes %+v %v", ch, err)
	}
	if _, err := containerChanges(engine.ContainerDiffResult{Changes: []storage.Change{{Kind: "?", Path: "/x"}}}); err == nil {
		t.Error("an unknown change kind is not an error")
	}
	if b, _ := json.Marshal(ch[1]); string(b) != `{"Kind":1,"Path":"/etc/x"}` {
		t.Errorf("change JSON %s", b)
	}
	p := containerPruneReport(engine.ContainerPruneResult{Removed: []string{"a"}, SpaceReclaimed: 5})
	if b, _ := json.Marshal(p); string(b) != `{"ContainersDeleted":["a"],"SpaceReclaimed":5}` {
		t.Errorf("prune JSON %s", b)
	}
	if b, _ := json.Marshal(containerPruneReport(engine.ContainerPruneResult{})); string(b) != `{"ContainersDeleted":[],"SpaceReclaimed":0}` {
		t.Errorf("empty prune JSON %s", b)
	}
}
