package e2e

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// User networks (rootful; rootless ones need a per-user network namespace,
// refused with a clear line until it exists): containers reach each other
// by name, alias and short ID through the network's name server, other
// networks neither resolve nor reach them, an internal network reaches
// nothing outside, and ls/inspect/rm/prune behave as Docker's.
func TestNetworkUserNetworks(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootful)
	bb := setup(t, s)
	for _, n := range []string{"front", "back"} {
		s.Run("network", "create", n).MustSucceed(t)
	}
	s.Run("network", "create", "--internal", "--label", "tier=secret", "vault").MustSucceed(t)
	s.Run("run", "-d", "--name", "web", "--network", "front", "--network-alias", "www", bb, "sh", "-c", webScript).MustSucceed(t)
	short := s.Run("inspect", "-f", "{{.Id}}", "web").MustSucceed(t).Out()[:12]
	get := func(network, host string) *Result {
		return s.Run("run", "--rm", "--network", network, bb, "sh", "-c",
			"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://"+host+"/ && exit; sleep 0.3; done; exit 1")
	}
	for _, host := range []string{"web", "www", short, "web.dns.skiff"} {
		get("front", host).Assert(t, Expect{Stdout: "hello-from-web"})
	}
	get("back", "web").MustFail(t, 1, "bad address")
	ip := inspectString(t, s, "web", "NetworkSettings.IPAddress")
	s.Run("run", "--rm", "--network", "back", bb, "sh", "-c", "wget -qO- http://"+ip+"/ || echo unreachable").
		Assert(t, Expect{Stdout: "unreachable", NotStdout: "hello-from-web"})

	// The internal network reaches no server outside, the host's included.
	port := strconv.Itoa(hostPort(t))
	dir := s.WriteFile("hostwww", nil)
	s.RunCommand("rm", dir).MustSucceed(t)
	s.RunCommand("mkdir", dir).MustSucceed(t)
	s.WriteFile("hostwww/index.html", []byte("from-the-host\n"))
	startBackground(t, s.Command("busybox", "httpd", "-f", "-p", "0.0.0.0:"+port, "-h", dir))
	s.Run("run", "--rm", "--network", "front", bb, "sh", "-c",
		"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://host.containers.internal:"+port+"/ && exit; sleep 0.3; done; exit 1").
		Assert(t, Expect{Stdout: "from-the-host"})
	s.Run("run", "--rm", "--network", "vault", bb, "sh", "-c",
		"timeout 3 wget -qO- http://host.containers.internal:"+port+"/ || echo unreachable").
		Assert(t, Expect{Stdout: "unreachable", NotStdout: "from-the-host"})

	ls := s.Run("network", "ls").MustSucceed(t).Stdout
	for _, n := range []string{"bridge", "front", "back", "vault"} {
		if !strings.Contains(ls, " "+n+" ") {
			t.Errorf("network ls lacks %s:\n%s", n, ls)
		}
	}
	s.Run("network", "ls", "-q", "--filter", "label=tier=secret").Assert(t, Expect{Stdout: s.Run("network", "inspect", "-f", "{{.Id}}", "vault").MustSucceed(t).Out()[:12]})
	if v := s.Run("network", "inspect", "-f", "{{.Internal}} {{len .Containers}}", "vault").MustSucceed(t).Out(); v != "true 0" {
		t.Errorf("inspect vault: %q", v)
	}
	if v := s.Run("network", "inspect", "-f", "{{range .Containers}}{{.Name}}{{end}}", "front").MustSucceed(t).Out(); v != "web" {
		t.Errorf("inspect front's containers: %q", v)
	}
	s.Run("network", "exists", "front").MustSucceed(t)
	s.Run("network", "exists", "nosuch").MustFail(t, 1, "")

	// Bad input: one line, exit 125, nothing created.
	subnet := s.Run("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "front").MustSucceed(t).Out()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"network", "create", "--subnet", subnet, "clash"}, "overlaps with network front"},
		{[]string{"network", "create", "front"}, "already exists"},
		{[]string{"network", "create", "--subnet", "10.1.2.3", "nope"}, "invalid --subnet"},
		{[]string{"network", "create", "-d", "macvlan", "nope"}, "not supported"},
		{[]string{"network", "rm", "front"}, "in use by container(s) web"},
		{[]string{"network", "rm", "bridge"}, "pre-defined"},
		{[]string{"run", "--rm", "--network", "nosuch", bb, "true"}, "network nosuch not found"},
	} {
		requireOneLine(t, s.Run(tc.args...).MustFail(t, 125, tc.want))
	}
	if ls := s.Run("network", "ls", "--format", "{{.Name}}").MustSucceed(t).Lines(); !slices.Contains(ls, "front") || slices.Contains(ls, "clash") || slices.Contains(ls, "nope") {
		t.Errorf("refused network creates left networks: %q", ls)
	}
	s.Run("network", "exists", "front").MustSucceed(t) // refused rm: still there
	s.Run("network", "rm", "-f", "nosuch").MustSucceed(t)

	s.Run("rm", "-f", "web").MustSucceed(t)
	s.Run("network", "rm", "front").Assert(t, Expect{Stdout: "front"})
	pruned := s.Run("network", "prune", "-f").MustSucceed(t).Stdout
	if !strings.Contains(pruned, "back") || !strings.Contains(pruned, "vault") {
		t.Errorf("network prune -f: %q", pruned)
	}
	if ls := s.Run("network", "ls", "-q").MustSucceed(t).Lines(); len(ls) != 1 {
		t.Errorf("after prune: %q, want only bridge", ls)
	}
}

