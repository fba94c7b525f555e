package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/opencontainers/go-digest"

	"github.com/skiff-engine/skiff/engine"
)

func TestPullName(t *testing.T) {
	for _, c := range []struct{ from, tag, want string }{
		{"busybox", "", "busybox"},
		{"busybox", "1.36", "busybox:1.36"},
		{"busybox:old", "new", "busybox:new"},
		{"localhost:5000/a/b", "1", "localhost:5000/a/b:1"},
		{"localhost:5000/a/b:2", "1", "localhost:5000/a/b:1"},
		{"a/b", "sha256:" + strings.Repeat("a", 64), "a/b@sha256:" + strings.Repeat("a", 64)},
		{"a/b@sha256:" + strings.Repeat("b", 64), "x", "a/b:x"},
	} {
		if got := pullName(c.from, c.tag); got != c.want {
			t.Errorf("pullName(%q, %q) = %q, want %q", c.from, c.tag, got, c.want)
		}
	}
}

func TestPlatformParam(t *testing.T) {
	for in, want := range map[string]string{"": "", "linux/amd64": "linux/amd64", `{"os":"linux","architecture":"arm64","variant":"v8"}`: "linux/arm64/v8",
		`{"os":"linux","architecture":"amd64"}`: "linux/amd64"} {
		if got, err := platformParam(in); err != nil || got != want {
			t.Errorf("platformParam(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`{"os":"linux"}`, `{bad`} {
		if _, err := platformParam(in); !errdefs.IsInvalidArgument(err) {
			t.Errorf("platformParam(%q): %v, want invalid argument", in, err)
		}
	}
}

func TestRegistryAuth(t *testing.T) {
	enc := func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
	for name, c := range map[string]struct {
		header string
		want   engine.Credentials
	}{
		"empty":          {"", engine.Credentials{}},
		"docker's empty": {enc("{}"), engine.Credentials{}},
		"user":           {enc(`{"username":"u","password":"p?>","serveraddress":"r"}`), engine.Credentials{Username: "u", Password: "p?>"}},
		"unpadded":       {strings.TrimRight(enc(`{"username":"ab","password":"c"}`), "="), engine.Credentials{Username: "ab", Password: "c"}},
		"auth field":     {enc(`{"auth":"` + base64.StdEncoding.EncodeToString([]byte("u:p:q")) + `"}`), engine.Credentials{Username: "u", Password: "p:q"}},
		"token":          {enc(`{"identitytoken":"tok"}`), engine.Credentials{IdentityToken: "tok"}},
		"garbage":        {"!!!not base64", engine.Credentials{}},
		"not JSON":       {enc("nope"), engine.Credentials{}},
	} {
		if got := registryAuth(c.header); got != c.want {
			t.Errorf("%s: registryAuth = %+v, want %+v", name, got, c.want)
		}
	}
}

func TestPushAuth(t *testing.T) {
	for name, c := range map[string]struct {
		header, body string
		wantErr      bool
	}{
		"header":         {base64.URLEncoding.EncodeToString([]byte(`{"username":"u"}`)), "", false},
		"body":           {"", `{"username":"u"}`, false},
		"empty JSON":     {"", "{}", false},
		"neither":        {"", "", true},
		"malformed body": {"", "{", true},
	} {
		r := httptest.NewRequest("POST", "/images/x/push", strings.NewReader(c.body))
		if c.header != "" {
			r.Header.Set("X-Registry-Auth", c.header)
		}
		_, err := pushAuth(r)
		if (err != nil) != c.wantErr || err != nil && (!errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "missing X-Registry-Auth")) {
			t.Errorf("%s: pushAuth: %v, want error %v", name, err, c.wantErr)
		}
	}
}

// A failure before the second message is a plain error status; after it,
// Docker's error message in the 200's stream.
func TestProgressStream(t *testing.T) {
	req := httptest.NewRequest("POST", "/images/create", nil)
	early := httptest.NewRecorder()
	p := newProgressStream(early)
	fmt.Fprintln(p, `{"status":"Pulling from a","id":"latest"}`)
	p.end(req, fmt.Errorf("manifest unknown: %w", errdefs.ErrNotFound))
	if early.Code != http.StatusNotFound || !strings.Contains(early.Body.String(), `"message":"manifest unknown"`) || strings.Contains(early.Body.String(), "Pulling") {
		t.Errorf("early failure: %d %q", early.Code, early.Body)
	}

	denied := httptest.NewRecorder()
	p = newProgressStream(denied)
	p.end(req, fmt.Errorf("access denied: %w", errdefs.ErrUnauthenticated))
	if denied.Code != http.StatusInternalServerError {
		t.Errorf("a registry's refusal: %d, want dockerd's 500 (a 401 makes the docker CLI prompt)", denied.Code)
	}

	late := httptest.NewRecorder()
	p = newProgressStream(late)
	fmt.Fprintln(p, `{"status":"one"}`)
	fmt.Fprintln(p, `{"status":"two"}`)
	p.end(req, errors.New("broken pipe"))
	lines := strings.Split(strings.TrimSpace(late.Body.String()), "\n")
	if late.Code != http.StatusOK || len(lines) != 3 || lines[2] != `{"errorDetail":{"message":"broken pipe"},"error":"broken pipe"}` {
		t.Errorf("late failure: %d %q", late.Code, lines)
	}

	ok := httptest.NewRecorder()
	p = newProgressStream(ok)
	fmt.Fprintln(p, `{"status":"only"}`)
	p.end(req, nil)
	if ok.Code != http.StatusOK || ok.Body.String() != "{\"status\":\"only\"}\n" || ok.Header().Get("Content-Type") != "application/json" {
		t.Errorf("success: %d %q", ok.Code, ok.Body)
	}
}

func TestImageSummary(t *testing.T) {
	created := time.Unix(1700000000, 0)
	d := digest.Digest("sha256:" + strings.Repeat("d", 64))
	s := imageSummary(engine.Image{ID: "abc", Names: []string{"docker.io/library/busybox:latest", "localhost:5000/a/b:1"},
		Digests: []digest.Digest{d}, Created: created, Size: 42}, map[string]string{"k": "v"})
	b, _ := json.Marshal(s)
	var m map[string]any
	json.Unmarshal(b, &m)
	for k, want := range map[string]any{"Id": "sha256:abc", "Created": 1.7e9, "Size": 42.0, "SharedSize": -1.0, "Containers": -1.0,
		"ParentId": "", "RepoTags": []any{"busybox:latest", "localhost:5000/a/b:1"},
		"RepoDigests": []any{"busybox@" + d.String(), "localhost:5000/a/b@" + d.String()}, "Labels": map[string]any{"k": "v"}} {
		if got, _ := json.Marshal(m[k]); string(got) != mustJSON(want) {
			t.Errorf("summary %s = %s, want %s", k, got, mustJSON(want))
		}
	}
	dangling := imageSummary(engine.Image{ID: "x"}, nil)
	if b, _ := json.Marshal(dangling); !strings.Contains(string(b), `"RepoTags":[]`) || !strings.Contains(string(b), `"RepoDigests":[]`) {
		t.Errorf("dangling summary: %s", b)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestImageInspectResponse(t *testing.T) {
	in := engine.ImageInspect{ID: "sha256:abc", RepoTags: []string{"busybox:latest"}, Created: "2024-01-02T03:04:05Z",
		Architecture: "amd64", Os: "linux", Size: 7, Comment: "c", Author: "a"}
	in.RootFS.Type, in.RootFS.Layers = "layers", []string{"sha256:l1"}
	in.Config.Cmd = []string{"sh"}
	in.Config.Env = []string{"A=1"}
	in.Config.Labels = map[string]string{"k": "v"}
	in.GraphDriver.Name = "overlay"
	b, _ := json.Marshal(imageInspectResponse(in))
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"Id", "RepoTags", "RepoDigests", "Created", "Config", "Architecture", "Os", "Size", "GraphDriver", "RootFS", "Metadata"} {
		if _, ok := m[k]; !ok {
			t.Errorf("inspect has no %s: %s", k, b)
		}
	}
	cfg := m["Config"].(map[string]any)
	if mustJSON(cfg["Cmd"]) != `["sh"]` || mustJSON(cfg["Env"]) != `["A=1"]` || mustJSON(cfg["Labels"]) != `{"k":"v"}` {
		t.Errorf("inspect Config: %s", mustJSON(cfg))
	}
	if mustJSON(m["RepoDigests"]) != "[]" || mustJSON(m["RootFS"]) != `{"Layers":["sha256:l1"],"Type":"layers"}` {
		t.Errorf("inspect RepoDigests %s RootFS %s", mustJSON(m["RepoDigests"]), mustJSON(m["RootFS"]))
	}
}

func TestImageHistoryAndDelete(t *testing.T) {
	h := imageHistoryResponse([]engine.HistoryEntry{
		{ID: "abc", Created: time.Unix(100, 0), CreatedBy: "CMD sh", Tags: []string{"docker.io/library/busybox:latest"}},
		{ID: "<missing>", Size: 5},
	})
	if got := mustJSON(h); got != `[{"Comment":"","Created":100,"CreatedBy":"CMD sh","Id":"sha256:abc","Size":0,"Tags":["busybox:latest"]},`+
		`{"Comment":"","Created":0,"CreatedBy":"","Id":"\u003cmissing\u003e","Size":5,"Tags":null}]` {
		t.Errorf("history: %s", got)
	}
	d := imageDeleteResponse(engine.RemoveResult{Untagged: []string{"busybox:latest"}, Deleted: []string{"sha256:abc"}})
	if got := mustJSON(d); got != `[{"Untagged":"busybox:latest"},{"Deleted":"sha256:abc"}]` {
		t.Errorf("delete: %s", got)
	}
	if got := mustJSON(imagePruneReport(engine.ImagePruneResult{})); got != `{"ImagesDeleted":[],"SpaceReclaimed":0}` {
		t.Errorf("prune: %s", got)
	}
	if got := loadedLines(engine.ImageLoadResult{Names: []string{"busybox:latest"}, IDs: []string{"abc"}}); !slices.Equal(got,
		[]string{"Loaded image: busybox:latest\n", "Loaded image ID: sha256:abc\n"}) {
		t.Errorf("load lines: %q", got)
	}
}

func TestConfigChanges(t *testing.T) {
	if configChanges(nil) != nil {
		t.Error("nil config makes changes")
	}
	c := &container.Config{Cmd: []string{"sh", "-c", `echo "hi"`}, Entrypoint: []string{"/init"}, Env: []string{"A=1 2", "B"},
		Labels: map[string]string{"b": `say "x"`, "a": "1"}, ExposedPorts: network.PortSet{network.MustParsePort("80/tcp"): {}},
		User: "nobody", WorkingDir: "/w", StopSignal: "SIGINT"}
	want := []string{`CMD ["sh","-c","echo \"hi\""]`, `ENTRYPOINT ["/init"]`, `ENV A="1 2"`, `LABEL a="1"`, `LABEL b='say "x"'`,
		"EXPOSE 80/tcp", "USER nobody", "WORKDIR /w", "STOPSIGNAL SIGINT"}
	if got := configChanges(c); !slices.Equal(got, want) {
		t.Errorf("configChanges:\n got %q\nwant %q", got, want)
	}
}
