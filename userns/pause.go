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
	fix       string // what to do about it, for the warning
	userName  string
}

// planIDs looks up the user's subordinate ranges and the setuid helpers.
func planIDs() idPlan {
	p := idPlan{uid: os.Getuid(), gid: os.Getgid(), userName: strconv.Itoa(os.Getuid())}
	// bin/skiff's lookup reads /etc/passwd only (a static build, osusergo):
	// a user known from elsewhere (LDAP, sssd) goes by the login's $USER,
	// as newuidmap, which checks the ranges, knows them.
	if u, err := user.LookupId(p.userName); err == nil {
		p.userName = u.Username
	} else if name := os.Getenv("USER"); name != "" {
		p.userName = name
	}
	p.uidRanges = readSubIDs("/etc/subuid", p.userName, p.uid)
	p.gidRanges = readSubIDs("/etc/subgid", p.userName, p.uid)
	p.newuidmap, _ = exec.LookPath("newuidmap")
	p.newgidmap, _ = exec.LookPath("newgidmap")
	switch {
	case len(p.uidRanges) == 0 || len(p.gidRanges) == 0:
		p.single, p.singleWhy = true, fmt.Sprintf("user %s has no entry in /etc/subuid and /etc/subgid", p.userName)
		first := freeSubIDs("/etc/subuid", "/etc/subgid")
		p.fix = fmt.Sprintf("run (as root) `usermod --add-subuids %[1]d-%[2]d --add-subgids %[1]d-%[2]d %[3]s` (a range no other user has)",
			first, first+subIDCount-1, p.userName)
	case p.newuidmap == "" || p.newgidmap == "":
		p.single, p.singleWhy = true, "newuidmap/newgidmap are not installed"
		p.fix = "install them (Debian package uidmap)"
	}
	return p
}

// subIDCount is the size of the range suggested to a user without one:
// 65536 ids, shadow's default SUB_UID_COUNT, enough for any image.
const subIDCount = 65536

// warnSingle is the one line a user sees when only their own id is mapped.
func (p idPlan) warnSingle(w io.Writer) {
	fmt.Fprintf(w, "WARNING: %s, so only uid %d is mapped into skiff's user namespace and images with files of other owners may fail; "+
		"to fix it %s, then run `skiff system migrate`\n", p.singleWhy, p.uid, p.fix)
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
		p.fix = fmt.Sprintf("check the lines of %s in /etc/subuid and /etc/subgid", p.userName)
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
	return spawn(syscall.CLONE_NEWUSER|syscall.CLONE_NEWNS, nil, p.write)
}

// spawnPauseIn starts the pause process in existing namespaces: the child
// joins user and mount (passed as fds 4 and 5) before it acks.
func spawnPauseIn(user, mnt *os.File) (int, error) {
	return spawn(0, []*os.File{user, mnt}, nil)
}

func spawn(clone uintptr, nsFiles []*os.File, prepare func(pid int) error) (int, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("creating the pause handshake socket: %w", err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "pause-parent"), os.NewFile(uintptr(fds[1]), "pause-child")
	defer parent.Close()
	env := []string{pauseEnv + "=3"}
	if len(nsFiles) > 0 {
		env = append(env, joinEnv+"=1")
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{pauseComm},
		Env:         env,
		Dir:         "/",
		ExtraFiles:  append([]*os.File{child}, nsFiles...),
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: clone},
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
	if prepare != nil {
		if err := prepare(pid); err != nil {
			return fail(err)
		}
	}
	if _, err := parent.Write([]byte{1}); err != nil {
		return fail(fmt.Errorf("starting the pause process: %w", err))
	}
	// "1" when ready; otherwise the child says what failed, then exits.
	var ack [256]byte
	n, err := parent.Read(ack[:])
	switch {
	case n > 0 && ack[0] == '1':
	case n > 0:
		return fail(fmt.Errorf("starting the pause process: %s", ack[:n]))
	default:
		return fail(fmt.Errorf("the pause process died while starting: %v", err))
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
