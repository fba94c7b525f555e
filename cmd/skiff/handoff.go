package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/runtime"
)

// Two builds of this command: `skiff`, built with the skiff_local tag, is
// the CLI of the commands people and scripts run all the time (run, exec,
// ps, start, stop, ...); it leaves out the half of containers/image that
// talks to registries and reads and writes archives, and the Engine API
// server, and so starts in about half the time. `skiff-full`, the same
// program with all of it, installed beside it, is what skiff hands a
// command that moves images (pull, push, save, load, import, login, logout,
// a run or create whose image must be pulled) or serves the API: the
// command line and the environment are passed on unchanged, before
// anything has been read or written.

const fullBinary = "skiff-full"

// transfers marks the action of a command that moves images: this build
// runs it when it can, else hands the command to skiff-full.
func transfers(action cli.ActionFunc) cli.ActionFunc {
	if imagestore.CanTransfer {
		return action
	}
	return func(*cli.Context) error { return handOff() }
}

// handOff replaces this process with skiff-full running the same command
// line; it returns only when that cannot be done.
func handOff() error {
	bin, err := runtime.HelperBinary(fullBinary)
	if err != nil {
		return err
	}
	self, _ := os.Executable()
	if self == bin {
		return fmt.Errorf("%s was built without image transfers (the skiff_local tag): rebuild it with make", bin)
	}
	err = syscall.Exec(bin, append([]string{bin}, os.Args[1:]...), os.Environ())
	return fmt.Errorf("handing the command to %s: %w", bin, err)
}

// cliBinary is the skiff a monitor runs as its exit command: this program,
// or, in skiff-full (a run that pulled, the API service), the quicker skiff
// beside it.
func cliBinary() string {
	self, err := os.Executable()
	if err != nil || filepath.Base(self) != fullBinary {
		return "" // the engine's default: this executable
	}
	if cli := filepath.Join(filepath.Dir(self), "skiff"); isExecutable(cli) {
		return cli
	}
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
