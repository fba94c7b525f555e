package e2e

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-engine/skiff/test/fixture"
)

// hostPort is a TCP port free on the host's loopback now (a rootful
// runner's namespace is empty: free there too).
func hostPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// webScript serves /www with busybox httpd on port 80; /cgi-bin/ip answers
// the client's address as the container sees it.
const webScript = `mkdir -p /www/cgi-bin && echo hello-from-web > /www/index.html &&
printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho "$REMOTE_ADDR"\n' > /www/cgi-bin/ip &&
chmod +x /www/cgi-bin/ip && exec httpd -f -p 80 -h /www`

// fetch GETs url from the host's side until it answers (the server in the
// container needs a moment), and returns the body.
func fetch(t testing.TB, s *Skiff, url string) string {
	t.Helper()
	var r *Result
	deadline := time.Now().Add(15 * time.Second)
	for {
		r = s.RunCommand("timeout", "5", "busybox", "wget", "-qO-", url)
		if r.ExitCode == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.ExitCode != 0 {
		t.Fatalf("GET %s from the host: %s", url, r)
	}
	return r.Out()
}

// A published TCP port answers the host on its loopback, the container
// sees the client's own address, port/ps/inspect show the mapping, a
// second container cannot take the port, and rm -f frees it at once.
func TestNetworkPublishTCP(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		port := hostPort(t)
		spec := "127.0.0.1:" + strconv.Itoa(port) + ":80"
		s.Run("run", "-d", "--name", "web", "-p", spec, bb, "sh", "-c", webScript).MustSucceed(t)
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		if got := fetch(t, s, base+"/"); got != "hello-from-web" {
			t.Fatalf("GET /: %q", got)
		}
		// Rootless, the port driver keeps the client's address; rootful, a
		// client on the host's loopback reaches the bridge masqueraded as its
		// gateway (a reply to 127.0.0.1 would stay in the container), as
		// Docker's proxy does.
		wantClient := "127.0.0.1"
		if !s.Rootless() {
			wantClient = inspectString(t, s, "web", "NetworkSettings.Gateway")
		}
		// busybox httpd listens on IPv6 and prints IPv4 clients mapped.
		got := strings.TrimSuffix(strings.TrimPrefix(fetch(t, s, base+"/cgi-bin/ip"), "[::ffff:"), "]")
		if got != wantClient {
			t.Errorf("the container saw the client as %q, want %s", got, wantClient)
		}
		want := "127.0.0.1:" + strconv.Itoa(port)
		s.Run("port", "web").Assert(t, Expect{Stdout: "80/tcp -> " + want})
		s.Run("port", "web", "80").Assert(t, Expect{Stdout: want})
		s.Run("port", "web", "81/tcp").MustFail(t, 1, "No public port '81/tcp' published for web")
		if row := psRow(t, s, "web"); !strings.Contains(row, want+"->80/tcp") {
			t.Errorf("ps PORTS: %q", row)
		}
		doc := inspect(t, s, "web")
		if v, _ := field(doc, "NetworkSettings.Ports.80/tcp"); v == nil {
			t.Errorf("inspect NetworkSettings.Ports: %v", doc["NetworkSettings"])
		}

		before := len(psIDs(t, s))
		r := s.Run("run", "-d", "--name", "web2", "-p", spec, bb, "sleep", "60").MustFail(t, 125, strconv.Itoa(port))
		requireOneLine(t, r)
		if n := len(psIDs(t, s)); n != before {
			t.Errorf("a run whose port is taken left a container: %d containers, %d before", n, before)
		}
		s.Run("rm", "-f", "web").MustSucceed(t)
		s.Run("run", "-d", "--name", "web3", "-p", spec, bb, "sh", "-c", webScript).MustSucceed(t)
		if got := fetch(t, s, base+"/"); got != "hello-from-web" {
			t.Fatalf("GET / after the port was freed: %q", got)
		}
		s.Run("rm", "-f", "web3").MustSucceed(t)
	})
}

