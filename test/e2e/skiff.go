// Package e2e runs the built skiff binaries as a user would, in both modes:
// rootful (as root, with a private --root and --runroot) and rootless (as
// the unprivileged user skiff-test, with a private HOME and XDG dirs, so
// each test gets its own pause process and user namespace).
//
// Every runner owns one directory, named after its test, below
// /tmp/skiff-e2e/run-<pid of go test>/:
//
//	<Test_name>-<n>/     Skiff.Dir, the commands' working directory
//	  home/              HOME
//	  run/               XDG_RUNTIME_DIR (0700): rootless run root run/skiff, pause.pid
//	  data/              XDG_DATA_HOME: rootless graph root data/skiff
//	  config/            XDG_CONFIG_HOME
//	  tmp/               TMPDIR
//	  root/ runroot/     rootful --root and --runroot
//	  registries.conf    CONTAINERS_REGISTRIES_CONF (no search registries by default)
//	  auth.json          REGISTRY_AUTH_FILE (not created until written)
//	  out/               captured stdout and stderr while a command runs
//
// In rootless mode the directory belongs to skiff-test. At the end of the
// test the runner stops everything the test started (any process whose
// environment carries SKIFF_E2E_DIR=<its dir>, anything in its pause
// process's user namespace, and their descendants), unmounts what is still
// mounted below the directory and removes it. Directories of earlier runs
// whose go test process is gone are cleaned the same way on first use.
package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Mode is how skiff runs.
type Mode string

const (
	Rootful  Mode = "rootful"
	Rootless Mode = "rootless"
)

// Modes are both modes, in the order ForEachMode runs them.
func Modes() []Mode { return []Mode{Rootful, Rootless} }

// markerEnv tags every process a runner starts with its directory.
const markerEnv = "SKIFF_E2E_DIR"

// DefaultTimeout bounds each command a runner runs.
const DefaultTimeout = 5 * time.Minute

// Skiff runs the skiff binary for one test in one mode.
type Skiff struct {
	Mode Mode
	Dir  string // per-test directory, the commands' working directory

	Home, RuntimeDir, DataHome, ConfigHome, TmpDir string
	// Root and RunRoot are where this runner's images, containers and state
	// live: the --root/--runroot flags when rootful, the XDG defaults when rootless.
	Root, RunRoot string
	// RegistriesConf and AuthFile are the per-test files the environment points at.
	RegistriesConf, AuthFile string

	Timeout time.Duration // per command; DefaultTimeout unless changed

	// ConfigFile is a rootful runner's skiff.toml: a bridge and a subnet
	// of its own for the default network, so that parallel runners (each
	// with its own database) never give one address twice on one bridge.
	ConfigFile string

	t       testing.TB
	bin     string
	env     map[string]string
	account account

	// started are the commands this runner made: cleanup kills them even
	// before they exec (when /proc does not yet show the test's tag).
	mu      sync.Mutex
	started []*exec.Cmd
	seq     atomic.Int64
}

// ForEachMode runs fn as two parallel subtests, "rootful" and "rootless",
// each with its own runner. The parent test may call t.Parallel itself.
func ForEachMode(t *testing.T, fn func(t *testing.T, s *Skiff)) {
	t.Helper()
	for _, m := range Modes() {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			fn(t, NewSkiff(t, m))
		})
	}
}

// NewSkiff makes a runner in mode m with a fresh directory, removed (with
// everything the test started) when the test ends. Rootful mode needs root
// (the test is skipped otherwise); rootless mode runs as skiff-test when the
// tests run as root, as the current user otherwise.
func NewSkiff(t testing.TB, m Mode) *Skiff {
	t.Helper()
	return newSkiff(t, m, rootlessAccount)
}

