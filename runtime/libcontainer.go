package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// LibcontainerConfig converts an OCI spec into libcontainer's config for
// the container id. spec.Root.Path must be absolute (specconv resolves
// relative paths against the current directory).
//
// rootless means "inside skiff's user namespace": there the caller is uid 0,
// so RootlessEUID stays false (runc's own choice there) and only the cgroups
// are treated as rootless. Where such a container cannot use cgroups (no
// delegation, or a v1/hybrid host), the cgroup path is emptied and every
// resource but the device rules dropped, because libcontainer's cgroupfs
// manager only tolerates permission errors for an empty path and fails the
// start for any limit; the engine refuses limits there before we get here.
// The container then needs its own PID namespace, so that killing its init
// takes all its processes down: it gets one if the spec has none.
func LibcontainerConfig(spec *specs.Spec, id string, rootless bool) (*configs.Config, error) {
	if spec.Root == nil || !strings.HasPrefix(spec.Root.Path, "/") {
		return nil, fmt.Errorf("container %s: the spec's root path must be absolute", id)
	}
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       id,
		UseSystemdCgroup: false,
		NoPivotRoot:      false,
		Spec:             spec,
		RootlessEUID:     false,
		RootlessCgroups:  rootless,
	})
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	if rootless && !CgroupsUsable(true) {
		cfg.Cgroups.Path = ""
		cfg.Cgroups.Resources = &cgroups.Resources{Devices: cfg.Cgroups.Resources.Devices}
		if !cfg.Namespaces.Contains(configs.NEWPID) {
			cfg.Namespaces.Add(configs.NEWPID, "")
		}
	}
	return cfg, nil
}

// NewProcess builds the libcontainer process for p, which specconv does
// not convert: init is true for a container's first process, false for an
// exec. The caller sets stdio, ConsoleSocket and the console size.
func NewProcess(p *specs.Process, init bool) (*libcontainer.Process, error) {
	if p == nil || len(p.Args) == 0 {
		return nil, fmt.Errorf("the process has no command to run")
	}
	lp := &libcontainer.Process{
		Args:            p.Args,
		Env:             p.Env,
		Cwd:             p.Cwd,
		UID:             int(p.User.UID),
		GID:             int(p.User.GID),
		NoNewPrivileges: &p.NoNewPrivileges,
		AppArmorProfile: p.ApparmorProfile,
		Label:           p.SelinuxLabel,
		Scheduler:       p.Scheduler,
		IOPriority:      p.IOPriority,
		Init:            init,
	}
	for _, gid := range p.User.AdditionalGids {
		lp.AdditionalGroups = append(lp.AdditionalGroups, int(gid))
	}
	if c := p.Capabilities; c != nil {
		lp.Capabilities = &configs.Capabilities{
			Bounding: c.Bounding, Effective: c.Effective, Inheritable: c.Inheritable,
			Permitted: c.Permitted, Ambient: c.Ambient,
		}
	}
	for _, r := range p.Rlimits {
		typ, ok := ulimitResources[strings.ToLower(strings.TrimPrefix(r.Type, "RLIMIT_"))]
		if !ok {
			return nil, fmt.Errorf("unknown rlimit %q", r.Type)
		}
		lp.Rlimits = append(lp.Rlimits, configs.Rlimit{Type: typ, Hard: r.Hard, Soft: r.Soft})
	}
	if p.ConsoleSize != nil {
		lp.ConsoleHeight, lp.ConsoleWidth = uint16(p.ConsoleSize.Height), uint16(p.ConsoleSize.Width)
	}
	aff, err := configs.ConvertCPUAffinity(p.ExecCPUAffinity)
	if err != nil {
		return nil, err
	}
	lp.CPUAffinity = aff
	return lp, nil
}

// KillOrphan kills and destroys container id if it still runs with no
// monitor left (libcontainer's state names its init by pid and start time,
// so a reused pid is never hit), waiting up to 10 s for it to go. The
// container's init gets SIGKILL as its parent-death signal, so this finds
// something only where that could not act: the init had not set it yet, or
// an exec of a binary with file capabilities cleared it.
func KillOrphan(stateRoot, id string) {
	lc, err := libcontainer.Load(stateRoot, id)
	if err != nil {
		return // never started, or its monitor destroyed it
	}
	if st, err := lc.Status(); err == nil && st != libcontainer.Stopped {
		lc.Signal(unix.SIGKILL)
		for i := 0; i < 200; i++ {
			if st, err := lc.Status(); err != nil || st == libcontainer.Stopped {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	lc.Destroy()
}

// Signal sends sig to container id's init through libcontainer, which
// checks the init's start time, so a reused pid is never hit (and with a
// shared PID namespace, SIGKILL reaches every process of the cgroup). A
// container that does not run is errdefs.ErrConflict.
//
// A signal that can be caught waits (at most execWait) until the init has
// run the container's command: until then the init is skiff-monitor's Go
// code, which as the PID namespace's first process cannot be killed by a
// signal's default action and so exits 2 on SIGTERM (a stop right after a
// start then read as exit 2, not the command's own answer).
func Signal(stateRoot, id string, sig unix.Signal) error {
	lc, err := libcontainer.Load(stateRoot, id)
	if err == nil && sig != unix.SIGKILL {
		if st, serr := lc.State(); serr == nil {
			awaitExec(st.InitProcessPid, execWait)
		}
	}
	if err == nil {
		err = lc.Signal(sig)
	}
	if errors.Is(err, libcontainer.ErrNotExist) || errors.Is(err, libcontainer.ErrNotRunning) {
		return fmt.Errorf("container %s is not running: %w", id, errdefs.ErrConflict)
	}
	return err
}

// execWait bounds awaitExec: a start that got this far execs in
// milliseconds.
const execWait = 2 * time.Second

// awaitExec waits until process pid is no longer libcontainer's init (its
// command line skiff-monitor's "init": the binary itself may be a sealed
// copy, so its path tells nothing), pid is gone, or timeout passes.
func awaitExec(pid int, timeout time.Duration) {
	if pid <= 0 {
		return
	}
	path := "/proc/" + strconv.Itoa(pid) + "/cmdline"
	deadline := time.Now().Add(timeout)
	for delay := 100 * time.Microsecond; time.Now().Before(deadline); delay = min(delay*2, 10*time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil || !isMonitorInit(b) {
			return
		}
		time.Sleep(delay)
	}
}

// isMonitorInit reports whether a command line is skiff-monitor's
// libcontainer init ("…/skiff-monitor\x00init\x00").
func isMonitorInit(cmdline []byte) bool {
	args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	return len(args) == 2 && args[1] == "init" && strings.HasPrefix(filepath.Base(args[0]), "skiff-monitor")
}