// 20 containers started at once on one network never share an address.
func TestNetworkParallelAddresses(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootful)
	bb := setup(t, s)
	s.Run("network", "create", "many").MustSucceed(t)
	var wg sync.WaitGroup
	results := make([]*Result, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.Run("run", "-d", "--name", "p"+strconv.Itoa(i), "--network", "many", bb, "sleep", "60")
		}()
	}
	wg.Wait()
	seen := map[string]string{}
	for i, r := range results {
		r.MustSucceed(t)
		name := "p" + strconv.Itoa(i)
		ip := inspectString(t, s, name, "NetworkSettings.IPAddress")
		if other, dup := seen[ip]; dup || ip == "" {
			t.Errorf("%s got address %q, as %s did", name, ip, other)
		}
		seen[ip] = name
	}
	s.Run("rm", "-af").MustSucceed(t)
}

// Rootless user networks are refused with one clear line for now.
func TestNetworkUserNetworksRootless(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootless)
	requireOneLine(t, s.Run("network", "create", "front").MustFail(t, 125, "rootless user networks are not built yet"))
	s.Run("network", "exists", "front").MustFail(t, 1, "")
}

// --ip and --mac-address on a user network: the container has them, a
// second container cannot take the address, and ps filters by published
// and exposed ports. Rootless, --ip needs a bridge and is refused.
func TestNetworkFixedAddress(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		if s.Rootless() {
			requireOneLine(t, s.Run("run", "--rm", "--ip", "10.0.2.50", bb, "true").MustFail(t, 125, "--ip and --mac-address need the bridge network"))
			return
		}
		s.Run("network", "create", "fixed").MustSucceed(t)
		subnet := s.Run("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "fixed").MustSucceed(t).Out()
		ip := strings.TrimSuffix(subnet, "0/24") + "50"
		mac := "92:d0:c6:0a:29:33"
		s.Run("run", "-d", "--name", "pinned", "--network", "fixed", "--ip", ip, "--mac-address", mac, "-p", "127.0.0.1::80", "--expose", "90/udp", bb, "sleep", "60").MustSucceed(t)
		out := s.Run("exec", "pinned", "ip", "addr", "show", "eth0").MustSucceed(t).Stdout
		if !strings.Contains(out, "inet "+ip+"/24") || !strings.Contains(out, "link/ether "+mac) {
			t.Errorf("eth0 of --ip %s --mac-address %s:\n%s", ip, mac, out)
		}
		requireOneLine(t, s.Run("run", "--rm", "--network", "fixed", "--ip", ip, bb, "true").MustFail(t, 125, "already in use"))
		s.Run("ps", "--format", "{{.Names}}", "--filter", "publish=80").Assert(t, Expect{Stdout: "pinned"})
		s.Run("ps", "--format", "{{.Names}}", "--filter", "expose=90/udp").Assert(t, Expect{Stdout: "pinned"})
		s.Run("ps", "--format", "{{.Names}}", "--filter", "publish=90/udp").Assert(t, Expect{Stdout: ""})
		s.Run("rm", "-f", "pinned").MustSucceed(t)
	})
}
