package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// NoSubIDsUser is a second unprivileged user, one without lines in
// /etc/subuid and /etc/subgid, for what skiff does with a single id.
const NoSubIDsUser = "skiff-test-nosub"

var noSubIDsUser struct {
	once sync.Once
	acct account
	err  error
}

// NewSkiffWithoutSubIDs is a rootless runner that runs as NoSubIDsUser
// (created on first use). It needs root.
func NewSkiffWithoutSubIDs(t testing.TB) *Skiff {
	t.Helper()
	RequiresRoot(t)
	return newSkiff(t, Rootless, func() (account, error) {
		noSubIDsUser.once.Do(func() { noSubIDsUser.acct, noSubIDsUser.err = setupNoSubIDsUser() })
		return noSubIDsUser.acct, noSubIDsUser.err
	})
}

func setupNoSubIDsUser() (account, error) {
	u, err := user.Lookup(NoSubIDsUser)
	if err != nil {
		out, addErr := exec.Command("useradd", "--create-home", "--shell", "/bin/sh",
			"-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", NoSubIDsUser).CombinedOutput()
		if u, err = user.Lookup(NoSubIDsUser); err != nil {
			return account{}, fmt.Errorf("useradd %s: %v: %s", NoSubIDsUser, addErr, out)
		}
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if has, err := hasSubIDs(f, NoSubIDsUser, u.Uid); err != nil || has {
			return account{}, fmt.Errorf("%s must have no line for %s (%v): remove it", f, NoSubIDsUser, err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := checkReachable(BinDir()); err != nil {
		return account{}, err
	}
	return account{name: NoSubIDsUser, uid: uid, gid: gid,
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}, nil
}

// hasSubIDs reports a line of file for the user (by name or uid).
func hasSubIDs(file, name, uid string) (bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return false, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		owner, _, _ := strings.Cut(sc.Text(), ":")
		if owner == name || owner == uid {
			return true, nil
		}
	}
	return false, nil
}
