package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// wgetOnce GETs http://host/ from inside container ctr once, no retry: what
// connect and disconnect promise holds when they return.
func wgetOnce(s *Skiff, ctr, host string) *Result {
	return s.Run("exec", ctr, "wget", "-qO-", "http://"+host+"/")
}

// wgetRetry GETs http://host/ from inside ctr until it answers (a server
// just started needs a moment).
func wgetRetry(s *Skiff, ctr, host string) *Result {
	return s.Run("exec", ctr, "sh", "-c",
		"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://"+host+"/ && exit; sleep 0.3; done; exit 1")
}

// network connect and disconnect of running and stopped containers
// (rootful, and rootless in the shared namespace; the second network there
// is a user network, the default one being slirp4netns): a connected container resolves and answers at once under its
// name and alias, and resolves the network's names itself; a restart keeps
// the network; a disconnected one neither resolves nor answers; inspect,
// ps --filter, network inspect and network rm see every network.
func TestNetworkConnect(t *testing.T) {
	t.Parallel()
	ForEachMode(t, testNetworkConnect)
}

func testNetworkConnect(t *testing.T, s *Skiff) {
	bb := setup(t, s)
	base := "bridge" // the other network of web2 and cold
	if s.Rootless() {
		base = "side"
		s.Run("network", "create", base).MustSucceed(t)
	}
	s.Run("network", "create", "conn").MustSucceed(t)
	s.Run("run", "-d", "--name", "web1", "--network", "conn", bb, "sh", "-c", webScript).MustSucceed(t)
	s.Run("run", "-d", "--name", "web2", "--network", base, bb, "sh", "-c", webScript).MustSucceed(t)
	wgetOnce(s, "web1", "web2").MustFail(t, 1, "bad address")

	s.Run("network", "connect", "--alias", "w2", "conn", "web2").Assert(t, Expect{Stdout: ""})
	for _, host := range []string{"web2", "w2", "w2.dns.skiff"} {
		wgetOnce(s, "web1", host).Assert(t, Expect{Stdout: "hello-from-web"})
	}
	wgetOnce(s, "web2", "web1").Assert(t, Expect{Stdout: "hello-from-web"}) // its resolv.conf now names conn's server
	if ifs := s.Run("exec", "web2", "sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '").MustSucceed(t).Out(); ifs != "eth0 eth1 lo" {
		t.Errorf("web2's interfaces after connect: %q, want eth0 eth1 lo", ifs)
	}
	connIP := s.Run("inspect", "-f", `{{(index .NetworkSettings.Networks "conn").IPAddress}}`, "web2").MustSucceed(t).Out()
	bridgeIP := s.Run("inspect", "-f", `{{(index .NetworkSettings.Networks "`+base+`").IPAddress}}`, "web2").MustSucceed(t).Out()
	if connIP == "" || bridgeIP == "" || connIP == bridgeIP {
		t.Fatalf("web2's addresses: conn %q, bridge %q", connIP, bridgeIP)
	}
	if got := s.Run("inspect", "-f", `{{len .NetworkSettings.Networks}} {{(index .NetworkSettings.Networks "conn").Aliases}} {{(index .NetworkSettings.Networks "conn").IPPrefixLen}}`, "web2").MustSucceed(t).Out(); got != "2 [w2] 24" {
		t.Errorf("inspect web2's networks: %q", got)
	}
	if v := s.Run("network", "inspect", "-f", "{{len .Containers}}", "conn").MustSucceed(t).Out(); v != "2" {
		t.Errorf("network inspect conn: %s containers, want 2", v)
	}
	s.Run("ps", "--filter", "network=conn", "--format", "{{.Names}}").Assert(t, Expect{Stdout: "web2\nweb1\n"})
	s.Run("ps", "--filter", "network="+base, "--format", "{{.Names}}").Assert(t, Expect{Stdout: "web2\n"})

	// Bad input: one line, exit 125, nothing changed.
	s.Run("run", "-d", "--name", "onhost", "--network", "host", bb, "sleep", "60").MustSucceed(t)
	s.Run("create", "--name", "nonet", "--network", "none", bb, "true").MustSucceed(t)
	aliasDefault := []string{"network", "connect", "--alias", "x", "bridge", "web1"}
	aliasWant := "network-scoped alias is supported only for containers in user defined networks"
	if s.Rootless() {
		aliasDefault, aliasWant = []string{"network", "connect", "bridge", "web1"}, "the default bridge network is rootful only"
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{aliasDefault, aliasWant},
		{[]string{"network", "connect", "conn", "web2"}, "endpoint with name web2 already exists in network conn"},
		{[]string{"network", "connect", "nosuch", "web2"}, "network nosuch not found"},
		{[]string{"network", "connect", "conn", "nosuch"}, "nosuch"},
		{[]string{"network", "connect", "conn", "onhost"}, "cannot be connected to any other network"},
		{[]string{"network", "connect", "conn", "nonet"}, "private (none) mode"},
		{[]string{"network", "disconnect", "conn", "onhost"}, "is not connected to network conn"},
		{[]string{"network", "disconnect", base, "web1"}, "container web1 is not connected to network " + base},
		{[]string{"network", "rm", "conn"}, "in use by container(s)"},
	} {
		requireOneLine(t, s.Run(tc.args...).MustFail(t, 125, tc.want))
	}
	s.Run("rm", "-f", "onhost", "nonet").MustSucceed(t)

	// A restart keeps the network (its address may change).
	s.Run("restart", "-t", "1", "web2").MustSucceed(t)
	wgetRetry(s, "web1", "w2").Assert(t, Expect{Stdout: "hello-from-web"})
	connIP = s.Run("inspect", "-f", `{{(index .NetworkSettings.Networks "conn").IPAddress}}`, "web2").MustSucceed(t).Out()

	s.Run("network", "disconnect", "conn", "web2").Assert(t, Expect{Stdout: ""})
	wgetOnce(s, "web1", "web2").MustFail(t, 1, "bad address")
	s.Run("exec", "web1", "sh", "-c", "timeout 3 wget -qO- http://"+connIP+"/ || echo unreachable").
		Assert(t, Expect{Stdout: "unreachable", NotStdout: "hello-from-web"})
	if ifs := s.Run("exec", "web2", "sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '").MustSucceed(t).Out(); ifs != "eth0 lo" {
		t.Errorf("web2's interfaces after disconnect: %q, want eth0 lo", ifs)
	}
	if v := s.Run("network", "inspect", "-f", "{{len .Containers}}", "conn").MustSucceed(t).Out(); v != "1" {
		t.Errorf("network inspect conn after disconnect: %s containers, want 1", v)
	}
	requireOneLine(t, s.Run("network", "disconnect", "conn", "web2").MustFail(t, 125, "container web2 is not connected to network conn"))
	// Its old address is free: another container takes it.
	s.Run("run", "--rm", "--network", "conn", "--ip", connIP, bb, "true").MustSucceed(t)

	// A stopped container gets the network at its next start, and keeps it
	// across restarts.
	s.Run("create", "--name", "cold", "--network", base, bb, "sh", "-c", webScript).MustSucceed(t)
	s.Run("network", "connect", "--alias", "frosty", "conn", "cold").MustSucceed(t)
	if got := s.Run("inspect", "-f", `{{len .NetworkSettings.Networks}}`, "cold").MustSucceed(t).Out(); got != "2" {
		t.Errorf("stopped container connected: %s networks, want 2", got)
	}
	s.Run("start", "cold").MustSucceed(t)
	wgetRetry(s, "web1", "frosty").Assert(t, Expect{Stdout: "hello-from-web"})
	s.Run("stop", "-t", "1", "cold").MustSucceed(t)
	s.Run("network", "disconnect", base, "cold").MustSucceed(t)
	s.Run("start", "cold").MustSucceed(t)
	wgetRetry(s, "web1", "cold").Assert(t, Expect{Stdout: "hello-from-web"})
	if ifs := s.Run("exec", "cold", "sh", "-c", "ls /sys/class/net | sort | tr '\\n' ' '").MustSucceed(t).Out(); ifs != "eth0 lo" {
		t.Errorf("cold on conn only: %q, want eth0 lo", ifs)
	}
	s.Run("rm", "-f", "web1", "web2", "cold").MustSucceed(t)
	s.Run("network", "rm", "conn").Assert(t, Expect{Stdout: "conn"})
}