// kill -9 of a monitor frees its host port at once: another container
// publishes it and answers (the dead one's allocation is reclaimed).
func TestNetworkPortFreedByMonitorKill(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		port := hostPort(t)
		spec := "127.0.0.1:" + strconv.Itoa(port) + ":80"
		s.Run("run", "-d", "--name", "victim", "-p", spec, bb, "sh", "-c", webScript).MustSucceed(t)
		mons := monitors(s)
		if len(mons) != 1 {
			t.Fatalf("monitors: %v", mons)
		}
		if err := syscall.Kill(mons[0].pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitNoMonitors(t, s, 10*time.Second)
		// What the killed monitor's pid shows, before and after the run: a
		// failure here (rare, under load) says which process held the port.
		before, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", mons[0].pid))
		if r := s.Run("run", "-d", "--name", "heir", "-p", spec, bb, "sh", "-c", webScript); r.ExitCode != 0 {
			after, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", mons[0].pid))
			t.Logf("killed %+v; its stat before the run %q, after %q; monitors now %v", mons[0], before, after, monitors(s))
			t.Logf("ps -a: %s", s.Run("ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.Status}}").Stdout)
			t.Logf("victim's state: %s", s.Run("inspect", "--format", "{{json .State}}", "victim").Stdout)
			t.Fatalf("heir: %s", r.Stderr)
		}
		if got := fetch(t, s, "http://127.0.0.1:"+strconv.Itoa(port)+"/"); got != "hello-from-web" {
			t.Fatalf("GET through the port of a killed monitor's container: %q", got)
		}
		s.Run("port", "victim").Assert(t, Expect{Stdout: ""})
		s.Run("rm", "-f", "victim", "heir").MustSucceed(t)
	})
}

// -p 80 takes a free host port, which port shows; -P publishes the
// image's EXPOSE.
func TestNetworkPublishRandom(t *testing.T) {
	t.Parallel()
	layer, err := fixture.BusyboxLayer()
	if err != nil {
		t.Fatal(err)
	}
	cfg := fixture.BusyboxConfig()
	cfg.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	img, err := fixture.New([]fixture.Layer{layer}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	archive := Archive(t, fixture.DockerArchive, fixture.Tagged{Image: img, Tags: []string{"exposes:80"}})
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("load", "-i", archive).MustSucceed(t)
		for _, tc := range []struct{ name, image, flag string }{
			{"random", bb, "-p=80"},
			{"all", "exposes:80", "-P"},
		} {
			s.Run("run", "-d", "--name", tc.name, tc.flag, tc.image, "sh", "-c", webScript).MustSucceed(t)
			addr := s.Run("port", tc.name, "80/tcp").MustSucceed(t).Out()
			_, p, err := net.SplitHostPort(addr)
			if n, _ := strconv.Atoi(p); err != nil || n == 0 {
				t.Fatalf("%s: port printed %q", tc.name, addr)
			}
			if got := fetch(t, s, "http://127.0.0.1:"+p+"/"); got != "hello-from-web" {
				t.Errorf("%s: GET through %s: %q", tc.name, addr, got)
			}
		}
		// EXPOSE alone publishes nothing, and ps shows it as Docker does.
		s.Run("run", "-d", "--name", "exposed", "exposes:80", "sleep", "60").MustSucceed(t)
		s.Run("port", "exposed").Assert(t, Expect{Stdout: ""})
		if row := psRow(t, s, "exposed"); !strings.Contains(row, " 80/tcp ") {
			t.Errorf("ps PORTS of an exposed port: %q", row)
		}
		s.Run("rm", "-f", "random", "all", "exposed").MustSucceed(t)
	})
}

