package netns

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The bridge tests run in a network namespace of their own (the test binary
// re-executed under unshare --net), where they play the host; the
// containers, and a network "outside" the host, are helper processes in
// namespaces of their own. Nothing is sent anywhere else, and everything
// the tests create ends with their namespaces.
const (
	envInside = "SKIFF_NETNS_TEST_INSIDE" // set in the re-executed test
	envHelper = "SKIFF_NETNS_HELPER"      // serve NAME | dial PROTO ADDR | setup PID CONFIG
)

// TestNetnsHelper is no test: it is the process the bridge tests start in
// the namespaces they create.
func TestNetnsHelper(t *testing.T) {
	args := strings.SplitN(os.Getenv(envHelper), " ", 3)
	if args[0] == "" {
		t.Skip("the helper process of the bridge tests")
	}
	switch args[0] {
	case "serve":
		serve(args[1])
	case "dial":
		reply, err := exchange(args[1], args[2])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println(reply)
	case "setup": // a monitor: sets up the network and waits to be killed
		pid, _ := strconv.Atoi(args[1])
		var cfg Config
		if err := json.Unmarshal([]byte(args[2]), &cfg); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if _, err := Setup(cfg, pid); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("ready")
		select {}
	}
	os.Exit(0)
}

// serve answers on port 80, TCP and UDP, with its name and the client's
// address as it sees it.
func serve(name string) {
	l, err := net.Listen("tcp4", ":80")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	u, err := net.ListenPacket("udp4", ":80")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	go func() {
		buf := make([]byte, 64)
		for {
			_, from, err := u.ReadFrom(buf)
			if err != nil {
				return
			}
			ip := from.(*net.UDPAddr).IP.String()
			fmt.Println("udp " + ip)
			u.WriteTo([]byte(name+" "+ip), from)
		}
	}()
	fmt.Println("ready")
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		fmt.Fprintf(c, "%s %s\n", name, c.RemoteAddr().(*net.TCPAddr).IP)
		c.Close()
	}
}

// exchange asks the server at addr who answers and who it sees.
func exchange(proto, addr string) (string, error) {
	c, err := net.DialTimeout(proto, addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	var b []byte
	if proto == "udp" {
		if _, err = c.Write([]byte("who")); err == nil {
			b = make([]byte, 64)
			var n int
			n, err = c.Read(b)
			b = b[:n]
		}
	} else {
		b, err = io.ReadAll(c)
	}
	return strings.TrimSpace(string(b)), err
}

// inOwnNetns reports whether the test runs in its own network namespace;
// if not, it runs the test again in one and reports false.
func inOwnNetns(t *testing.T) bool {
	if os.Getenv(envInside) != "" {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates bridges, veths and nftables rules (in namespaces of its own)")
	}
	for _, tool := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (util-linux)", tool)
		}
	}
	args := []string{"--net", testBinary(t), "-test.run=^" + t.Name() + "$", "-test.v"}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), envInside+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a network namespace of its own:\n%s", out)
	if err != nil {
		t.Fatalf("%s in its own network namespace: %v", t.Name(), err)
	}
	if strings.Contains(string(out), "--- SKIP: "+t.Name()) {
		t.Skip("skipped in its own network namespace")
	}
	return false
}

func testBinary(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// helper is the test binary as a helper process, run by the command
// before it (unshare, nsenter) if any.
func helper(t *testing.T, mode string, before ...string) *exec.Cmd {
	args := append(before, testBinary(t), "-test.run=^TestNetnsHelper$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), envHelper+"="+mode)
	return cmd
}

// startHelper starts a helper that prints "ready" once it is, and kills it
// when the test ends. It returns the rest of the helper's output.
func startHelper(t *testing.T, cmd *exec.Cmd) *bufio.Reader {
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	r := bufio.NewReader(out)
	line, _ := r.ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("%v: %q", cmd.Args, line)
	}
	return r
}

// server is a helper server in a network namespace of its own, where it
// stands for a container's init (or for a network beyond the host).
type server struct {
	pid   int
	lines chan string // "udp FROM" for each datagram it got
}

func startServer(t *testing.T, name string) *server {
	cmd := helper(t, "serve "+name, "unshare", "--net")
	r := startHelper(t, cmd)
	s := &server{pid: cmd.Process.Pid, lines: make(chan string, 64)}
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			s.lines <- strings.TrimSpace(line)
		}
	}()
	return s
}

// heard reports whether s got a datagram from ip, waiting a little: what
// one-way traffic leaks shows here, not in a reply.
func (s *server) heard(ip string) bool {
	timeout := time.After(500 * time.Millisecond)
	for {
		select {
		case line := <-s.lines:
			if line == "udp "+ip {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// dialFrom runs exchange in the network namespace of pid.
func dialFrom(t *testing.T, pid int, proto, addr string) (string, error) {
	out, err := helper(t, "dial "+proto+" "+addr, "nsenter", "--net=/proc/"+strconv.Itoa(pid)+"/ns/net", "--").Output()
	if err != nil {
		return "", fmt.Errorf("%s: %v", strings.TrimSpace(string(out)), err)
	}
	return strings.TrimSpace(string(out)), nil
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
