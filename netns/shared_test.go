package netns

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// TestSharedNamespace: the holder makes the shared namespace with its way
// out on tap0 (slirp4netns where /dev/net/tun opens, else the user-mode
// network), a bridge set up with Config.Shared is made there and not in the
// caller's namespace, the container on it reaches its gateway, and the
// holder exits, taking the namespace, once its last user closed.
func TestSharedNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unprivileged, network namespaces are made inside skiff's user namespace")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, sharedConfFile), []byte(`{"dir":"`+dir+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan error, 1)
	go func() { done <- ServeShared(dir, w) }()
	if line, _ := bufio.NewReader(r).ReadString('\n'); line != "ok\n" {
		t.Fatalf("holder: %q", line)
	}
	ns, err := OpenShared(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	err = inNetns(int(ns.Fd()), func() error {
		ifc, err := net.InterfaceByName("tap0")
		if err != nil {
			return err
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if strings.HasPrefix(a.String(), SlirpAddress+"/") {
				return nil
			}
		}
		return errors.New("tap0 lacks " + SlirpAddress)
	})
	if err != nil {
		t.Fatalf("the way out: %v", err)
	}
	if tunUsable() && len(childrenOf(t, os.Getpid(), "slirp4netns")) != 1 {
		t.Fatal("no slirp4netns for the shared namespace")
	}

	pid := targetNS(t)
	br := &BridgeConfig{ContainerID: "sharedtest0123", Name: "sksh0", Subnet: "10.251.0.0/24", Gateway: "10.251.0.1", Address: "10.251.0.2"}
	n := setup(t, Config{Mode: ModeBridge, Bridges: []BridgeConfig{*br}, Shared: &SharedConfig{Dir: dir}}, pid)
	if _, err := netlink.LinkByName(br.Name); err == nil {
		t.Fatal("the bridge was made in the caller's namespace")
	}
	var l net.Listener
	err = inNetns(int(ns.Fd()), func() (err error) {
		l, err = net.Listen("tcp", br.Gateway+":0")
		return err
	})
	if err != nil {
		t.Fatalf("listening on the bridge's gateway in the shared namespace: %v", err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("gateway\n"))
			c.Close()
		}
	}()
	var got string
	err = inNS(t, pid, func() error {
		c, err := net.DialTimeout("tcp", l.Addr().String(), 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		got, err = bufio.NewReader(c).ReadString('\n')
		return err
	})
	if err != nil || got != "gateway\n" {
		t.Fatalf("the container to its gateway: %q, %v", got, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the holder still runs 10 s after its last user closed")
	}
	if _, err := os.Stat(filepath.Join(dir, sharedPidFile)); err == nil {
		t.Fatal("the holder left its pid file")
	}
	if _, err := OpenShared(dir); err == nil {
		t.Fatal("the shared namespace opens after its holder exited")
	}
}
