package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestUser is the unprivileged user rootless cases run as when the tests
// run as root. SubIDs is the range it gets in /etc/subuid and /etc/subgid.
const (
	TestUser = "skiff-test"
	SubIDs   = "200000:65536"
)

// BinDir holds skiff and skiff-monitor: $SKIFF_BIN_DIR, or the bin/ of
// the repository this file is in.
func BinDir() string {
	if d := os.Getenv("SKIFF_BIN_DIR"); d != "" {
		return d
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "..", "..", "bin")
	}
	wd, _ := os.Getwd() // go test runs in the package directory
	return filepath.Join(wd, "..", "..", "bin")
}

// skiffBin checks the binaries exist and returns skiff's path.
func skiffBin(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(BinDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"skiff", "skiff-full", "skiff-monitor", "skiff-monitor-lean", "skiff-monitor-idle"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode()&0o111 == 0 {
			t.Fatalf("%s is missing or not executable: run make build (or point SKIFF_BIN_DIR at the binaries)", filepath.Join(dir, name))
		}
	}
	return filepath.Join(dir, "skiff")
}

// account is who commands run as; cred is nil when they run as ourselves.
type account struct {
	name     string
	uid, gid int
	cred     *syscall.Credential
}

var testUser struct {
	once sync.Once
	acct account
	err  error
}

// rootlessAccount is TestUser (created with subordinate ids if missing)
// when we are root, the current user otherwise.
func rootlessAccount() (account, error) {
	testUser.once.Do(func() { testUser.acct, testUser.err = setupTestUser() })
	return testUser.acct, testUser.err
}

func setupTestUser() (account, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return account{}, err
		}
		return account{name: u.Username, uid: os.Getuid(), gid: os.Getgid()}, nil
	}
	u, err := user.Lookup(TestUser)
	if err != nil {
		// No automatic subordinate ranges: we add our own fixed one below.
		out, addErr := exec.Command("useradd", "--create-home", "--shell", "/bin/sh",
			"-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", TestUser).CombinedOutput()
		if u, err = user.Lookup(TestUser); err != nil { // another process may have won the race
			return account{}, fmt.Errorf("useradd %s: %v: %s", TestUser, addErr, out)
		}
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if err := ensureSubIDs(f, TestUser, u.Uid); err != nil {
			return account{}, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := checkReachable(BinDir()); err != nil {
		return account{}, err
	}
	return account{name: TestUser, uid: uid, gid: gid,
		cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}, nil
}

// ensureSubIDs appends "name:SubIDs" to file unless it has a line for the user.
func ensureSubIDs(file, name, uid string) error {
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		owner, _, _ := strings.Cut(sc.Text(), ":")
		if owner == name || owner == uid {
			return nil
		}
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	line := name + ":" + SubIDs + "\n"
	if len(data) > 0 && data[len(data)-1] != '\n' {
		line = "\n" + line
	}
	_, err = f.WriteString(line)
	return firstErr(err, f.Close())
}

// checkReachable fails when others cannot reach path: the test user
// could not run the binaries.
func checkReachable(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	for p := abs; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by others (mode %v): %s cannot run the binaries in %s; chmod o+x it or set SKIFF_BIN_DIR", p, st.Mode().Perm(), TestUser, abs)
		}
		if p == "/" {
			return nil
		}
	}
}

// Base is the parent of every run's directory.
var Base = filepath.Join(os.TempDir(), "skiff-e2e")

var runDir struct {
	once sync.Once
	dir  string
	err  error
	seq  atomic.Int64
}

// RunDir is this go test process's directory, Base/run-<pid>. Creating it
// first cleans the directories of runs whose process is gone.
func RunDir(t testing.TB) string {
	t.Helper()
	dir, err := makeRunDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func makeRunDir() (string, error) {
	runDir.once.Do(func() {
		if runDir.err = os.MkdirAll(Base, 0o755); runDir.err != nil {
			return
		}
		os.Chmod(Base, 0o755)
		sweepStaleRuns()
		dir := filepath.Join(Base, fmt.Sprintf("run-%d", os.Getpid()))
		if runDir.err = os.Mkdir(dir, 0o755); runDir.err == nil {
			runDir.err = os.Chmod(dir, 0o755)
		}
		runDir.dir = dir
	})
	return runDir.dir, runDir.err
}

// testDir is a new directory named after the test.
func testDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RunDir(t), fmt.Sprintf("%s-%d", fileName(t.Name()), runDir.seq.Add(1)))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sweepStaleRuns cleans Base/run-<pid> directories whose process is gone.
func sweepStaleRuns() {
	entries, _ := os.ReadDir(Base)
	for _, e := range entries {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "run-"))
		if err != nil || !strings.HasPrefix(e.Name(), "run-") {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // a go test still running
		}
		dir := filepath.Join(Base, e.Name())
		stopProcesses(dir, pauseNamespaces(dir))
		unmountBelow(dir)
		os.RemoveAll(dir)
	}
}
