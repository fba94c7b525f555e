// Command skiff-monitor is the per-container monitor (conmon's role). It is
// kept small on purpose: it imports only libcontainer, x/sys, skiff's
// runtime and netns packages and the standard library, so it starts
// several times faster than skiff and is cheaper for libcontainer to
// re-execute as the container's init. Built with the skiff_nonet tag it is
// skiff-monitor-lean, without netns (network_lean.go): half the size, for
// execs and containers without a network of their own. Once the container
// runs either becomes skiff-monitor-idle (idle.go), a far smaller program,
// until the init exits.
//
//	skiff-monitor run <monitor.json>   monitor one container (runtime.MonitorConfig)
//	skiff-monitor exec <exec.json>     run a process in a running container (runtime.ExecConfig)
//	skiff-monitor health <monitor.json> one healthcheck of a running container, for skiff-monitor-idle
//	skiff-monitor init                 libcontainer's container init (re-exec)
//	skiff-monitor dns <dns.json>       a user network's name server (runtime.DNSConfig; not in the lean build)
//	skiff-monitor netns <dir>          the holder of rootless user networks' namespace (netns.ServeShared; not lean)
//
// `run` is started by the engine in its own session with fd 3 the write end
// of its start-up pipe (the handshake is described in runtime/monitor.go).
// It creates and starts the container with libcontainer, so it is the
// container init's parent and the only process that can wait for its exit
// status. It writes the log, serves the attach socket, records State, runs
// the restart policy (restart.go: a new init after Docker's backoff), and
// when the container exits for good it destroys it and runs the exit command.
//
// Signals: the engine signals a container's init directly (kill(2) of the
// pid recorded in State, which is only trusted while the monitor that
// recorded it lives), never through the monitor. The monitor ignores
// SIGHUP, SIGINT and SIGQUIT (it outlives the shell that started it); on
// SIGTERM it stops the container the way `skiff stop` does (the stop
// signal, SIGKILL after the stop timeout), so that `kill <monitor>` or a
// system shutdown ends the container and its exit is still recorded; a
// SIGTERM while it still waits for its config ends it (exit 143), as an
// uncaught one would. Signals are caught, not ignored: an ignored
// disposition would be inherited by the container's processes.
// skiff-monitor-idle does the same.
//
// `exec` replaces the skiff CLI (execve) so that the process libcontainer
// re-executes to enter the container is this small binary, not skiff, or
// runs as the engine's child with pipes (runtime.RunExec). Either way its
// stdio belong to its caller, and the process gets only pipes or a pty
// that it copies. It exits with the process's exit code, or Docker's
// 125/126/127.
package main

import (
	"fmt"
	"os"
	goruntime "runtime"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	// Device cgroup rules, and nsenter's C constructor that joins the
	// container's namespaces before the Go runtime starts in `init`.
	_ "github.com/opencontainers/cgroups/devices"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// The main goroutine keeps to the main thread, the thread group's leader,
// from the start. The container's init has a parent-death signal, which
// the kernel sends when the thread that forked it ends: the monitor forks
// it (and a restart the next) from the thread that lives as long as the
// process. And the monitor's execve (becoming skiff-monitor-idle, idle.go)
// is made from the leader: from another thread, the old leader would read
// as a zombie while the kernel swaps them, which runtime.ProcessStartTime
// takes for a dead monitor.
func init() { goruntime.LockOSThread() }

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		if os.Getenv("_LIBCONTAINER_INITTYPE") == "standard" {
			// The container dies with its monitor: the monitor's thread
			// that started us, its main thread (init above), lives as
			// long as the monitor. libcontainer keeps the signal across
			// its setuid.
			unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
		}
		libcontainer.Init() // never returns
	}
	if len(os.Args) != 3 {
		usage()
	}
	switch os.Args[1] {
	case "run":
		os.Exit(runMonitor(os.Args[2]))
	case "exec":
		os.Exit(runExec(os.Args[2]))
	case "health":
		os.Exit(runHealth(os.Args[2]))
	}
	if code, ok := runHelper(os.Args[1], os.Args[2]); ok {
		os.Exit(code)
	}
	usage()
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: skiff-monitor run MONITOR-JSON | exec EXEC-JSON | health MONITOR-JSON | dns DNS-JSON | netns DIR (started by skiff, not by hand)")
	os.Exit(125)
}