// A container reaches a server on the host through host.containers.internal
// (rootless: slirp4netns's allow_host_loopback; rootful: the bridge's
// gateway), and name resolution files follow the flags.
func TestNetworkHostAndResolution(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		port := hostPort(t)
		listen := "127.0.0.1:" + strconv.Itoa(port)
		network := []string{"--network", "slirp4netns:allow_host_loopback=true"}
		if !s.Rootless() {
			listen, network = "0.0.0.0:"+strconv.Itoa(port), nil
		}
		dir := s.WriteFile("hostwww", nil)
		s.RunCommand("rm", dir).MustSucceed(t)
		s.RunCommand("mkdir", dir).MustSucceed(t)
		s.WriteFile("hostwww/index.html", []byte("from-the-host\n"))
		startBackground(t, s.Command("busybox", "httpd", "-f", "-p", listen, "-h", dir)) // killed at the end
		args := append(append([]string{"run", "--rm"}, network...), bb, "sh", "-c",
			"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://host.containers.internal:"+strconv.Itoa(port)+"/ && exit; sleep 0.3; done; exit 1")
		s.Run(args...).Assert(t, Expect{Stdout: "from-the-host"})

		out := s.Run("run", "--rm", "--add-host", "db:10.0.0.5", "--add-host", "gw:host-gateway", "--dns", "10.1.1.1",
			"--dns-search", "example.org", "--dns-option", "ndots:2", bb, "cat", "/etc/hosts", "/etc/resolv.conf").MustSucceed(t).Stdout
		for _, want := range []string{"10.0.0.5\tdb\n", "\tgw\n", "host.containers.internal", "nameserver 10.1.1.1\n", "search example.org\n", "options ndots:2\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("hosts and resolv.conf lack %q:\n%s", want, out)
			}
		}
	})
}

// --network container:NAME shares another container's namespace: its
// loopback server answers; publishing ports there is refused.
func TestNetworkContainerMode(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "web", bb, "sh", "-c", webScript).MustSucceed(t)
		s.Run("run", "--rm", "--network", "container:web", bb, "sh", "-c",
			"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1/ && exit; sleep 0.3; done; exit 1").
			Assert(t, Expect{Stdout: "hello-from-web"})
		s.Run("run", "--rm", "--network", "container:web", "-p", "8080:80", bb, "true").
			MustFail(t, 125, "conflicting options: port publishing and the container type network mode")
		s.Run("run", "--rm", "--network", "container:nosuch", bb, "true").MustFail(t, 125, "nosuch")
		s.Run("stop", "-t", "0", "web").MustSucceed(t)
		s.Run("run", "--rm", "--network", "container:web", bb, "true").MustFail(t, 125, "not running")
		s.Run("rm", "-f", "web").MustSucceed(t)
	})
}

// Bad network input: one clear line, exit 125, nothing created.
func TestNetworkBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"-p", "99999:80"}, "invalid port specification"},
			{[]string{"-p", "80:80/icmp"}, "unknown protocol"},
			{[]string{"-p", "1.2.3:80:80"}, "is not an IP address"},
			{[]string{"-p", "8000-8002:80-81/udp"}, "the host and container ranges differ in length"},
			{[]string{"-p", "81-80:81-80/udp"}, "ends before it starts"},
			{[]string{"-p", "abc:80"}, `"abc" is not a port`},
			{[]string{"-p", "0:80/udp"}, `"0" is not a port`},
			{[]string{"-p", "80/sctp"}, "sctp is not supported"},
			{[]string{"-p", "1:2:3:4"}, "an IPv6 address goes in brackets"},
			{[]string{"--network", "nosuchnet"}, "network nosuchnet not found"},
			{[]string{"--network", "slirp4netns:mtu=1"}, "mtu"},
			{[]string{"--add-host", "nohost"}, "invalid --add-host"},
		} {
			r := s.Run(append(append([]string{"run", "--rm"}, tc.args...), bb, "true")...).MustFail(t, 125, tc.want)
			requireOneLine(t, r)
		}
		if s.Rootless() {
			for _, spec := range []string{"80:80", "53:53/udp", "1000-1100:80"} {
				requireOneLine(t, s.Run("run", "--rm", "-p", spec, bb, "true").MustFail(t, 125, "net.ipv4.ip_unprivileged_port_start"))
			}
		} else {
			// The bridge publishes on IPv4 host addresses only.
			for _, args := range [][]string{{"run", "--rm"}, {"run", "-d"}, {"create"}} {
				args = append(args, "-p", "[::1]:8080:80", bb, "true")
				requireOneLine(t, s.Run(args...).MustFail(t, 125, "IPv4"))
			}
		}
		requireNoContainers(t, s, "runs with bad network options")
		requireNoNetworkLeft(t, s, "runs with bad network options", "", 8080)
	})
}

// inspectString is one string field of inspect.
func inspectString(t testing.TB, s *Skiff, ref, path string) string {
	t.Helper()
	v, _ := field(inspect(t, s, ref), path)
	str, _ := v.(string)
	return str
}
