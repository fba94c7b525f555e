package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// ExecConfig is one `skiff exec`: the engine writes it to a file under the
// container's run dir and runs "skiff-monitor exec <file>", either by
// replacing the skiff CLI with it (execve: the fast path) or as a child
// with pipes for stdio (RunExec: the stream form). The monitor reads and
// removes the file, runs Process in the container and exits with the
// process's exit code: 125 when the engine side fails (container not
// running...), 126 when the command cannot be invoked, 127 when it is not
// found.
//
// The process never gets the monitor's own descriptors: they are the
// caller's (a file, a terminal, a socket), and a process holding one could
// reopen it through /proc/self/fd with the caller's access, outside the
// container's mount namespace. It gets pipes (or a pty, Process.Terminal)
// whose other ends the monitor copies to and from its stdio, and
// /dev/null for stdin without Stdin.
type ExecConfig struct {
	ID        string        `json:"id"`
	StateRoot string        `json:"state_root"` // libcontainer root, as MonitorConfig.StateRoot
	Process   specs.Process `json:"process"`
	// Stdin: the monitor copies its stdin to the process's (exec -i) and
	// closes it at end of file; without it the process reads /dev/null.
	Stdin bool `json:"stdin,omitempty"`
	// Resize: with Process.Terminal, terminal sizes arrive on ExecResizeFd
	// (EncodeResize payloads, 4 bytes each, until end of file) instead of
	// following the monitor's own terminal. Process.ConsoleSize is the
	// first size.
	Resize bool `json:"resize,omitempty"`
	// Detach: start the process and exit 0 at once; it gets /dev/null for
	// stdio and no terminal (nothing would hold the pty master).
	Detach bool `json:"detach,omitempty"`
	// ExecID names the exec in its events; with EventSpool the monitor
	// records the process's end there (Docker's exec_die).
	ExecID     string `json:"exec_id,omitempty"`
	EventSpool string `json:"event_spool,omitempty"`
	// PidFile and ExitFile, when set, are where the monitor writes the
	// process's pid once it runs and its exit code once it ended (the
	// API's exec inspect shows them, also after the client left).
	PidFile  string `json:"pid_file,omitempty"`
	ExitFile string `json:"exit_file,omitempty"`
}

// ExecResizeFd is the monitor's descriptor for terminal sizes with
// ExecConfig.Resize.
const ExecResizeFd = 3

// ReadExecConfig reads an ExecConfig and removes its file: it holds the
// process's environment, which may carry secrets.
func ReadExecConfig(path string) (ExecConfig, error) {
	b, err := os.ReadFile(path)
	os.Remove(path)
	if err != nil {
		return ExecConfig{}, err
	}
	var c ExecConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return ExecConfig{}, fmt.Errorf("exec config %s: %w", path, err)
	}
	return c, nil
}

// StartExitCode maps a failure to start a container's process to Docker's
// exit codes: 127 when the command was not found, 126 when it cannot be
// invoked, 125 for anything else (the engine failed). libcontainer reports
// the init's errors as text, so this reads the message of its exec step
// ("exec: \"x\": executable file not found in $PATH", "exec: \"/x\": stat
// /x: no such file or directory", "exec: \"/etc\": permission denied").
func StartExitCode(msg string) int {
	if strings.Contains(msg, "executable file not found") {
		return 127
	}
	_, cmd, ok := strings.Cut(msg, `exec: "`)
	if !ok {
		return 125
	}
	switch {
	case strings.Contains(cmd, "no such file or directory"), strings.Contains(cmd, "not a directory"):
		return 127
	case strings.Contains(cmd, "permission denied"), strings.Contains(cmd, "is a directory"),
		strings.Contains(cmd, "exec format error"):
		return 126
	}
	return 125
}
