// Command udptool is the UDP client and server of the end-to-end tests,
// put into a test image (busybox's nc here has no -u). It is built static
// (CGO_ENABLED=0) so that it runs in an image with no libc.
//
//	udptool echo PORT          answer every datagram with "PAYLOAD from ADDR",
//	                           ADDR the sender's address as this socket saw it;
//	                           each sender's address also goes to stdout
//	udptool send HOST:PORT MSG send MSG (again every 200 ms until a reply, for
//	                           a server that is still starting) and print the
//	                           first reply; exit 1 after 10 s without one
//	udptool notify MSG         send MSG (\n: a new line) to $NOTIFY_SOCKET, one
//	                           unix datagram, as sd_notify(3) does (busybox
//	                           has no client for that either)
package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	sendTimeout = 10 * time.Second
	resendEvery = 200 * time.Millisecond
)

func main() {
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "echo":
		err = echo(os.Args[2])
	case len(os.Args) == 4 && os.Args[1] == "send":
		err = send(os.Args[2], os.Args[3])
	case len(os.Args) == 3 && os.Args[1] == "notify":
		err = notify(os.Getenv("NOTIFY_SOCKET"), strings.ReplaceAll(os.Args[2], `\n`, "\n"))
	default:
		err = errors.New("usage: udptool echo PORT | udptool send HOST:PORT MSG | udptool notify MSG")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "udptool:", err)
		os.Exit(1)
	}
}

// echo serves on every address of PORT, IPv4 and IPv6.
func echo(port string) error {
	if _, err := strconv.Atoi(port); err != nil {
		return fmt.Errorf("port %q is not a number", port)
	}
	c, err := net.ListenPacket("udp", ":"+port)
	if err != nil {
		return err
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		// An IPv4 sender on the dual-stack socket is ::ffff:a.b.c.d: print
		// it as a.b.c.d, as the sender knows itself.
		ap := from.(*net.UDPAddr).AddrPort()
		addr := netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
		fmt.Println(addr)
		if _, err := c.WriteTo(append(buf[:n:n], " from "+addr...), from); err != nil {
			fmt.Fprintln(os.Stderr, "udptool: reply to", addr+":", err)
		}
	}
}

// send writes msg to addr until a reply comes. A refusal (ICMP port
// unreachable: no server yet) is retried as silence is.
func send(addr, msg string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(sendTimeout)
	buf := make([]byte, 65536)
	for time.Now().Before(deadline) {
		if _, err := c.Write([]byte(msg)); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
			return err
		}
		c.SetReadDeadline(time.Now().Add(resendEvery))
		n, err := c.Read(buf)
		if err == nil {
			fmt.Println(string(buf[:n]))
			return nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, syscall.ECONNREFUSED) {
			return err
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			time.Sleep(resendEvery)
		}
	}
	return fmt.Errorf("no reply from %s within %s", addr, sendTimeout)
}

// notify sends msg to systemd's notification socket.
func notify(socket, msg string) error {
	if socket == "" {
		return errors.New("NOTIFY_SOCKET is not set")
	}
	c, err := net.Dial("unixgram", socket)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(msg))
	return err
}
