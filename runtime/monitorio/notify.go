package monitorio

import (
	"net"
	"os"
	"strconv"
	"strings"
)

// SdNotify sends msg to systemd's notification socket (sd_notify(3)): a
// path or, with a leading '@', an abstract name (net translates it).
func SdNotify(socket, msg string) error {
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(msg))
	return err
}

// RelayNotify passes the messages a container sends to conn on to socket
// with this process as MAINPID (a pid of the container's namespace means
// nothing to systemd), until a read fails: the socket closed, or a
// deadline (a datagram is read whole or not at all).
func RelayNotify(conn *net.UnixConn, socket string) {
	buf := make([]byte, 4096)
	self := "MAINPID=" + strconv.Itoa(os.Getpid())
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return
		}
		lines := []string{self}
		for _, l := range strings.Split(string(buf[:n]), "\n") {
			if l != "" && !strings.HasPrefix(l, "MAINPID=") {
				lines = append(lines, l)
			}
		}
		SdNotify(socket, strings.Join(lines, "\n"))
	}
}
