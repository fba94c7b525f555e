package netns

import (
	"io"
	"net"
	"strconv"
	"testing"
)

// BenchmarkTCP measures TCP throughput between the host and a namespace,
// through a published port (rootlesskit's driver) and through the gateway
// 10.0.2.2 (the host's loopback), each way, over the user-mode network and,
// where it can run, slirp4netns:
//
//	go test ./netns -run '^$' -bench TCP -benchtime 1024x
//
// moves 1 GiB per case (1 MiB an iteration).
func BenchmarkTCP(b *testing.B) {
	nets := []struct {
		name  string
		setup func(testing.TB, Config, int) *Network
	}{{"usernet", setupUser}}
	if tunUsable() {
		nets = append(nets, struct {
			name  string
			setup func(testing.TB, Config, int) *Network
		}{"slirp4netns", setup})
	}
	for _, nw := range nets {
		for _, path := range []string{"port", "gateway"} {
			for _, toNS := range []bool{true, false} {
				dir := map[bool]string{true: "host-to-ns", false: "ns-to-host"}[toNS]
				b.Run(nw.name+"/"+path+"/"+dir, func(b *testing.B) {
					host, ns := benchPair(b, nw.setup, path)
					if toNS {
						benchTransfer(b, host, ns)
					} else {
						benchTransfer(b, ns, host)
					}
				})
			}
		}
	}
}

// benchPair connects the host and a new namespace through path and
// returns both ends.
func benchPair(b *testing.B, setupNet func(testing.TB, Config, int) *Network, path string) (host, ns net.Conn) {
	pid := targetNS(b)
	if path == "port" {
		var ln net.Listener
		if err := inNS(b, pid, func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:8080"); return err }); err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		port := freePort(b)
		p := PortMapping{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8080, Protocol: "tcp"}
		setupNet(b, Config{Mode: ModeSlirp4netns, Ports: []PortMapping{p}}, pid)
		host, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			b.Fatal(err)
		}
		ns, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { host.Close(); ns.Close() })
		return host, ns
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	setupNet(b, Config{Mode: ModeSlirp4netns, Slirp: &SlirpOptions{AllowHostLoopback: true}}, pid)
	gw := net.JoinHostPort(SlirpGateway, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	if err := inNS(b, pid, func() (err error) { ns, err = net.Dial("tcp", gw); return err }); err != nil {
		b.Fatal(err)
	}
	host, err = ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { host.Close(); ns.Close() })
	return host, ns
}

// benchTransfer writes b.N MiB to w and waits until its peer r read them
// all.
func benchTransfer(b *testing.B, w, r net.Conn) {
	chunk := make([]byte, 1<<20)
	b.SetBytes(int64(len(chunk)))
	got := make(chan int64, 1)
	go func() { n, _ := io.Copy(io.Discard, r); got <- n }()
	b.ResetTimer()
	for range b.N {
		if _, err := w.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	w.(*net.TCPConn).CloseWrite()
	if n := <-got; n != int64(b.N)*int64(len(chunk)) {
		b.Fatalf("%d bytes arrived of %d", n, b.N*len(chunk))
	}
}
