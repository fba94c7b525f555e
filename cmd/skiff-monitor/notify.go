package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/skiff-engine/skiff/runtime"
	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// The monitor speaks systemd's notification protocol itself (sd_notify(3),
// monitorio.SdNotify): one datagram per message to the unix socket
// NOTIFY_SOCKET names.

// notifyEnv is systemd's variable; the monitor takes the socket from its
// config, never from its environment, and passes the variable on to no one.
const notifyEnv = "NOTIFY_SOCKET"

// notifyStarted tells systemd the container runs, before the start is
// reported (systemd must know the main process before the ExecStart
// process exits): the monitor as MAINPID and, unless the container says
// it is ready itself, READY=1.
func (m *monitor) notifyStarted() {
	if m.cfg.NotifySocket == "" {
		return
	}
	msg := "MAINPID=" + strconv.Itoa(os.Getpid())
	if !m.cfg.NotifyContainer {
		msg += "\nREADY=1"
	}
	monitorio.SdNotify(m.cfg.NotifySocket, msg) // a unit without the socket still runs
}

// listenNotify is the socket a container that notifies itself sends to,
// bound through an open descriptor of its directory (the path may exceed a
// socket address) and writable by any of the container's users.
func (m *monitor) listenNotify() error {
	if !m.cfg.NotifyContainer {
		return nil
	}
	dir := filepath.Join(m.cfg.RunDir, runtime.NotifyDir)
	path := filepath.Join(dir, runtime.NotifySocketName)
	os.Remove(path) // left by a monitor that was killed
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{
		Name: "/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/" + runtime.NotifySocketName, Net: "unixgram"})
	if err != nil {
		return err
	}
	if err := os.Chmod(path, 0o777); err != nil {
		conn.Close()
		return err
	}
	m.notify = conn
	return nil
}

// startRelay passes the container's messages on to systemd with the
// monitor as MAINPID: a pid of the container's namespace means nothing to
// systemd. It ends when the socket is closed or at pauseRelay; it does
// nothing when the relay runs.
func (m *monitor) startRelay() {
	if m.notify == nil || m.relaying != nil {
		return
	}
	done := make(chan struct{})
	m.relaying = done
	go func() {
		defer close(done)
		m.relayNotify()
	}()
}

// pauseRelay ends the relay, leaving the socket open (a datagram is read
// whole or not at all).
func (m *monitor) pauseRelay() {
	if m.relaying == nil {
		return
	}
	m.notify.SetReadDeadline(time.Unix(1, 0))
	<-m.relaying
	m.relaying = nil
	m.notify.SetReadDeadline(time.Time{})
}

func (m *monitor) relayNotify() { monitorio.RelayNotify(m.notify, m.cfg.NotifySocket) }
