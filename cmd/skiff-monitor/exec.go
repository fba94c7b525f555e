package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/skiff-engine/skiff/runtime"
)

// runExec runs one `skiff exec` process (see runtime.ExecConfig) and
// returns its exit code. Our stdio are the caller's descriptors; the
// process only ever gets pipes or a pty whose other ends we copy, or
// /dev/null.
func runExec(path string) int {
	cfg, err := runtime.ReadExecConfig(path)
	if err != nil {
		return execError(125, err)
	}
	code := execConfig(cfg)
	if !cfg.Detach && cfg.ExitFile != "" {
		runtime.WriteFileAtomic(cfg.ExitFile, []byte(strconv.Itoa(code)), 0o600, false)
	}
	if !cfg.Detach && cfg.ExecID != "" {
		runtime.WriteSpoolEvent(cfg.EventSpool, runtime.SpoolEvent{Type: "container", Action: "exec_die", ID: cfg.ID,
			Attributes: map[string]string{"execID": cfg.ExecID, "exitCode": strconv.Itoa(code)}})
	}
	return code
}

func execConfig(cfg runtime.ExecConfig) int {
	// The kernel's wait before a cgroup move (libcontainer puts the process
	// in the container's cgroups) overlaps the load and the set-up; warm
	// ends once the process runs (see runtime.WarmCgroupAttach).
	warm := runtime.WarmCgroupAttach()
	defer warm()
	go warmPidfd() // beside the load, for the start of the process
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
	// A caller that stops reading (exec ... | head -1) must not kill us
	// before the process ends: Go exits on EPIPE at fd 1 or 2 unless
	// SIGPIPE is caught. Caught, not ignored: the process would inherit
	// an ignored disposition.
	signal.Notify(make(chan os.Signal, 1), unix.SIGPIPE)
	switch {
	case cfg.Detach:
		// nil stdio is /dev/null; nobody would hold a pty master.
		if err := c.Run(p); err != nil {
			return execError(runtime.StartExitCode(err.Error()), err)
		}
		writePid(cfg.PidFile, p)
		return 0
	case cfg.Process.Terminal:
		return execPty(c, p, cfg, warm)
	}
	return execPipes(c, p, cfg, warm)
}

// writePid records the started process's pid in path ("": nowhere).
func writePid(path string, p *libcontainer.Process) {
	if path == "" {
		return
	}
	if pid, err := p.Pid(); err == nil {
		runtime.WriteFileAtomic(path, []byte(strconv.Itoa(pid)), 0o600, false)
	}
}

func execError(code int, err error) int {
	fmt.Fprintf(os.Stderr, "Error: exec failed: %v\n", err)
	return code
}

// forwardSignals passes SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to the
// monitor on to the process. SIGINT and SIGQUIT from the terminal reach the
// process directly (it is in our process group, or its terminal is raw),
// so they are only kept from killing the monitor. They stay caught until
// the monitor exits: a signal.Stop would cost the exec a round trip to
// the Go runtime's signal-mask thread per signal (0.4 to 1.2 ms for the
// six), and a signal after the process's end would then kill us before
// the exit file and event are written, with its code for the process's.
func forwardSignals(p *libcontainer.Process) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2, unix.SIGINT, unix.SIGQUIT)
	go func() {
		for sig := range sigs {
			if sig != unix.SIGINT && sig != unix.SIGQUIT {
				p.Signal(sig)
			}
		}
	}()
}

// execPipes runs the process with a pipe for stdout and one for stderr
// (and one for stdin with stdin set; /dev/null otherwise), copied to and
// from our stdio.
// warm is called once the process is started.
func execPipes(c *libcontainer.Container, p *libcontainer.Process, cfg runtime.ExecConfig, warm func()) int {
	var theirs, ours []*os.File
	defer func() {
		for _, f := range append(theirs, ours...) {
			f.Close()
		}
	}()
	var inW *os.File
	if cfg.Stdin {
		r, w, err := os.Pipe()
		if err != nil {
			return execError(125, err)
		}
		p.Stdin, inW = r, w
		theirs, ours = append(theirs, r), append(ours, w)
	}
	outs := make([]*os.File, 2)
	for i := range outs {
		r, w, err := os.Pipe()
		if err != nil {
			return execError(125, err)
		}
		outs[i] = r
		theirs, ours = append(theirs, w), append(ours, r)
	}
	p.Stdout, p.Stderr = theirs[len(theirs)-2], theirs[len(theirs)-1]
	forwardSignals(p)
	err := c.Run(p)
	warm()
	for _, f := range theirs {
		f.Close() // the process holds them now; ours see its end of file
	}
	theirs = nil
	if err != nil {
		return execError(runtime.StartExitCode(err.Error()), err)
	}
	writePid(cfg.PidFile, p)
	if inW != nil {
		go func() { io.Copy(inW, os.Stdin); inW.Close() }()
	}
	var copies sync.WaitGroup
	for i, dst := range []*os.File{os.Stdout, os.Stderr} {
		copies.Add(1)
		go func() { defer copies.Done(); copyOutput(dst, outs[i]) }()
	}
	ps, _ := p.Wait()
	drain(&copies, outs...)
	return exitCode(ps)
}

