package userns

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// idPlan is how the pause's namespace gets its maps: newuidmap/newgidmap
// with the subordinate ranges, or (single) only the user's own ids, which
// an unprivileged process may write itself.
type idPlan struct {
	single    bool
	uid, gid  int
	uidRanges []idRange
	gidRanges []idRange
	newuidmap string
	newgidmap string
	singleWhy string // why single, for the warning
	userName  string
}

// planIDs looks up the user's subordinate ranges and the setuid helpers.
func planIDs() idPlan {
	p := idPlan{uid: os.Getuid(), gid: os.Getgid(), userName: strconv.Itoa(os.Getuid())}
	if u, err := user.LookupId(p.userName); err == nil {
		p.userName = u.Username
	}
	p.uidRanges = readSubIDs("/etc/subuid", p.userName, p.uid)
	p.gidRanges = readSubIDs("/etc/subgid", p.userName, p.uid)
	p.newuidmap, _ = exec.LookPath("newuidmap")
	p.newgidmap, _ = exec.LookPath("newgidmap")
	switch {
	case len(p.uidRanges) == 0 || len(p.gidRanges) == 0:
		p.single, p.singleWhy = true, fmt.Sprintf("user %s has no entry in /etc/subuid and /etc/subgid", p.userName)
	case p.newuidmap == "" || p.newgidmap == "":
		p.single, p.singleWhy = true, "newuidmap/newgidmap are not installed (Debian package uidmap)"
	}
	return p
}

// warnSingle is the one line a user sees when only their own id is mapped.
func (p idPlan) warnSingle(w io.Writer) {
	fmt.Fprintf(w, "WARNING: %s, so only uid %d is mapped into skiff's user namespace and images with files of other owners may fail; "+
		"to fix it add \"%s:100000:65536\" to /etc/subuid and /etc/subgid (as root), then run `skiff system migrate`\n",
		p.singleWhy, p.uid, p.userName)
}

// startPause creates the pause process and returns its pid. A failing
// newuidmap (e.g. a range it refuses) falls back to the single-id mapping
// with the warning: a degraded namespace beats no skiff at all.
func startPause(warn io.Writer) (int, error) {
	p := planIDs()
	if p.single {
		p.warnSingle(warn)
	}
	pid, err := spawnPause(p)
	var mapErr *idMapError
	if errors.As(err, &mapErr) && !p.single {
		p.single, p.singleWhy = true, mapErr.Error()
		p.warnSingle(warn)
		pid, err = spawnPause(p)
	}
	return pid, err
}

type idMapError struct{ msg string }

func (e *idMapError) Error() string { return e.msg }

// spawnPause starts /proc/self/exe in new user and mount namespaces with
// _SKIFF_PAUSE_FD set, so its C constructor becomes the pause process
// without starting the Go runtime. The child waits on a socket until its
// maps are written (before that it is nobody in its namespace), and acks
// once it has set its name and detached, so a joiner that reads pause.pid
// never sees a half-made pause.
func spawnPause(p idPlan) (int, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("creating the pause handshake socket: %w", err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "pause-parent"), os.NewFile(uintptr(fds[1]), "pause-child")
	defer parent.Close()
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{pauseComm},
		Env:         []string{pauseEnv + "=3"},
		Dir:         "/",
		ExtraFiles:  []*os.File{child},
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS},
	}
	err = cmd.Start()
	child.Close()
	if err != nil {
		return 0, fmt.Errorf("creating a user namespace: %w (check that user.max_user_namespaces is not 0)", err)
	}
	pid := cmd.Process.Pid
	fail := func(err error) (int, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	if err := p.write(pid); err != nil {
		return fail(err)
	}
	var ack [1]byte
	if _, err := parent.Write([]byte{1}); err != nil {
		return fail(fmt.Errorf("starting the pause process: %w", err))
	}
	if _, err := io.ReadFull(parent, ack[:]); err != nil {
		return fail(fmt.Errorf("the pause process died while starting: %w", err))
	}
	cmd.Process.Release()
	return pid, nil
}

// write applies the plan to the namespace of pid.
func (p idPlan) write(pid int) error {
	if p.single {
		return writeSingleMaps(pid, p.uid, p.gid)
	}
	for _, m := range []struct {
		tool   string
		own    int
		ranges []idRange
	}{{p.newuidmap, p.uid, p.uidRanges}, {p.newgidmap, p.gid, p.gidRanges}} {
		var stderr bytes.Buffer
		cmd := exec.Command(m.tool, mapArgs(pid, m.own, m.ranges)...)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return &idMapError{fmt.Sprintf("%s failed (%v: %s)", m.tool, err, strings.TrimSpace(stderr.String()))}
		}
	}
	return nil
}

// writeSingleMaps maps 0 to our own ids, the one mapping the kernel lets an
// unprivileged process write; gid_map needs setgroups denied first.
func writeSingleMaps(pid, uid, gid int) error {
	proc := "/proc/" + strconv.Itoa(pid)
	for _, w := range [][2]string{
		{proc + "/uid_map", fmt.Sprintf("0 %d 1\n", uid)},
		{proc + "/setgroups", "deny"},
		{proc + "/gid_map", fmt.Sprintf("0 %d 1\n", gid)},
	} {
		if err := os.WriteFile(w[0], []byte(w[1]), 0); err != nil {
			return fmt.Errorf("writing %s: %w", w[0], err)
		}
	}
	return nil
}
