package main

import (
	"fmt"
	"slices"
	"strings"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// Kernel flags: the namespaces shared with the host, /dev/shm's size,
// sysctls, the OOM score and host devices, as Docker's. Their rules (which
// sysctls, ranges, device nodes) are runtime.CheckOptions's.

func kernelFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "pid", Usage: "PID namespace: host, or private (the default)"},
		&cli.StringFlag{Name: "ipc", Usage: "IPC namespace: host, or private/shareable (the default)"},
		&cli.StringFlag{Name: "uts", Usage: "UTS namespace: host, or private (the default)"},
		&cli.StringFlag{Name: "domainname", Usage: "container NIS domain name"},
		&cli.StringFlag{Name: "shm-size", Usage: "size of /dev/shm (e.g. 256m; default 64m)"},
		&cli.StringSliceFlag{Name: "sysctl", Usage: "namespaced kernel parameter (net.ipv4.ip_forward=1)"},
		&cli.IntFlag{Name: "oom-score-adj", Usage: "tune the container's OOM preferences (-1000 to 1000)"},
		&cli.StringSliceFlag{Name: "device", Usage: "add a host device (HOST[:CONTAINER][:PERMISSIONS], e.g. /dev/fuse)"},
	}
}

func parseKernelFlags(c *cli.Context, o *engine.ContainerCreateOptions) error {
	k := &o.Kernel
	var err error
	for _, m := range []struct {
		flag string
		dst  *string
		ok   []string // the private modes Docker names
	}{{"pid", &k.PIDMode, []string{"private"}}, {"ipc", &k.IPCMode, []string{"private", "shareable"}}, {"uts", &k.UTSMode, []string{"private"}}} {
		if *m.dst, err = namespaceMode(m.flag, c.String(m.flag), m.ok); err != nil {
			return err
		}
	}
	k.Domainname = c.String("domainname")
	if s := c.String("shm-size"); s != "" {
		n, err := units.RAMInBytes(s)
		if err != nil || n <= 0 || n >= 1<<62 {
			return fmt.Errorf("invalid --shm-size %q: use a positive size with an optional unit (b, k, m, g), e.g. 256m", s)
		}
		k.ShmSize = n
	}
	for _, kv := range c.StringSlice("sysctl") {
		key, value, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("invalid --sysctl %q: use NAME=VALUE, e.g. net.ipv4.ip_forward=1", kv)
		}
		if k.Sysctls == nil {
			k.Sysctls = map[string]string{}
		}
		k.Sysctls[strings.TrimSpace(key)] = value
	}
	if isSet(c, "oom-score-adj") {
		k.OomScoreAdj, k.OomScoreAdjSet = c.Int("oom-score-adj"), true
	}
	for _, d := range c.StringSlice("device") {
		dev, err := parseDevice(d)
		if err != nil {
			return err
		}
		k.Devices = append(k.Devices, dev)
	}
	return nil
}

// namespaceMode is "" (private) or "host"; another container's namespace
// (container:NAME) is not supported.
func namespaceMode(flag, v string, private []string) (string, error) {
	switch {
	case v == "" || slices.Contains(private, v):
		return "", nil
	case v == "host":
		return v, nil
	case strings.HasPrefix(v, "container:"):
		return "", fmt.Errorf("--%s %s: sharing another container's %s namespace is not supported: use host, or leave it private", flag, v, strings.ToUpper(flag))
	}
	return "", fmt.Errorf("invalid --%s %q: use host, or %s", flag, v, strings.Join(private, " or "))
}

// parseDevice reads Docker's HOST[:CONTAINER][:PERMISSIONS]; a second field
// of r, w and m alone is the permissions.
func parseDevice(s string) (engine.Device, error) {
	parts := strings.Split(s, ":")
	d := engine.Device{Path: parts[0]}
	switch len(parts) {
	case 1:
	case 2:
		if isPermissions(parts[1]) {
			d.Permissions = parts[1]
		} else {
			d.ContainerPath = parts[1]
		}
	case 3:
		d.ContainerPath, d.Permissions = parts[1], parts[2]
		if !isPermissions(d.Permissions) {
			return d, fmt.Errorf("invalid --device %q: permissions %q: use letters of rwm", s, d.Permissions)
		}
	default:
		return d, fmt.Errorf("invalid --device %q: use HOST[:CONTAINER][:PERMISSIONS], e.g. /dev/fuse or /dev/sda:/dev/xvda:rw", s)
	}
	if d.Path == "" {
		return d, fmt.Errorf("invalid --device %q: the host path is empty", s)
	}
	return d, nil
}

func isPermissions(s string) bool {
	return s != "" && strings.Trim(s, "rwm") == ""
}