// copyOutput copies the process's output to ours until its end (or a
// deadline). When our side is gone, it closes the pipe so that the process
// gets EPIPE (or SIGPIPE) as it would have writing to a broken pipe itself.
// Once dst fails (the caller went away) the output is read and dropped,
// as Docker's exec does when its client leaves: the process runs on.
func copyOutput(dst io.Writer, src *os.File) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && dst != nil {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				dst = nil
			}
		}
		if err != nil {
			return
		}
	}
}

// drain waits for the rest of the output after the process exited. A
// process it left in the background may hold the pipes (or the pty) open,
// so the wait is bounded; such a process gets EPIPE or a hang-up once we
// are gone.
func drain(copies *sync.WaitGroup, srcs ...*os.File) {
	for _, f := range srcs {
		f.SetReadDeadline(time.Now().Add(drainTimeout))
	}
	copies.Wait()
}

// execPty runs the process on a pty whose master we copy to and from our
// stdio. With stdin (-i) and a terminal there, ours goes in raw mode. The
// pty's size is Process.ConsoleSize, then what arrives on
// runtime.ExecResizeFd (cfg.Resize), or else follows our terminal's. warm
// is called once the process is started.
func execPty(c *libcontainer.Container, p *libcontainer.Process, cfg runtime.ExecConfig, warm func()) int {
	parent, child, err := consoleSocket()
	if err != nil {
		return execError(125, err)
	}
	defer parent.Close()
	stdin := int(os.Stdin.Fd())
	sizeFd := -1 // our terminal, whose size the process's follows
	if !cfg.Resize {
		for _, fd := range []int{stdin, int(os.Stdout.Fd())} {
			if term.IsTerminal(fd) {
				sizeFd = fd
				break
			}
		}
	}
	if sizeFd >= 0 {
		if ws, err := unix.IoctlGetWinsize(sizeFd, unix.TIOCGWINSZ); err == nil {
			p.ConsoleHeight, p.ConsoleWidth = ws.Row, ws.Col
		}
	}
	// nil stdio: libcontainer's init starts on /dev/null and puts the pty
	// slave on 0, 1 and 2; the slave is all the process has.
	p.ConsoleSocket = child
	forwardSignals(p)
	err = c.Run(p)
	warm()
	child.Close()
	if err != nil {
		return execError(runtime.StartExitCode(err.Error()), err)
	}
	writePid(cfg.PidFile, p)
	master, err := recvPty(parent)
	if err != nil {
		p.Signal(unix.SIGKILL)
		p.Wait()
		return execError(125, err)
	}
	defer master.Close()
	if cfg.Stdin && term.IsTerminal(stdin) {
		if old, err := term.MakeRaw(stdin); err == nil {
			defer term.Restore(stdin, old)
		}
	}
	switch {
	case cfg.Resize:
		go followSizes(os.NewFile(runtime.ExecResizeFd, "resize"), master)
	case sizeFd >= 0:
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
	if cfg.Stdin {
		go io.Copy(master, os.Stdin)
	}
	var copies sync.WaitGroup
	copies.Add(1)
	go func() { defer copies.Done(); copyOutput(os.Stdout, master) }()
	ps, _ := p.Wait()
	drain(&copies, master)
	return exitCode(ps)
}

// followSizes applies the terminal sizes read from r to the pty until r
// ends.
func followSizes(r *os.File, master *os.File) {
	defer r.Close()
	buf := make([]byte, 4)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		if h, w, err := runtime.DecodeResize(buf); err == nil {
			setSize(master, h, w)
		}
	}
}
