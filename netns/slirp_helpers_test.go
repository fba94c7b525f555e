package netns

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// targetNS starts a process in a new user and network namespace, the shape
// of a rootless container's init, and returns its pid. It is killed at the
// test's end, and its namespaces with it.
func targetNS(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--net", "sleep", "600")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(b)) == "sleep" {
			return pid
		}
	}
	t.Fatal("unshare did not exec sleep")
	return 0
}

// inNS runs fn on a thread in the network namespace of pid. Sockets fn
// opens stay in that namespace. The thread is left locked, so the runtime
// ends it rather than reuse it.
func inNS(t testing.TB, pid int, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// serveTCPInNS listens on port in the namespace of pid and answers every
// connection with the client's address as the container sees it.
func serveTCPInNS(t *testing.T, pid, port int) {
	t.Helper()
	var ln net.Listener
	err := inNS(t, pid, func() (err error) {
		ln, err = net.Listen("tcp", "0.0.0.0:"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			c.Write([]byte(host + "\n"))
			c.Close()
		}
	}()
}

// serveUDPInNS answers every datagram on port in the namespace of pid with
// "echo <data> from <client's address>".
func serveUDPInNS(t *testing.T, pid, port int) {
	t.Helper()
	var pc net.PacketConn
	err := inNS(t, pid, func() (err error) {
		pc, err = net.ListenPacket("udp", "0.0.0.0:"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(addr.String())
			pc.WriteTo([]byte("echo "+string(buf[:n])+" from "+host), addr)
		}
	}()
}

// askTCP connects to addr (from local, when not empty) and returns the
// line the server sent.
func askTCP(t *testing.T, local, addr string) string {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading from %s: %v", addr, err)
	}
	return strings.TrimSpace(line)
}

// freePort is a port nothing listens on at 127.0.0.1, for tcp and udp.
func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// slirpChildren counts this process's slirp4netns children.
func slirpChildren(t *testing.T) int {
	t.Helper()
	return len(childrenOf(t, os.Getpid(), slirpBinary))
}

// childrenOf lists the pids of parent's children named comm. A zombie
// (reaped soon by its parent's Wait) does not count.
func childrenOf(t *testing.T, parent int, comm string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.HasSuffix(s[:i], "("+comm) {
			continue
		}
		if f := strings.Fields(s[i+1:]); len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(parent) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tunUsable says whether this process may open /dev/net/tun, so whether
// slirp4netns may: the tests expect a working network, or the clear error.
func tunUsable() bool {
	f, err := os.OpenFile(tunDevice, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// setup is Setup for the namespace of pid, closed at the test's end.
func setup(t testing.TB, cfg Config, pid int) *Network {
	t.Helper()
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	n, err := Setup(cfg, pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}
