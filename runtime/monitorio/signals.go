package monitorio

import (
	"os"
	"os/signal"
	"syscall"
)

// CatchSignals is both monitors' signal disposition: the terminal signals
// and SIGPIPE are caught rather than ignored (an ignored disposition would
// be inherited by the container's processes and the healthchecks), and
// SIGTERM calls stop, which stops the container as `skiff stop` does.
func CatchSignals(stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGPIPE)
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGTERM {
				stop()
			}
		}
	}()
}
