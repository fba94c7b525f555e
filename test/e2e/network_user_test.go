package e2e

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// User networks, rootful and rootless (in the user's shared network
// namespace): containers reach each other by name, alias and short ID
// through the network's name server, other networks neither resolve nor
// reach them, an internal network reaches nothing outside, and
// ls/inspect/rm/prune behave as Docker's.
func TestNetworkUserNetworks(t *testing.T) {
	t.Parallel()
	ForEachMode(t, testUserNetworks)
}

func testUserNetworks(t *testing.T, s *Skiff) {
	bb := setup(t, s)
	if s.Rootless() {
		// The host's server below is on its loopback: rootless, the
		// shared namespace's way out reaches it only when allowed.
		s.SetNetworkConfig(t, `rootless_netns_options = "allow_host_loopback=true"`)
	}
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
// Rootless, they race to start the shared namespace's holder too.
func TestNetworkParallelAddresses(t *testing.T) {
	t.Parallel()
	ForEachMode(t, testParallelAddresses)
}

func testParallelAddresses(t *testing.T, s *Skiff) {
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

// --ip and --mac-address on a user network: the container has them, a
// second container cannot take the address, and ps filters by published
// and exposed ports. Rootless, --ip on the default network (no bridge) is
// refused.
func TestNetworkFixedAddress(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		if s.Rootless() {
			requireOneLine(t, s.Run("run", "--rm", "--ip", "10.0.2.50", bb, "true").MustFail(t, 125, "--ip and --mac-address need the bridge network"))
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

// Rootless user networks live in one shared network namespace, whose
// holder starts with the first container that needs it and exits once
// none does, kill -9 of that container's monitor included; the next
// container starts a new one, and a network removed while it runs can be
// made again with the same subnet.
func TestNetworkSharedNamespace(t *testing.T) {
	t.Parallel()
	s := NewSkiff(t, Rootless)
	bb := setup(t, s)
	holder := func() []proc {
		return procs(func(args []string) bool {
			return filepath.Base(args[0]) == "skiff-monitor" && len(args) == 3 && args[1] == "netns" && strings.HasPrefix(args[2], s.RunRoot+"/")
		})
	}
	s.Run("network", "create", "--subnet", "10.77.0.0/24", "one").MustSucceed(t)
	if h := holder(); len(h) != 0 {
		t.Fatalf("a holder before any container: %v", h)
	}
	s.Run("run", "-d", "--name", "ca", "--network", "one", bb, "sleep", "600").MustSucceed(t)
	id := s.Run("inspect", "-f", "{{.Id}}", "ca").MustSucceed(t).Out()
	first := holder()
	if len(first) != 1 {
		t.Fatalf("holders with one container: %v", first)
	}
	if err := syscall.Kill(monitorOf(t, s, id).pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the holder exits once its only user's monitor was killed", func() bool { return !first[0].alive() })

	s.Run("rm", "-f", "ca").MustSucceed(t)
	s.Run("network", "rm", "one").MustSucceed(t)
	s.Run("network", "create", "--subnet", "10.77.0.0/24", "two").MustSucceed(t)
	s.Run("run", "-d", "--name", "cb", "--network", "two", bb, "sleep", "600").MustSucceed(t)
	second := holder()
	if len(second) != 1 || second[0].pid == first[0].pid {
		t.Fatalf("holders after a new container: %v (the first was %v)", second, first)
	}
	s.Run("run", "--rm", "--network", "two", bb, "sh", "-c", "ip -4 addr show eth0; ping -c1 -W2 cb").
		Assert(t, Expect{Stdout: "inet 10.77.0."})
	// Removed while the namespace lives, and made again: its bridge and
	// address are gone with it, so the new one works.
	s.Run("rm", "-f", "cb").MustSucceed(t)
	s.Run("run", "-d", "--name", "cc", "--network", "two", bb, "sleep", "600").MustSucceed(t)
	s.Run("network", "create", "--subnet", "10.78.0.0/24", "three").MustSucceed(t)
	s.Run("run", "-d", "--name", "cd", "--network", "three", bb, "sleep", "600").MustSucceed(t)
	s.Run("rm", "-f", "cd").MustSucceed(t)
	s.Run("network", "rm", "three").MustSucceed(t)
	s.Run("network", "create", "--subnet", "10.78.0.0/24", "four").MustSucceed(t)
	s.Run("run", "--rm", "--network", "four", bb, "sh", "-c", "ip -4 addr show eth0; ping -c1 -W2 $(ip route | awk '/default/ {print $3}')").
		Assert(t, Expect{Stdout: "inet 10.78.0."})
	s.Run("rm", "-f", "cc").MustSucceed(t)
	eventually(t, 10*time.Second, "the holder exits after the last container", func() bool { return len(holder()) == 0 })
}

// kill -9 of skiff in the middle of starts on a user network (some before,
// some during, some after the address is given) leaves the database
// usable and never two containers on one address; once the killed ones
// are removed, every address is free again: the next container gets the
// subnet's first.
func TestNetworkAddressesKilledStarts(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("network", "create", "--subnet", "10.79.0.0/24", "kills").MustSucceed(t)
		var wg sync.WaitGroup
		for i := range 12 {
			cmd := s.Cmd("run", "-d", "--name", "k"+strconv.Itoa(i), "--network", "kills", bb, "sleep", "600")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 1 {
					time.Sleep(time.Duration(i*4) * time.Millisecond)
					cmd.Process.Signal(syscall.SIGKILL)
				}
				cmd.Wait()
			}()
		}
		wg.Wait()
		seen := map[string]string{}
		for _, name := range s.Run("ps", "--format", "{{.Names}}").MustSucceed(t).Lines() {
			ip := inspectString(t, s, name, "NetworkSettings.IPAddress")
			if other, dup := seen[ip]; dup || !strings.HasPrefix(ip, "10.79.0.") {
				t.Errorf("%s has address %q (%s has it too?)", name, ip, other)
			}
			seen[ip] = name
		}
		s.Run("rm", "-af").MustSucceed(t)
		s.Run("run", "--rm", "--network", "kills", bb, "ip", "-4", "addr", "show", "eth0").
			Assert(t, Expect{Stdout: "inet 10.79.0.2/24"})
		if v := s.Run("network", "inspect", "-f", "{{len .Containers}}", "kills").MustSucceed(t).Out(); v != "0" {
			t.Errorf("network inspect after rm -af: %s containers", v)
		}
	})
}

// A network named by its ID (or a prefix) is the network itself: a user
// network's, and rootful the default one's, which then shows as bridge.
func TestNetworkByID(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("network", "create", "--subnet", "10.81.0.0/24", "byid").MustSucceed(t)
		id := s.Run("network", "inspect", "-f", "{{.Id}}", "byid").MustSucceed(t).Out()
		s.Run("run", "-d", "--name", "viaid", "--network", id[:12], bb, "sleep", "60").MustSucceed(t)
		s.Run("inspect", "-f", "{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}}", "viaid").Assert(t, Expect{Stdout: "byid 10.81.0.2"})
		s.Run("rm", "-f", "viaid").MustSucceed(t)
		if s.Rootless() {
			return
		}
		def := s.Run("network", "inspect", "-f", "{{.Id}}", "bridge").MustSucceed(t).Out()
		s.Run("run", "-d", "--name", "viadef", "--network", def, bb, "sleep", "60").MustSucceed(t)
		s.Run("inspect", "-f", "{{.HostConfig.NetworkMode}}", "viadef").Assert(t, Expect{Stdout: "bridge"})
		s.Run("rm", "-f", "viadef").MustSucceed(t)
	})
}