// newSkiff is NewSkiff with the rootless account given.
func newSkiff(t testing.TB, m Mode, rootless func() (account, error)) *Skiff {
	t.Helper()
	if m == Rootful {
		RequiresRoot(t)
	}
	bin := skiffBin(t)
	dir := testDir(t)
	s := &Skiff{
		Mode: m, Dir: dir, t: t, bin: bin, Timeout: DefaultTimeout,
		Home: filepath.Join(dir, "home"), RuntimeDir: filepath.Join(dir, "run"),
		DataHome: filepath.Join(dir, "data"), ConfigHome: filepath.Join(dir, "config"),
		TmpDir:         filepath.Join(dir, "tmp"),
		RegistriesConf: filepath.Join(dir, "registries.conf"), AuthFile: filepath.Join(dir, "auth.json"),
	}
	t.Cleanup(s.cleanup)
	if m == Rootful {
		s.Root, s.RunRoot = filepath.Join(dir, "root"), filepath.Join(dir, "runroot")
		s.account = account{name: "root"}
		s.ConfigFile = writeNetworkConfig(t, dir)
	} else {
		s.Root, s.RunRoot = filepath.Join(s.DataHome, "skiff"), filepath.Join(s.RuntimeDir, "skiff")
		acct, err := rootless()
		if err != nil {
			t.Fatalf("rootless test user: %v", err)
		}
		s.account = acct
	}
	for _, d := range []string{s.Home, s.RuntimeDir, s.DataHome, s.ConfigHome, s.TmpDir, filepath.Join(dir, "out")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if s.account.cred != nil {
		for _, d := range []string{dir, s.Home, s.RuntimeDir, s.DataHome, s.ConfigHome, s.TmpDir} {
			s.Chown(d)
		}
	}
	s.WriteRegistriesConf("# written by the skiff e2e harness: no search registries, no host configuration\nunqualified-search-registries = []\n")
	s.env = s.baseEnv()
	return s
}

func (s *Skiff) baseEnv() map[string]string {
	user := "root"
	if s.Mode == Rootless {
		user = s.account.name
	}
	env := map[string]string{
		"PATH":                       filepath.Dir(s.bin) + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME":                       s.Home,
		"USER":                       user,
		"LOGNAME":                    user,
		"XDG_RUNTIME_DIR":            s.RuntimeDir,
		"XDG_DATA_HOME":              s.DataHome,
		"XDG_CONFIG_HOME":            s.ConfigHome,
		"TMPDIR":                     s.TmpDir,
		"CONTAINERS_REGISTRIES_CONF": s.RegistriesConf,
		"REGISTRY_AUTH_FILE":         s.AuthFile,
		markerEnv:                    s.Dir,
	}
	if v := os.Getenv("GOCOVERDIR"); v != "" {
		env["GOCOVERDIR"] = v
	}
	return env
}

// Rootless reports the mode.
func (s *Skiff) Rootless() bool { return s.Mode == Rootless }

// UID and GID are the host ids the commands run as.
func (s *Skiff) UID() int { return s.account.uid }
func (s *Skiff) GID() int { return s.account.gid }

// Setenv sets a variable for the commands this runner starts from now on;
// an empty value removes it.
func (s *Skiff) Setenv(key, value string) {
	if value == "" {
		delete(s.env, key)
		return
	}
	s.env[key] = value
}

// Env is the environment the commands get, sorted.
func (s *Skiff) Env() []string {
	var env []string
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// Chown gives a file the runner created to the user the commands run as.
func (s *Skiff) Chown(path string) {
	s.t.Helper()
	if s.account.cred == nil {
		return
	}
	if err := os.Lchown(path, s.account.uid, s.account.gid); err != nil {
		s.t.Fatal(err)
	}
}

// WriteFile writes a file the commands can read and write, relative to Dir
// unless absolute, and returns its path.
func (s *Skiff) WriteFile(name string, data []byte) string {
	s.t.Helper()
	if !filepath.IsAbs(name) {
		name = filepath.Join(s.Dir, name)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.Chown(name)
	return name
}

// Cmd is skiff with the runner's global flags, user and environment, for
// commands the test starts and waits for itself (background, kill -9).
// Its output goes nowhere unless the test sets Stdout/Stderr.
func (s *Skiff) Cmd(args ...string) *exec.Cmd {
	var global []string
	if s.Mode == Rootful {
		global = []string{"--root", s.Root, "--runroot", s.RunRoot, "--config", s.ConfigFile}
	}
	if lvl := os.Getenv("SKIFF_E2E_LOG_LEVEL"); lvl != "" {
		global = append(global, "--log-level", lvl)
	}
	return s.Command(s.bin, append(global, args...)...)
}

// Command is any program run like skiff: same user, environment and
// working directory.
func (s *Skiff) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = s.Env(), s.Dir
	if s.account.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.account.cred}
	}
	s.mu.Lock()
	s.started = append(s.started, cmd)
	s.mu.Unlock()
	return cmd
}

