package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/engine"
)

// serve starts a server (no engine: the routes tested need none) on a unix
// socket and returns a client for it and Serve's result.
func serve(t *testing.T, idle time.Duration) (*http.Client, *Server, <-chan error, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	s := New(nil, Options{Version: "9.9", Idle: idle})
	s.mux.HandleFunc("GET /test/stream", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		flush(w)
		<-r.Context().Done()
	})
	s.mux.HandleFunc("GET /test/hijack", func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		c = s.idle.hijacked(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n")
		go func() { io.Copy(io.Discard, c); c.Close() }()
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, s, errc, sock
}

func get(t *testing.T, c *http.Client, method, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://api.moby.localhost"+path, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRouting(t *testing.T) {
	c, _, _, _ := serve(t, 0)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/_ping", 200, "OK"},
		{"HEAD", "/_ping", 200, ""},
		{"GET", "/v1.41/_ping", 200, "OK"},
		{"GET", "/v1.44/_ping", 200, "OK"},
		{"GET", "/v1.45/_ping", 400, `{"message":"client version 1.45 is too new. Maximum supported API version is 1.44"}`},
		{"GET", "/v1.23/_ping", 400, `{"message":"client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"}`},
		{"GET", "/nope", 404, `{"message":"page not found"}`},
		{"GET", "/v1.44/swarm", 503, `{"message":"` + strings.ReplaceAll(notSwarmManager, `"`, `\"`) + `"}`},
		{"GET", "/nodes", 503, ""},
		{"POST", "/swarm/init", 501, ""},
		{"GET", "/plugins", 501, ""},
		{"POST", "/session", 501, ""},
	} {
		resp, body := get(t, c, tc.method, tc.path)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d (%s)", tc.method, tc.path, resp.StatusCode, tc.status, body)
		}
		if tc.body != "" && strings.TrimSpace(body) != tc.body {
			t.Errorf("%s %s: body %q, want %q", tc.method, tc.path, body, tc.body)
		}
		if resp.StatusCode >= 400 {
			var e errorBody
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Message == "" {
				t.Errorf("%s %s: error body %q is not Docker's", tc.method, tc.path, body)
			}
		}
		for k, v := range map[string]string{"Api-Version": engine.APIVersion, "Server": "Docker/9.9 (linux)", "Ostype": "linux",
			"Docker-Experimental": "false", "Builder-Version": "1", "Swarm": "inactive"} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s %s: header %s = %q, want %q", tc.method, tc.path, k, got, v)
			}
		}
		if !strings.HasPrefix(resp.Header.Get("Cache-Control"), "no-cache") {
			t.Errorf("%s %s: Cache-Control %q", tc.method, tc.path, resp.Header.Get("Cache-Control"))
		}
	}
}

func TestFilterArgs(t *testing.T) {
	for raw, want := range map[string]string{
		`{"type":{"container":true},"label":{"a=b":true,"c":true}}`: "label=a=b label=c type=container",
		`{"event":["start","die"]}`:                                 "event=start event=die",
		``:                                                          "",
	} {
		got, err := filterArgs(raw)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("filterArgs(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, bad := range []string{`{`, `{"type":3}`, `[]`} {
		if _, err := filterArgs(bad); engine.HTTPStatus(err) != 400 {
			t.Errorf("filterArgs(%s): %v, want a 400", bad, err)
		}
	}
}

// TestIdle: the server exits after the idle time, never while a request
// streams or a hijacked connection is open.
func TestIdle(t *testing.T) {
	const idle = 300 * time.Millisecond
	waitExit := func(errc <-chan error, within time.Duration) bool {
		select {
		case <-errc:
			return true
		case <-time.After(within):
			return false
		}
	}

	t.Run("exits", func(t *testing.T) {
		c, _, errc, _ := serve(t, idle)
		get(t, c, "GET", "/_ping")
		start := time.Now()
		if !waitExit(errc, 5*idle) {
			t.Fatal("no exit after the idle time")
		}
		if d := time.Since(start); d < idle-50*time.Millisecond {
			t.Fatalf("exited after %v, before the idle time", d)
		}
	})

	t.Run("stream", func(t *testing.T) {
		c, s, errc, _ := serve(t, idle)
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/test/stream", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if waitExit(errc, 3*idle) {
			t.Fatal("exited while a stream was open")
		}
		if s.idle.Busy() != 1 {
			t.Fatalf("busy %d, want 1", s.idle.Busy())
		}
		cancel()
		resp.Body.Close()
		if !waitExit(errc, 5*idle) {
			t.Fatal("no exit after the stream ended")
		}
	})

	t.Run("hijack", func(t *testing.T) {
		_, _, errc, sock := serve(t, idle)
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, "GET /test/hijack HTTP/1.1\r\nHost: x\r\n\r\n")
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.Contains(line, "200") {
			t.Fatalf("hijack answer %q, %v", line, err)
		}
		if waitExit(errc, 3*idle) {
			t.Fatal("exited while a hijacked connection was open")
		}
		conn.Close()
		if !waitExit(errc, 5*idle) {
			t.Fatal("no exit after the hijacked connection closed")
		}
	})
}
