package netns

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSlirpTap: slirp4netns, or the user-mode network where this user
// cannot open /dev/net/tun, configures tap0 in the namespace, and Close
// ends it and with it tap0.
func TestSlirpTap(t *testing.T) {
	pid := targetNS(t)
	n := setup(t, Config{Mode: ModeSlirp4netns}, pid)
	checkTap(t, pid, SlirpAddress+"/24", SlirpMTU)
	want := 0
	if tunUsable() {
		want = 1
	}
	if c := slirpChildren(t); c != want {
		t.Fatalf("%d slirp4netns running, want %d", c, want)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if c := slirpChildren(t); c != 0 {
		t.Fatalf("%d slirp4netns left after Close", c)
	}
	err := inNS(t, pid, func() error { _, err := net.InterfaceByName("tap0"); return err })
	if err == nil {
		t.Fatal("tap0 outlived Close")
	}
}

// TestSlirpNoTunError: where /dev/net/tun is not usable, an option only
// slirp4netns has fails at once with the error that says why.
func TestSlirpNoTunError(t *testing.T) {
	if tunUsable() {
		t.Skip("this user may open /dev/net/tun")
	}
	pid := targetNS(t)
	start := time.Now()
	_, err := Setup(Config{Mode: ModeSlirp4netns, Slirp: &SlirpOptions{EnableIPv6: true}, StateDir: t.TempDir()}, pid)
	if err == nil || !strings.Contains(err.Error(), tunDevice) || !strings.Contains(err.Error(), "enable_ipv6") {
		t.Fatalf("Setup with enable_ipv6 without a usable %s: %v", tunDevice, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the error took %s", d)
	}
	if err := inNS(t, pid, func() error { _, err := net.InterfaceByName("tap0"); return err }); err == nil {
		t.Fatal("a failed Setup left tap0")
	}
	t.Log(err)
}

// checkTap checks tap0's first address and MTU in the namespace of pid.
func checkTap(t *testing.T, pid int, addr string, mtu int) {
	t.Helper()
	var addrs []string
	var got int
	err := inNS(t, pid, func() error {
		ifc, err := net.InterfaceByName("tap0")
		if err != nil {
			return err
		}
		got = ifc.MTU
		as, err := ifc.Addrs()
		for _, a := range as {
			addrs = append(addrs, a.String())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) == 0 || addrs[0] != addr || got != mtu {
		t.Fatalf("tap0 has %v, MTU %d; want %s, MTU %d", addrs, got, addr, mtu)
	}
}

// TestSlirpOutbound: with AllowHostLoopback the namespace reaches a server
// on the host's 127.0.0.1 at 10.0.2.2; without it, it does not.
func TestSlirpOutbound(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello from the host\n"))
			c.Close()
		}
	}()
	gw := net.JoinHostPort(SlirpGateway, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	for _, allow := range []bool{true, false} {
		t.Run("allow_host_loopback="+strconv.FormatBool(allow), func(t *testing.T) {
			pid := targetNS(t)
			setup(t, Config{Mode: ModeSlirp4netns, Slirp: &SlirpOptions{AllowHostLoopback: allow}}, pid)
			var got []byte
			err := inNS(t, pid, func() error {
				c, err := net.DialTimeout("tcp", gw, 3*time.Second)
				if err != nil {
					return err
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				got, err = io.ReadAll(c)
				return err
			})
			switch {
			case allow && (err != nil || string(got) != "hello from the host\n"):
				t.Fatalf("%s from the namespace: %q, %v", gw, got, err)
			case !allow && err == nil && len(got) > 0:
				t.Fatalf("%s answered %q with the host's loopback disabled", gw, got)
			}
		})
	}
}

// TestSlirpUnprivileged runs this package's slirp, user-mode network and
// port tests again as an unprivileged user inside `unshare -r`, the shape
// of skiff's rootless monitor: where that user cannot open /dev/net/tun
// (mode 0600) they check the user-mode network through Setup.
func TestSlirpUnprivileged(t *testing.T) {
	if os.Getuid() != 0 || os.Getenv("SKIFF_NETNS_UNPRIVILEGED") != "" {
		t.Skip("needs root, to become another user")
	}
	dir, err := os.MkdirTemp("", "netns-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "netns.test")
	if err := copyFile(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody to run as")
	}
	tmp := filepath.Join(dir, "tmp")
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	if err := os.Mkdir(tmp, 0o700); err != nil || os.Chown(tmp, uid, gid) != nil {
		t.Fatal("a temporary directory for nobody:", err)
	}
	cmd := exec.Command("setpriv", "--reuid="+nobody.Uid, "--regid="+nobody.Gid, "--clear-groups",
		"unshare", "--user", "--map-root-user", bin, "-test.v", "-test.run=^(TestSlirp|TestPublish|TestPortError|TestUsernet)")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SKIFF_NETNS_UNPRIVILEGED=1", "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the tests as nobody: %v", err)
	}
	for _, want := range []string{"--- PASS: TestSlirpTap", "--- PASS: TestSlirpOutbound", "--- PASS: TestPublishTCP",
		"--- PASS: TestPublishUDP", "--- PASS: TestSlirpDiesWithMonitor", "--- PASS: TestUsernetDNS", "--- PASS: TestPortErrorPrivileged"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the run as nobody lacks %q", want)
		}
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

// TestSlirpDiesWithMonitor: kill -9 of the process that called Setup (the
// monitor) ends its slirp4netns, or its user-mode network, and frees its
// published ports.
func TestSlirpDiesWithMonitor(t *testing.T) {
	if os.Getenv("SKIFF_NETNS_MONITOR") != "" {
		pid, _ := strconv.Atoi(os.Getenv("SKIFF_NETNS_MONITOR"))
		port, _ := strconv.Atoi(os.Getenv("SKIFF_NETNS_PORT"))
		p := PortMapping{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 80, Protocol: "tcp"}
		// The parent's directory: this process is killed, so a t.TempDir of
		// its own would never be removed.
		if _, err := Setup(Config{Mode: ModeSlirp4netns, StateDir: os.Getenv("SKIFF_NETNS_STATE"), Ports: []PortMapping{p}}, pid); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("network up\n")
		time.Sleep(time.Minute)
		return
	}
	pid := targetNS(t)
	port := freePort(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSlirpDiesWithMonitor$")
	cmd.Env = append(os.Environ(), "SKIFF_NETNS_MONITOR="+strconv.Itoa(pid), "SKIFF_NETNS_PORT="+strconv.Itoa(port), "SKIFF_NETNS_STATE="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "network up\n" {
		t.Fatalf("the monitor said %q", line)
	}
	slirp := childrenOf(t, cmd.Process.Pid, slirpBinary)
	if want := map[bool]int{true: 1, false: 0}[tunUsable()]; len(slirp) != want {
		t.Fatalf("the monitor has %d slirp4netns, want %d", len(slirp), want)
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		ln.Close()
		t.Fatal("the published port is not held")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("the port after kill -9 of the monitor: %v", err)
	}
	ln.Close()
	if len(slirp) == 0 {
		return // the user-mode network was the monitor's threads and sockets
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		// Gone, or a zombie: its parent died, and a PID 1 that does not
		// reap (this machine's) leaves it so.
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(slirp[0]) + "/stat")
		if fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); err != nil || len(fields) > 0 && fields[0] == "Z" {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(slirp[0], syscall.SIGKILL)
			t.Fatal("slirp4netns outlived its monitor")
		}
	}
}