// Two --network flags give eth0 and eth1, an address on each subnet, and
// the container's names on both networks; the first network carries the
// default route. Combinations Docker refuses are refused, creating
// nothing. A kill -9 of the monitor frees both addresses.
func TestNetworkConnectSeveral(t *testing.T) {
	t.Parallel()
	ForEachMode(t, testNetworkConnectSeveral)
}

func testNetworkConnectSeveral(t *testing.T, s *Skiff) {
	bb := setup(t, s)
	s.Run("network", "create", "--subnet", "10.91.1.0/24", "na").MustSucceed(t)
	s.Run("network", "create", "--subnet", "10.91.2.0/24", "nb").MustSucceed(t)
	s.Run("run", "-d", "--name", "multi", "--network", "na", "--network-alias", "ma",
		"--network", "name=nb,alias=mb,ip=10.91.2.50", bb, "sh", "-c", webScript).MustSucceed(t)
	if a := s.Run("exec", "multi", "ip", "-4", "addr", "show", "dev", "eth0").MustSucceed(t).Stdout; !strings.Contains(a, "inet 10.91.1.") {
		t.Errorf("eth0 has no address on na:\n%s", a)
	}
	if a := s.Run("exec", "multi", "ip", "-4", "addr", "show", "dev", "eth1").MustSucceed(t).Stdout; !strings.Contains(a, "inet 10.91.2.50/24") {
		t.Errorf("eth1 lacks 10.91.2.50/24 on nb:\n%s", a)
	}
	if r := s.Run("exec", "multi", "ip", "route").MustSucceed(t).Stdout; !strings.Contains(r, "default via 10.91.1.1 dev eth0") || strings.Count(r, "default") != 1 {
		t.Errorf("routes: want one default, via na's gateway:\n%s", r)
	}
	get := func(network, host string) *Result {
		return s.Run("run", "--rm", "--network", network, bb, "sh", "-c",
			"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://"+host+"/ && exit; sleep 0.3; done; exit 1")
	}
	for _, c := range []struct{ network, host string }{{"na", "multi"}, {"na", "ma"}, {"nb", "multi"}, {"nb", "mb"}} {
		get(c.network, c.host).Assert(t, Expect{Stdout: "hello-from-web"})
	}
	get("nb", "ma").MustFail(t, 1, "bad address") // an alias is per network
	// multi resolves the names of both its networks: nbonly is on its
	// second one only.
	s.Run("run", "-d", "--name", "nbonly", "--network", "nb", bb, "sh", "-c", webScript).MustSucceed(t)
	wgetRetry(s, "multi", "nbonly").Assert(t, Expect{Stdout: "hello-from-web"})
	s.Run("rm", "-f", "nbonly").MustSucceed(t)
	ipA := s.Run("inspect", "-f", `{{(index .NetworkSettings.Networks "na").IPAddress}}`, "multi").MustSucceed(t).Out()
	if got := s.Run("inspect", "-f", `{{(index .NetworkSettings.Networks "nb").IPAddress}} {{.NetworkSettings.IPAddress}}`, "multi").MustSucceed(t).Out(); got != "10.91.2.50 "+ipA {
		t.Errorf("inspect: %q, want nb's 10.91.2.50 and the first network's %s", got, ipA)
	}
	s.Run("ps", "--filter", "network=nb", "--format", "{{.Names}}").Assert(t, Expect{Stdout: "multi\n"})

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--network", "host", "--network", "na"}, "cannot be connected to any other network"},
		{[]string{"--network", "na", "--network", "host"}, "cannot be connected to any other network"},
		{[]string{"--network", "none", "--network", "na"}, "private (none) mode"},
		{[]string{"--network", "container:multi", "--network", "na"}, "cannot be connected to any other network"},
		{[]string{"--network", "na", "--network", "na"}, `network "na" is specified multiple times`},
		{[]string{"--network", "na", "--network", "nosuch"}, "network nosuch not found"},
		{[]string{"--network", "na", "--network", "name=nb,ip=10.91.1.7"}, "network nb has subnet 10.91.2.0/24"},
		{[]string{"--network", "name=na,alias=x", "--network-alias", "y"}, "cannot specify both --network-alias and per-network alias"},
	} {
		requireOneLine(t, s.Run(append(append([]string{"run", "--rm", "--name", "refused"}, tc.args...), bb, "true")...).MustFail(t, 125, tc.want))
	}
	if psRow(t, s, "refused") != "" {
		t.Error("a refused run left a container")
	}

	// kill -9 of the monitor: both addresses are free again.
	runMonitors := func() []proc { // the name servers' monitors aside
		var out []proc
		for _, p := range monitors(s) {
			if p.args[1] == "run" {
				out = append(out, p)
			}
		}
		return out
	}
	mons := runMonitors()
	if len(mons) != 1 {
		t.Fatalf("monitors: %v", mons)
	}
	if err := syscall.Kill(mons[0].pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(runMonitors()) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the killed monitor is still there")
		}
	}
	s.Run("run", "--rm", "--network", "name=na,ip="+ipA, "--network", "name=nb,ip=10.91.2.50", bb, "true").MustSucceed(t)
	get("nb", "mb").MustFail(t, 1, "bad address")
	s.Run("rm", "-f", "multi").MustSucceed(t)
	s.Run("network", "rm", "na", "nb").MustSucceed(t)
}

