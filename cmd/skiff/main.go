// Command skiff is a daemonless, rootless container engine with Docker's CLI.
//
// main builds the urfave/cli application, runs it, and turns the returned error
// into an exit code. Only main exits.
package main

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"

	"go.podman.io/storage/pkg/reexec"

	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/userns"
)

// The main goroutine keeps to the main thread, the thread group's leader:
// exec's fast path replaces skiff with the monitor (execve), which from
// another thread would leave the old leader reading as a zombie while the
// kernel swaps them (see runtime.ProcessStartTime). The CLI's work, mostly
// one goroutine's system calls, is also quicker on one thread: exec 5 %,
// run 2-4 % in ABBA rounds.
func init() { goruntime.LockOSThread() }

func main() {
	// containers/storage re-executes this binary for some work (applying
	// layers in a chroot); those calls must not reach the CLI.
	if reexec.Init() {
		return
	}
	if err := joinUnlessPrintOnly(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(exitEngine)
	}
	app := newApp()
	err := app.Run(reorderArgs(app, os.Args))
	if err == nil {
		return
	}
	if errors.Is(err, imagestore.ErrTransferElsewhere) {
		// a run or create whose image must be pulled, found out before
		// anything was made (handoff.go)
		err = handOff()
	}
	code := exitCode(err)
	var silent *silentError
	var cmdExit *userns.ExitError // unshare's command spoke for itself
	if !errors.As(err, &silent) && !errors.As(err, &cmdExit) {
		fmt.Fprintf(os.Stderr, "Error: %s\n", oneLine(err))
	}
	os.Exit(code)
}

// joinUnlessPrintOnly joins the rootless namespace, except for the commands
// that only print what the command definitions say (completion scripts, man
// pages): they open no store, and `make man` as a user must not leave a
// pause process behind.
func joinUnlessPrintOnly(args []string) error {
	if len(args) > 1 && (args[1] == "completion" || args[1] == "__man") {
		return nil
	}
	return userns.Join(os.Stderr)
}
