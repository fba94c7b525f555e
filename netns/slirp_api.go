//go:build !skiff_local

package netns

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// slirpAPITimeout bounds one request to slirp4netns's API socket.
const slirpAPITimeout = 5 * time.Second

// publish forwards ports with slirp4netns's own hostfwd (PortHandler
// slirp4netns). slirp4netns binds the host ports itself and connects to the
// container's SlirpAddress from its gateway: the container sees every
// client, TCP and UDP, as 10.0.2.2. Host addresses are IPv4 only. The
// forwards end with slirp4netns.
//
// With the host's loopback disabled (the default), libslirp drops the
// container's UDP replies to a client on the host's loopback: it will not
// translate 10.0.2.2 back to 127.0.0.1 (podman#4586). Such a client needs
// allow_host_loopback or the rootlesskit handler.
func (s *slirpProcess) publish(ports []PortMapping) error {
	for _, p := range ports {
		if err := s.addHostfwd(p); err != nil {
			return err
		}
	}
	return nil
}

// hostfwdRequest is slirp4netns's add_hostfwd; guest_addr left out is the
// container's address.
type hostfwdRequest struct {
	Execute   string `json:"execute"`
	Arguments struct {
		Proto     string `json:"proto"`
		HostAddr  string `json:"host_addr,omitempty"`
		HostPort  int    `json:"host_port"`
		GuestPort int    `json:"guest_port"`
	} `json:"arguments"`
}

type apiReply struct {
	Error *struct {
		Desc string `json:"desc"`
	} `json:"error"`
}

func (s *slirpProcess) addHostfwd(p PortMapping) error {
	var req hostfwdRequest
	req.Execute = "add_hostfwd"
	req.Arguments.Proto = p.Protocol
	req.Arguments.HostAddr = p.HostIP
	req.Arguments.HostPort = p.HostPort
	req.Arguments.GuestPort = p.ContainerPort
	var rep apiReply
	if err := s.call(req, &rep); err != nil {
		return fmt.Errorf("publishing %s: slirp4netns's API: %w", p, err)
	}
	if rep.Error == nil {
		return nil
	}
	// slirp4netns says only "slirp_add_hostfwd failed": find out why.
	if err := probeBind(p); err != nil {
		return portError(p, err)
	}
	return fmt.Errorf("publishing %s: slirp4netns: %s", p, rep.Error.Desc)
}

// call sends one request on a new connection to the API socket, which
// answers once and closes. The socket is reached through an open
// descriptor of its directory, as its full name may not fit a sockaddr_un.
func (s *slirpProcess) call(req, rep any) error {
	dir, err := os.Open(filepath.Dir(s.socket))
	if err != nil {
		return err
	}
	defer dir.Close()
	c, err := net.Dial("unix", fdPath(dir)+"/"+SlirpSocket)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(slirpAPITimeout))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return err
	}
	c.(*net.UnixConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return errors.New("no answer")
	}
	return json.Unmarshal(b, rep)
}
