package engine

import (
	"context"
	"errors"
	"fmt"
	"github.com/skiff-engine/skiff/engine/statedb"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// ContainerTopOptions: PsArgs are the options for ps (default -ef).
type ContainerTopOptions struct {
	PsArgs []string
}

// TopResult is docker top's answer: ps's column titles and the rows of the
// container's processes.
type TopResult struct {
	Titles    []string
	Processes [][]string
}

// ContainerTop runs the host's ps with psArgs (default -ef, as Docker) and
// keeps the rows whose PID is one of the container's processes: those in
// the PID namespace of its init, found in /proc (no cgroup needed, so it
// works rootless too).
func (e *Engine) ContainerTop(ctx context.Context, ref string, o ContainerTopOptions) (TopResult, error) {
	psArgs := o.PsArgs
	c, err := e.lookupContainer(ref)
	if err != nil {
		return TopResult{}, err
	}
	if !c.Running() || c.State.Pid <= 0 {
		return TopResult{}, fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrConflict)
	}
	pids, err := pidsInNamespaceOf(c.State.Pid)
	if err != nil {
		return TopResult{}, fmt.Errorf("container %s: %w", c.Name, err)
	}
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.CommandContext(ctx, "ps", psArgs...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return TopResult{}, invalid("ps %s failed: %s", strings.Join(psArgs, " "), strings.TrimSpace(string(ee.Stderr)))
		}
		return TopResult{}, fmt.Errorf("top runs the host's ps, which failed to start (install procps): %w", err)
	}
	return filterPs(out, pids)
}

// filterPs parses ps output: the last column (the command) may hold spaces.
func filterPs(out []byte, pids []int) (TopResult, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	titles := strings.Fields(lines[0])
	pidCol := slices.Index(titles, "PID")
	if pidCol < 0 {
		return TopResult{}, invalid("ps output has no PID column (%s): ask for one, e.g. -o pid,comm", lines[0])
	}
	res := TopResult{Titles: titles, Processes: [][]string{}}
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if len(fields) < len(titles) {
			continue
		}
		pid, err := strconv.Atoi(fields[pidCol])
		if err != nil || !slices.Contains(pids, pid) {
			continue
		}
		row := append(fields[:len(titles)-1:len(titles)-1], strings.Join(fields[len(titles)-1:], " "))
		res.Processes = append(res.Processes, row)
	}
	return res, nil
}

// pidsInNamespaceOf lists the processes (host pids) that share the PID
// namespace of init.
func pidsInNamespaceOf(init int) ([]int, error) {
	ns, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(init), "ns", "pid"))
	if err != nil {
		return nil, fmt.Errorf("reading its init's PID namespace: %w", err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(filepath.Join("/proc", ent.Name(), "ns", "pid")); err == nil && l == ns {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// PortMapping is one published port: Docker's "80/tcp -> 0.0.0.0:8080".
type PortMapping struct {
	ContainerPort int
	Proto         string // tcp, udp or sctp
	HostIP        string
	HostPort      int
}

func (p PortMapping) String() string {
	return fmt.Sprintf("%d/%s -> %s", p.ContainerPort, p.Proto, p.HostAddr())
}

// HostAddr is the host side, "0.0.0.0:8080" or "[::]:8080".
func (p PortMapping) HostAddr() string {
	return net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort))
}

// ContainerPorts lists a container's published ports: the host ports it
// holds while it runs, in the order published.
func (e *Engine) ContainerPorts(ctx context.Context, ref string, o ContainerPortsOptions) (ContainerPortsResult, error) {
	c, err := e.lookupContainer(ref)
	if err != nil {
		return ContainerPortsResult{}, err
	}
	allocs, err := e.db.ContainerPorts(ctx, c.ID)
	return ContainerPortsResult{Ports: portMappings(allocs)}, err
}

// portMappings are allocations as Docker shows them: every address as 0.0.0.0.
func portMappings(allocs []statedb.PortAllocation) []PortMapping {
	var out []PortMapping
	for _, a := range allocs {
		out = append(out, PortMapping{ContainerPort: a.ContainerPort, Proto: a.Protocol, HostIP: firstNonEmpty(a.HostIP, "0.0.0.0"), HostPort: a.HostPort})
	}
	return out
}

// ContainerPortsOptions tune ContainerPorts (none yet).
type ContainerPortsOptions struct{}

// ContainerPortsResult are the container's published ports.
type ContainerPortsResult struct {
	Ports []PortMapping
}

// ParsePortProto reads docker port's PRIVATE_PORT[/PROTO] (proto tcp when
// left out).
func ParsePortProto(s string) (int, string, error) {
	port, proto, ok := strings.Cut(s, "/")
	if !ok {
		proto = "tcp"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return 0, "", invalid("invalid port %q: use a number from 1 to 65535, optionally /tcp, /udp or /sctp", s)
	}
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return 0, "", invalid("invalid protocol %q in %q: use tcp, udp or sctp", proto, s)
	}
	return n, proto, nil
}