// Rootless: the default network (slirp4netns) combines with no other, and
// the default bridge network is rootful only: one clear line each, exit
// 125, nothing created or changed.
func TestNetworkConnectRootless(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootless)
	bb := setup(t, s)
	s.Run("network", "create", "side").MustSucceed(t)
	s.Run("create", "--name", "cc", bb, "true").MustSucceed(t)
	s.Run("create", "--name", "cs", "--network", "side", bb, "true").MustSucceed(t)
	requireOneLine(t, s.Run("network", "connect", "side", "cc").MustFail(t, 125, "reaches the network through slirp4netns"))
	requireOneLine(t, s.Run("network", "connect", "bridge", "cs").MustFail(t, 125, "the default bridge network is rootful only"))
	requireOneLine(t, s.Run("run", "--rm", "--network", "slirp4netns", "--network", "side", bb, "true").MustFail(t, 125, "slirp4netns"))
	requireOneLine(t, s.Run("run", "--rm", "--network", "side", "--network", "bridge", bb, "true").MustFail(t, 125, "the default bridge network is rootful only"))
	if v := s.Run("inspect", "-f", "{{len .NetworkSettings.Networks}}", "cs").MustSucceed(t).Out(); v != "1" {
		t.Errorf("cs's networks after a refused connect: %s, want 1", v)
	}
	s.Run("rm", "cc", "cs").MustSucceed(t)
	requireNoContainers(t, s, "refused rootless runs")
}
