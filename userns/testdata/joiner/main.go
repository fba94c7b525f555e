// Command joiner exercises package userns for its integration test: it
// joins like skiff's main does, then reports or acts from inside.
//
//	joiner info          print a JSON line describing the process
//	joiner mount DIR     mount a tmpfs on DIR and leave DIR/marker in it
//	joiner check DIR     print "present" or "absent" for DIR/marker
//	joiner migrate       userns.Migrate
//	joiner unshare ARGS  userns.Unshare(ARGS, nil), exit with its code
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/skiff-engine/skiff/userns"
)

func main() {
	// Read before Join, which clears it: set means the slow path re-executed us.
	reexec := os.Getenv("_SKIFF_REEXEC") == "1"
	if err := userns.Join(os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "join:", err)
		os.Exit(125)
	}
	if err := run(reexec, os.Args[1:]); err != nil {
		var ee interface{ ExitCode() int }
		if errors.As(err, &ee) {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(reexec bool, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: joiner info|mount DIR|check DIR|migrate|unshare ARGS")
	}
	switch args[0] {
	case "info":
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"euid": os.Geteuid(), "hostuid": userns.HostUID(), "hostgid": userns.HostGID(),
			"userns": inode("/proc/self/ns/user"), "mntns": inode("/proc/self/ns/mnt"),
			"rootless": userns.Rootless(), "single": userns.SingleID(), "reexec": reexec,
			"statedir": userns.StateDir(), "runtimedir": userns.RuntimeDir(),
			"configured":   os.Getenv("_CONTAINERS_USERNS_CONFIGURED"),
			"rootless_uid": os.Getenv("_CONTAINERS_ROOTLESS_UID"),
		})
	case "mount":
		if err := syscall.Mount("tmpfs", args[1], "tmpfs", 0, "size=1m"); err != nil {
			return fmt.Errorf("mount tmpfs on %s: %w", args[1], err)
		}
		return os.WriteFile(args[1]+"/marker", []byte("x"), 0o644)
	case "check":
		if _, err := os.Stat(args[1] + "/marker"); err == nil {
			fmt.Println("present")
		} else {
			fmt.Println("absent")
		}
		return nil
	case "migrate":
		return userns.Migrate(os.Stderr)
	case "unshare":
		return userns.Unshare(args[1:], nil)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func inode(path string) uint64 {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0
	}
	return st.Ino
}
