// Command unitrun runs one generated service unit the way systemd's service
// manager would, for the end-to-end tests on machines where no systemd runs:
// it becomes the subreaper of what it starts (as systemd is PID 1, the
// monitor that `skiff start` leaves behind becomes its child), gives the
// commands a NOTIFY_SOCKET, and follows Type=notify, Restart=,
// RestartSec=, ExecStartPre/ExecStart/ExecStop/ExecStopPost and
// KillMode=mixed's SIGTERM to the main process.
//
//	unitrun UNIT-FILE
//
// It prints one line per step: "ready PID" (MAINPID and READY=1 came),
// "exit CODE" (the main process ended by itself), "stopped CODE" (after
// SIGTERM to unitrun, the unit was stopped) and "inactive" (no restart).
// Commands are run with /bin/sh -c (the tests' units need no more than
// the shell's quoting), %t is $XDG_RUNTIME_DIR and %n the unit's file name.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fail("usage: unitrun UNIT-FILE")
	}
	unit, err := readUnit(os.Args[1])
	if err != nil {
		fail(err.Error())
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fail("subreaper: " + err.Error())
	}
	dir, err := os.MkdirTemp("", "unitrun-")
	if err != nil {
		fail(err.Error())
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		fail(err.Error())
	}
	os.Setenv("NOTIFY_SOCKET", sock)
	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM)
	for {
		for _, c := range unit["ExecStartPre"] {
			run(c)
		}
		if len(unit["ExecStart"]) != 1 || run(unit["ExecStart"][0]) != 0 {
			fail("ExecStart failed")
		}
		mainPid := waitReady(conn)
		fmt.Println("ready", mainPid)
		exited := make(chan int, 1)
		go func() { exited <- waitPid(mainPid) }()
		select {
		case code := <-exited:
			fmt.Println("exit", code)
			for _, c := range unit["ExecStopPost"] {
				run(c)
			}
			if !restart(first(unit["Restart"]), code) {
				fmt.Println("inactive")
				return
			}
			sec, _ := strconv.ParseFloat(first(unit["RestartSec"]), 64)
			time.Sleep(max(time.Duration(sec*float64(time.Second)), 100*time.Millisecond))
		case <-term:
			for _, c := range unit["ExecStop"] {
				run(c)
			}
			unix.Kill(mainPid, unix.SIGTERM) // KillMode=mixed: the main process alone
			code := <-exited
			for _, c := range unit["ExecStopPost"] {
				run(c)
			}
			fmt.Println("stopped", code)
			return
		}
	}
}

// readUnit reads KEY=VALUE lines, %t and %n expanded, %% and $$ undone.
func readUnit(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	expand := strings.NewReplacer("%%", "%", "%t", os.Getenv("XDG_RUNTIME_DIR"), "%n", filepath.Base(path), "$$", "$")
	unit := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			unit[k] = append(unit[k], expand.Replace(v))
		}
	}
	return unit, sc.Err()
}

func run(command string) int {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Run()
	return cmd.ProcessState.ExitCode()
}

// waitReady waits for MAINPID= and READY=1, which may come in separate
// messages, and returns the main pid.
func waitReady(conn *net.UnixConn) int {
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	main, ready := 0, false
	buf := make([]byte, 4096)
	for main == 0 || !ready {
		n, err := conn.Read(buf)
		if err != nil {
			fail("no MAINPID and READY=1: " + err.Error())
		}
		for _, l := range strings.Split(string(buf[:n]), "\n") {
			if v, ok := strings.CutPrefix(l, "MAINPID="); ok {
				main, _ = strconv.Atoi(v)
			}
			ready = ready || l == "READY=1"
		}
	}
	return main
}

// waitPid reaps children (orphans reparented to us included) until pid
// exits, and returns its exit code (128+N for signal N).
func waitPid(pid int) int {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fail(fmt.Sprintf("waiting for the main process %d: %v (not our child?)", pid, err))
		}
		if got == pid {
			if ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ws.ExitStatus()
		}
	}
}

// restart is systemd's Restart= for a main process that exited with code.
func restart(policy string, code int) bool {
	switch policy {
	case "always":
		return true
	case "on-failure":
		return code != 0
	case "on-success":
		return code == 0
	}
	return false
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "unitrun:", msg)
	os.Exit(1)
}