// killStarted kills every command this runner started that still runs.
// os.Process signals through a pidfd, so a reused pid is never hit.
func (s *Skiff) killStarted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cmd := range s.started {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	}
}

// Run runs skiff with args and waits for it.
func (s *Skiff) Run(args ...string) *Result {
	s.t.Helper()
	return s.run(s.Cmd(args...), nil)
}

// RunStdin runs skiff with args, stdin read from r.
func (s *Skiff) RunStdin(r io.Reader, args ...string) *Result {
	s.t.Helper()
	return s.run(s.Cmd(args...), r)
}

// RunCommand runs any program the way Run runs skiff.
func (s *Skiff) RunCommand(name string, args ...string) *Result {
	s.t.Helper()
	return s.run(s.Command(name, args...), nil)
}

// run captures output in files rather than pipes, so a process that
// outlives the command (a detached monitor holding our stdout) cannot keep
// Wait from returning.
func (s *Skiff) run(cmd *exec.Cmd, stdin io.Reader) *Result {
	s.t.Helper()
	n := s.seq.Add(1)
	outDir := filepath.Join(s.Dir, "out")
	stdout, err1 := os.Create(filepath.Join(outDir, fmt.Sprintf("%d.stdout", n)))
	stderr, err2 := os.Create(filepath.Join(outDir, fmt.Sprintf("%d.stderr", n)))
	if err := firstErr(err1, err2); err != nil {
		s.t.Fatal(err)
	}
	defer func() {
		stdout.Close()
		stderr.Close()
		os.Remove(stdout.Name())
		os.Remove(stderr.Name())
	}()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	r := &Result{Args: cmd.Args, ExitCode: -1}
	if cmd.Path == s.bin {
		r.Args = append([]string{"skiff"}, cmd.Args[1:]...)
	}
	start := time.Now()
	r.Err = cmd.Start()
	if r.Err == nil {
		timer := time.AfterFunc(s.Timeout, func() { cmd.Process.Kill() })
		r.Err = cmd.Wait()
		if !timer.Stop() {
			r.Err = fmt.Errorf("killed after the %v timeout: %w", s.Timeout, r.Err)
		}
		r.ExitCode = exitCode(cmd.ProcessState)
		if _, ok := r.Err.(*exec.ExitError); ok {
			r.Err = nil // a non-zero exit is in ExitCode
		}
	}
	r.Duration = time.Since(start)
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	r.Stdout, r.Stderr = string(out), string(errOut)
	s.t.Logf("%s: %s → exit %d in %v", s.Mode, shellQuote(r.Args), r.ExitCode, r.Duration.Round(time.Millisecond))
	return r
}

// exitCode is what a shell would report: 128+N for signal N.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// WriteRegistriesConf replaces the runner's containers-registries.conf(5).
func (s *Skiff) WriteRegistriesConf(content string) {
	s.t.Helper()
	s.WriteFile(s.RegistriesConf, []byte(content))
}

// InsecureRegistry is a registries.conf block that lets skiff talk plain
// HTTP (or unverified TLS) to host:port.
func InsecureRegistry(host string) string {
	return fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", host)
}

// WriteAuthFile stores credentials for host in the runner's auth file, as
// `login` would, so pull tests do not depend on login.
func (s *Skiff) WriteAuthFile(host, user, password string) {
	s.t.Helper()
	s.WriteFile(s.AuthFile, []byte(authJSON(host, user, password)))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// fileName turns a test name into a short file name.
func fileName(name string) string {
	name = unsafeName.ReplaceAllString(strings.ReplaceAll(name, "/", "_"), "-")
	if len(name) > 60 {
		name = name[:60]
	}
	return name
}

func shellQuote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		b.WriteString(a)
	}
	return b.String()
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// tail keeps the end of long output for failure messages.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
