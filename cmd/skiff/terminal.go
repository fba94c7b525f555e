package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/skiff-engine/skiff/engine"
)

// rawTerminal puts stdin in raw mode when it is a terminal and returns the
// restore function plus the current size and a channel of size changes.
func rawTerminal() (restore func(), size [2]uint16, resize <-chan [2]uint16) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return func() {}, size, nil
	}
	state, err := term.MakeRaw(fd)
	if err != nil {
		return func() {}, size, nil
	}
	size = terminalSize()
	ch := make(chan [2]uint16, 1)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	go func() {
		for range winch {
			select {
			case ch <- terminalSize():
			default:
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		term.Restore(fd, state)
	}, size, ch
}

func terminalSize() [2]uint16 {
	ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		if ws, err = unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err != nil {
			return [2]uint16{}
		}
	}
	return [2]uint16{ws.Row, ws.Col}
}

// detachKeys is the command's --detach-keys, checked before anything runs.
func detachKeys(c *cli.Context) ([]byte, error) {
	keys, ok := engine.ParseDetachKeys(c.String("detach-keys"))
	if !ok {
		return nil, fmt.Errorf("invalid --detach-keys %q: use a comma-separated list of a letter or ctrl-<letter>, e.g. ctrl-p,ctrl-q", c.String("detach-keys"))
	}
	return keys, nil
}
