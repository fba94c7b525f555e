package e2e

import (
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// holdPort binds proto port on every IPv4 address of the host, as a
// program of the host would, until the returned func or the test's end.
func holdPort(t testing.TB, proto string, port int) func() {
	t.Helper()
	addr := "0.0.0.0:" + strconv.Itoa(port)
	var c io.Closer
	var err error
	if proto == "udp" {
		c, err = net.ListenPacket("udp4", addr)
	} else {
		c, err = net.Listen("tcp4", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return func() { c.Close() }
}

var bridgeSetting = regexp.MustCompile(`(?m)^bridge = "([^"]+)"`)

// runnerBridge is the default network's bridge of a rootful runner.
func runnerBridge(t testing.TB, s *Skiff) string {
	t.Helper()
	b, err := os.ReadFile(s.ConfigFile)
	m := bridgeSetting.FindSubmatch(b)
	if err != nil || m == nil {
		t.Fatalf("the runner's skiff.toml names no bridge: %v %q", err, b)
	}
	return string(m[1])
}

// requireNoNetworkLeft fails, rootful, when a veth is on the runner's
// bridge or skiff's nftables table has a rule of container id or for
// host port (its DNAT), as a failed start could leave them.
func requireNoNetworkLeft(t testing.TB, s *Skiff, after, id string, port int) {
	t.Helper()
	if s.Rootless() {
		return
	}
	if out, err := exec.Command("ip", "-o", "link", "show", "master", runnerBridge(t, s)).CombinedOutput(); err == nil && strings.TrimSpace(string(out)) != "" {
		t.Errorf("after %s, a veth is left on the bridge:\n%s", after, out)
	}
	out, err := exec.Command("nft", "list", "chain", "ip", "skiff", "ports").CombinedOutput()
	if err != nil {
		return // no table: no rule
	}
	for _, l := range strings.Split(string(out), "\n") {
		if (id != "" && strings.Contains(l, id)) || strings.Contains(l, "dport "+strconv.Itoa(port)+" ") {
			t.Errorf("after %s, an nftables rule is left: %s", after, strings.TrimSpace(l))
		}
	}
}

// A host port in use, by a program of the host or by another container,
// TCP and UDP: run fails before anything exists (one line naming the
// port, exit 125, no container, rootful no veth nor rule); a created
// container whose port was taken since fails to start the same way,
// holds nothing, and starts once the port is free.
func TestNetworkPortInUse(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		for _, proto := range []string{"tcp", "udp"} {
			port := hostPort(t)
			if proto == "udp" {
				port = udpPort(t)
			}
			spec := strconv.Itoa(port) + ":80/" + proto
			release := holdPort(t, proto, port)
			requireInUse(t, s.Run("run", "-d", "--name", "taken", "-p", spec, bb, "sleep", "60"), port)
			requireNoContainers(t, s, "a run on a host port in use ("+proto+")")
			requireNoNetworkLeft(t, s, "a run on a host port in use", "", port)

			// Created while the port was free, started once it was taken.
			release()
			id := s.Run("create", "--name", "late", "-p", spec, bb, "sleep", "60").MustSucceed(t).Out()
			release = holdPort(t, proto, port)
			requireInUse(t, s.Run("start", "late"), port)
			if st := status(t, s, "late"); !strings.HasPrefix(st, "Created") && !strings.HasPrefix(st, "Exited") {
				t.Errorf("a container whose host port was taken: status %q", st)
			}
			s.Run("port", "late").Assert(t, Expect{Stdout: ""})
			requireNoNetworkLeft(t, s, "a start on a host port in use", id, port)
			release()
			s.Run("start", "late").MustSucceed(t)

			// Held by a container now.
			r := s.Run("run", "-d", "--name", "second", "-p", spec, bb, "sleep", "60").MustFail(t, 125, strconv.Itoa(port))
			requireOneLine(t, r)
			if ids := psIDs(t, s); len(ids) != 1 || ids[0] != id {
				t.Errorf("a run on a port another container holds: containers %q, want only %s", ids, id)
			}
			s.Run("rm", "-f", "late").MustSucceed(t)
			requireNoNetworkLeft(t, s, "rm -f", id, port)
		}
	})
}

// requireInUse checks r failed as a run or start on a host port a program
// of the host holds should: 125, one line naming the port and saying it is
// in use, without the error kind's word at its end.
func requireInUse(t *testing.T, r *Result, port int) {
	t.Helper()
	r.MustFail(t, 125, strconv.Itoa(port))
	requireOneLine(t, r)
	if msg := strings.TrimSpace(r.Stderr); !strings.Contains(msg, "in use") || strings.HasSuffix(msg, ": conflict") {
		t.Errorf("a host port in use: %q", msg)
	}
}
