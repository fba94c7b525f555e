package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/skiff-engine/skiff/runtime"
)

// runExec runs one `skiff exec` process (see runtime.ExecConfig) and
// returns its exit code.
func runExec(path string) int {
	cfg, err := runtime.ReadExecConfig(path)
	if err != nil {
		return execError(125, err)
	}
	c, err := libcontainer.Load(cfg.StateRoot, cfg.ID)
	if err == nil {
		var st libcontainer.Status
		if st, err = c.Status(); err == nil && st != libcontainer.Running {
			err = fmt.Errorf("container %s is %s", cfg.ID, st)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: container %s is not running\n", cfg.ID)
		return 125
	}
	p, err := runtime.NewProcess(&cfg.Process, false)
	if err != nil {
		return execError(125, err)
	}
	switch {
	case cfg.Detach:
		// nil stdio is /dev/null; nobody would hold a pty master.
		if err := c.Run(p); err != nil {
			return execError(runtime.StartExitCode(err.Error()), err)
		}
		return 0
	case cfg.Process.Terminal:
		return execPty(c, p)
	}
	p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := forwardSignals(p)
	defer signal.Stop(sigs)
	if err := c.Run(p); err != nil {
		return execError(runtime.StartExitCode(err.Error()), err)
	}
	ps, _ := p.Wait()
	return exitCode(ps)
}

func execError(code int, err error) int {
	fmt.Fprintf(os.Stderr, "Error: exec failed: %v\n", err)
	return code
}

// forwardSignals passes SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to the
// monitor on to the process. SIGINT and SIGQUIT from the terminal reach the
// process directly (it is in our process group, or its terminal is raw),
// so they are only kept from killing the monitor.
func forwardSignals(p *libcontainer.Process) chan os.Signal {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2, unix.SIGINT, unix.SIGQUIT)
	go func() {
		for sig := range sigs {
			if sig != unix.SIGINT && sig != unix.SIGQUIT {
				p.Signal(sig)
			}
		}
	}()
	return sigs
}

// execPty runs the process on a pty whose master we copy to and from our
// stdio, with our terminal (if stdin is one) in raw mode and its size
// followed.
func execPty(c *libcontainer.Container, p *libcontainer.Process) int {
	parent, child, err := consoleSocket()
	if err != nil {
		return execError(125, err)
	}
	defer parent.Close()
	stdin := int(os.Stdin.Fd())
	sizeFd := -1 // our terminal, whose size the process's follows
	for _, fd := range []int{stdin, int(os.Stdout.Fd())} {
		if term.IsTerminal(fd) {
			sizeFd = fd
			break
		}
	}
	if sizeFd >= 0 {
		if ws, err := unix.IoctlGetWinsize(sizeFd, unix.TIOCGWINSZ); err == nil {
			p.ConsoleHeight, p.ConsoleWidth = ws.Row, ws.Col
		}
	}
	p.ConsoleSocket = child
	sigs := forwardSignals(p)
	defer signal.Stop(sigs)
	err = c.Run(p)
	child.Close()
	if err != nil {
		return execError(runtime.StartExitCode(err.Error()), err)
	}
	master, err := recvPty(parent)
	if err != nil {
		p.Signal(unix.SIGKILL)
		p.Wait()
		return execError(125, err)
	}
	defer master.Close()
	if term.IsTerminal(stdin) {
		if old, err := term.MakeRaw(stdin); err == nil {
			defer term.Restore(stdin, old)
		}
	}
	if sizeFd >= 0 {
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				if ws, err := unix.IoctlGetWinsize(sizeFd, unix.TIOCGWINSZ); err == nil {
					setSize(master, ws.Row, ws.Col)
				}
			}
		}()
	}
	go io.Copy(master, os.Stdin)
	out := make(chan struct{})
	go func() { io.Copy(os.Stdout, master); close(out) }()
	ps, _ := p.Wait()
	// The rest of the output; a process left in the background may hold
	// the terminal open, so do not wait for its end for long.
	master.SetReadDeadline(time.Now().Add(drainTimeout))
	<-out
	return exitCode(ps)
}
