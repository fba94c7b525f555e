package userns

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// Migrate stops the pause process (SIGKILL, then removes pause.pid) so the
// next invocation creates a fresh namespace, e.g. with new /etc/subuid
// ranges. Processes already inside keep the old namespaces until they exit,
// and while a container monitor runs the next invocation joins its
// namespaces again (ensurePause): Migrate says so on warn. It works from
// inside the namespace (the pause is in our pid namespace and owned by the
// same user) and is a no-op when no pause runs.
func Migrate(warn io.Writer) error {
	dir := StateDir()
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := lockState(dir)
	if err != nil {
		return err
	}
	defer unlock()
	pid, err := readPidFile(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil && isPause(pid) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stopping the pause process %d: %w", pid, err)
		}
	}
	if err := os.Remove(dir + "/pause.pid"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the pause pid file: %w", err)
	}
	if n := runningMonitors(dir); n > 0 {
		fmt.Fprintf(warn, "WARNING: %d container(s) still run in the old namespace, so the next skiff command joins it again with its old id mappings; "+
			"stop them and run `skiff system migrate` again for a fresh namespace\n", n)
	}
	return nil
}

// ExitError is a non-zero exit of the command Unshare ran; signals count as
// 128+signal, as in a shell.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("command exited with status %d", e.Code) }

// ExitCode is the status the CLI should exit with.
func (e *ExitError) ExitCode() int { return e.Code }

// startError is a command Unshare could not start: 127 when it does not
// exist, 126 otherwise, like a shell.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }
func (e *startError) ExitCode() int {
	if errors.Is(e.err, exec.ErrNotFound) || errors.Is(e.err, os.ErrNotExist) {
		return 127
	}
	return 126
}

// Unshare runs argv ($SHELL or /bin/sh when empty) inside the namespace as
// uid 0 there, with env (nil inherits ours) and our stdio, like `podman
// unshare`. The caller must have called Join. The command's non-zero exit
// is an *ExitError; a command that cannot start has ExitCode 126 or 127.
func Unshare(argv []string, env []string) error {
	if Rootless() && !inside() {
		return errors.New("not inside skiff's user namespace: userns.Join must run first")
	}
	if len(argv) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		argv = []string{sh}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, os.Stdin, os.Stdout, os.Stderr
	// The terminal sends ^C and ^\ to us as well as to the command: catch
	// them (rather than ignore, which the command would inherit) so that we
	// outlive it and report its status.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return &ExitError{Code: 128 + int(ws.Signal())}
		}
		return &ExitError{Code: ws.ExitStatus()}
	}
	if err != nil {
		return &startError{fmt.Errorf("running %s: %w", argv[0], err)}
	}
	return nil
}
