package engine

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/skiff-engine/skiff/runtime"
)

// The --sdnotify modes (podman's): who tells systemd that the container is
// ready, when a start is given systemd's NOTIFY_SOCKET.
const (
	SdNotifyMonitor   = "monitor"   // the monitor, once the container's process runs
	SdNotifyContainer = "container" // the container itself; the monitor relays it
	SdNotifyIgnore    = "ignore"    // nobody
)

// checkSdNotify validates --sdnotify; podman's "conmon" is the monitor.
func checkSdNotify(mode string) (string, error) {
	switch mode {
	case "", SdNotifyMonitor, SdNotifyContainer, SdNotifyIgnore:
		return mode, nil
	case "conmon":
		return SdNotifyMonitor, nil
	}
	return "", invalid("invalid sdnotify mode %q: use monitor, container or ignore", mode)
}

// applyNotify prepares a start given systemd's NOTIFY_SOCKET: the monitor's
// part in mc, and for SdNotifyContainer the proxy socket's directory,
// mounted into the container, and NOTIFY_SOCKET in its environment. In the
// other modes the container's environment loses NOTIFY_SOCKET, which names
// a socket it cannot reach.
func (e *Engine) applyNotify(c *Container, socket string, opts *runtime.SpecOptions, mc *runtime.MonitorConfig) error {
	if socket == "" || c.Config.SdNotify == SdNotifyIgnore {
		return nil
	}
	mc.NotifySocket = socket
	opts.Env = slices.DeleteFunc(slices.Clone(opts.Env), func(kv string) bool { return strings.HasPrefix(kv, "NOTIFY_SOCKET=") })
	if c.Config.SdNotify != SdNotifyContainer {
		return nil
	}
	dir := filepath.Join(mc.RunDir, runtime.NotifyDir)
	if err := os.MkdirAll(mc.RunDir, 0o700); err != nil {
		return err
	}
	// The container's users, whatever their ids, reach the socket through
	// this mount alone.
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	mc.NotifyContainer = true
	opts.Env = append(opts.Env, "NOTIFY_SOCKET="+runtime.ContainerNotifySocket)
	opts.Mounts = append(slices.Clone(opts.Mounts), runtime.Mount{Type: "bind", Source: dir, Destination: path.Dir(runtime.ContainerNotifySocket)})
	return nil
}
