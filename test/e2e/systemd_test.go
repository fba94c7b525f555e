package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// notifySocket is the socket systemd gives a Type=notify unit: the test
// listens where NOTIFY_SOCKET (set for the runner's commands) points.
type notifySocket struct {
	conn *net.UnixConn
	path string
}

// listenNotify listens on a socket in the runner's directory, or on an
// abstract name ("@..."), and points the runner's NOTIFY_SOCKET at it.
func listenNotify(t *testing.T, s *Skiff, abstract bool) *notifySocket {
	t.Helper()
	path := filepath.Join(s.Dir, "notify.sock")
	if abstract {
		path = fmt.Sprintf("@skiff-e2e-notify-%d-%d", os.Getpid(), time.Now().UnixNano())
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if !abstract {
		s.Chown(path) // the rootless user sends to it
	}
	s.Setenv("NOTIFY_SOCKET", path)
	return &notifySocket{conn: conn, path: path}
}

// next is the next message, within timeout; "" when none came.
func (n *notifySocket) next(timeout time.Duration) string {
	n.conn.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	m, err := n.conn.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:m])
}

// queued is a message that must already be there: the monitor notifies
// before the start returns (systemd must learn the main pid before the
// ExecStart process exits).
const queued = 100 * time.Millisecond

// --sdnotify=monitor (the default under systemd): the monitor sends its own
// pid and READY=1 once the container runs, again at each start; the
// container does not see the socket; ignore sends nothing; abstract names
// work.
func TestSdNotifyMonitor(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		img := setup(t, s)
		sock := listenNotify(t, s, false)
		id := s.Run("run", "-d", "--name", "svc", "-e", "NOTIFY_SOCKET", img, "sh", "-c", "env; sleep 60").MustSucceed(t).Out()
		mon := monitorOf(t, s, id)
		if got, want := sock.next(queued), fmt.Sprintf("MAINPID=%d\nREADY=1", mon.pid); got != want {
			t.Fatalf("notification when run -d returned: %q, want %q", got, want)
		}
		logsUntil(t, s, "svc", "HOSTNAME=", 10*time.Second)
		if logs := s.Run("logs", "svc").MustSucceed(t).Stdout; strings.Contains(logs, "NOTIFY_SOCKET") {
			t.Errorf("the container's environment has NOTIFY_SOCKET:\n%s", logs)
		}
		s.Run("stop", "-t", "0", "svc").MustSucceed(t)
		if got := sock.next(queued); got != "" {
			t.Errorf("stop notified %q", got)
		}
		s.Run("start", "svc").MustSucceed(t)
		again := monitorOf(t, s, id)
		if got, want := sock.next(queued), fmt.Sprintf("MAINPID=%d\nREADY=1", again.pid); got != want || again.pid == mon.pid {
			t.Fatalf("notification when start returned: %q, want %q from a new monitor (the first was %d)", got, want, mon.pid)
		}

		s.Run("run", "-d", "--name", "quiet", "--sdnotify=ignore", img, "sleep", "60").MustSucceed(t)
		if got := sock.next(500 * time.Millisecond); got != "" {
			t.Errorf("--sdnotify=ignore notified %q", got)
		}

		abstract := listenNotify(t, s, true)
		id = s.Run("run", "-d", "--name", "abstract", img, "sleep", "60").MustSucceed(t).Out()
		if got, want := abstract.next(queued), fmt.Sprintf("MAINPID=%d\nREADY=1", monitorOf(t, s, id).pid); got != want {
			t.Errorf("notification on %s: %q, want %q", abstract.path, got, want)
		}
		s.Run("rm", "-f", "svc", "quiet", "abstract").MustSucceed(t)
	})
}

// --sdnotify=container: the container gets a socket of its own (any of its
// users may send to it), the monitor names itself the main pid before the
// start returns and relays the container's messages with its own pid.
func TestSdNotifyContainer(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		setup(t, s)
		img := s.LoadUDPTool()
		sock := listenNotify(t, s, false)
		script := `echo "socket $NOTIFY_SOCKET"; udptool notify 'MAINPID=1\nSTATUS=starting' && sleep 0.3 && udptool notify READY=1 && sleep 60`
		id := s.Run("run", "-d", "--name", "self", "--sdnotify=container", "--user", "65534:65534", img, "sh", "-c", script).MustSucceed(t).Out()
		mainpid := fmt.Sprintf("MAINPID=%d", monitorOf(t, s, id).pid)
		if got := sock.next(queued); got != mainpid {
			t.Fatalf("notification when run -d returned: %q, want %q alone (the container says READY)", got, mainpid)
		}
		for _, want := range []string{mainpid + "\nSTATUS=starting", mainpid + "\nREADY=1"} {
			if got := sock.next(10 * time.Second); got != want {
				t.Fatalf("relayed %q, want %q\nlogs: %s", got, want, s.Run("logs", "self").Stdout)
			}
		}
		logsUntil(t, s, "self", "socket /run/notify/notify.sock", 5*time.Second)
		s.Run("rm", "-f", "self").MustSucceed(t)
	})
}

// unitLines are the values of key in a unit's text.
func unitLines(unit, key string) []string {
	var out []string
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// verifyUnit runs systemd-analyze verify on a unit file as the runner's
// user (a user unit rootless). --man=no: skiff's man pages are not
// installed here (`make install` installs skiff-generate-systemd.1).
func verifyUnit(t *testing.T, s *Skiff, path string) {
	t.Helper()
	args := []string{"verify", "--man=no", path}
	if s.Rootless() {
		args = []string{"verify", "--user", "--man=no", path}
	}
	r := s.RunCommand("systemd-analyze", args...).MustSucceed(t)
	if strings.TrimSpace(r.Stderr) != "" {
		t.Errorf("systemd-analyze verify %s warned:\n%s", path, r.Stderr)
	}
}

// A generated unit passes systemd-analyze verify, and its commands do what
// systemd would have them do: without --new start and stop the container;
// with --new create a fresh one from the recorded create command (replacing
// the one of the same name), notify, then stop and remove it.
func TestGenerateSystemd(t *testing.T) {
	t.Parallel()
	RequiresCommand(t, "systemd-analyze")
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		img := setup(t, s)
		first := s.Run("create", "--name", "web", "--stop-timeout", "2", img, "sleep", "60").MustSucceed(t).Out()
		unit := s.Run("generate", "systemd", "--name", "web").MustSucceed(t).Stdout
		skiff := skiffShell(s)
		for key, want := range map[string]string{"ExecStart": skiff + " start web", "ExecStop": skiff + " stop -t 2 web",
			"Type": "notify", "KillMode": "mixed", "Restart": "on-failure", "TimeoutStopSec": "62"} {
			if got := unitLines(unit, key); len(got) != 1 || got[0] != want {
				t.Errorf("%s=%q, want %q in\n%s", key, got, want, unit)
			}
		}
		wantedBy := map[bool]string{false: "multi-user.target", true: "default.target"}[s.Rootless()]
		if got := unitLines(unit, "WantedBy"); len(got) != 1 || got[0] != wantedBy {
			t.Errorf("WantedBy=%q, want %s", got, wantedBy)
		}
		verifyUnit(t, s, s.WriteFile("container-web.service", []byte(unit)))

		sock := listenNotify(t, s, false)
		s.RunCommand("/bin/sh", "-c", unitLines(unit, "ExecStart")[0]).MustSucceed(t)
		if got, want := sock.next(queued), fmt.Sprintf("MAINPID=%d\nREADY=1", monitorOf(t, s, first).pid); got != want {
			t.Fatalf("ExecStart notified %q, want %q", got, want)
		}
		s.RunCommand("/bin/sh", "-c", unitLines(unit, "ExecStop")[0]).MustSucceed(t)
		waitStatus(t, s, "web", "Exited", 10*time.Second)

		os.Remove(filepath.Join(s.Dir, "container-web.service"))
		path := s.Run("generate", "systemd", "--new", "--name", "--files", "--restart-policy", "always", "--restart-sec", "2", "-t", "1", "web").MustSucceed(t).Out()
		if path != filepath.Join(s.Dir, "container-web.service") {
			t.Fatalf("--files printed %q, want %s", path, filepath.Join(s.Dir, "container-web.service"))
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		unit = string(b)
		verifyUnit(t, s, path)
		start := unitLines(unit, "ExecStart")
		if want := " run --cidfile=%t/%n.ctr-id --sdnotify=monitor --rm -d --replace --name web --stop-timeout 2 " + img + " sleep 60"; len(start) != 1 || !strings.HasSuffix(start[0], want) {
			t.Fatalf("ExecStart=%q, want ...%q", start, want)
		}
		for key, want := range map[string]string{"Restart": "always", "RestartSec": "2", "TimeoutStopSec": "61"} {
			if got := unitLines(unit, key); len(got) != 1 || got[0] != want {
				t.Errorf("%s=%q, want %q", key, got, want)
			}
		}
		// As systemd runs them, %t and %n expanded.
		cidfile := filepath.Join(s.RuntimeDir, "container-web.service.ctr-id")
		expand := strings.NewReplacer("%t", s.RuntimeDir, "%n", "container-web.service")
		exec := func(key string) *Result {
			t.Helper()
			lines := unitLines(unit, key)
			if len(lines) != 1 {
				t.Fatalf("%s=%q", key, lines)
			}
			return s.RunCommand("/bin/sh", "-c", expand.Replace(lines[0]))
		}
		s.WriteFile(cidfile, []byte("stale")) // a crash's leftover, which ExecStartPre removes
		exec("ExecStartPre").MustSucceed(t)
		exec("ExecStart").MustSucceed(t)
		id, err := os.ReadFile(cidfile)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := sock.next(queued), fmt.Sprintf("MAINPID=%d\nREADY=1", monitorOf(t, s, string(id)).pid); got != want {
			t.Fatalf("the --new unit's ExecStart notified %q, want %q", got, want)
		}
		if ids := psIDs(t, s); len(ids) != 1 || ids[0] != string(id) || ids[0] == first {
			t.Fatalf("ps -a after the --new unit started: %q, want only the new container %s (the old one replaced)", ids, id)
		}
		exec("ExecStop").MustSucceed(t)
		exec("ExecStopPost").MustSucceed(t)
		requireNoContainers(t, s, "the --new unit stopped")
		// Stopping again (the container gone, even the ID file) is no error.
		os.Remove(cidfile)
		exec("ExecStop").MustSucceed(t)
		exec("ExecStopPost").MustSucceed(t)
	})
}

// generate systemd's bad input: one line, exit 125, no file written.
func TestGenerateSystemdBadInput(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		img := setup(t, s)
		noUnit := func(after string) {
			t.Helper()
			if m, _ := filepath.Glob(filepath.Join(s.Dir, "*.service")); len(m) > 0 {
				t.Errorf("after %s: %v written", after, m)
			}
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"generate", "systemd", "--files", "nosuch"}, "nosuch"},
			{[]string{"generate", "systemd", "--files", "--new", "nosuch"}, "nosuch"},
			{[]string{"generate", "systemd", "--files", "--restart-policy", "sometimes", "web"}, `invalid restart policy "sometimes"`},
			{[]string{"generate", "systemd", "--files", "--env", "NOEQUALS", "web"}, `invalid environment "NOEQUALS"`},
			{[]string{"generate", "systemd", "--files", "-t", "-5", "web"}, "invalid --time -5"},
			{[]string{"generate", "systemd", "--files"}, "requires exactly 1 argument"},
		} {
			if len(psIDs(t, s)) == 0 {
				s.Run("create", "--name", "web", img, "true").MustSucceed(t)
			}
			r := s.Run(tc.args...).MustFail(t, 125, tc.want)
			requireOneLine(t, r)
			noUnit(strings.Join(tc.args, " "))
		}
		// A container with no recorded create command (as one made through
		// the API would be) has no --new unit.
		db := filepath.Join(s.Root, "skiff.db")
		s.RunCommand("sqlite3", db, `UPDATE containers SET config = json_remove(config, '$.create_command') WHERE name = 'web'`).MustSucceed(t)
		r := s.Run("generate", "systemd", "--new", "--files", "web").MustFail(t, 125, "container web has no recorded create command")
		requireOneLine(t, r)
		noUnit("--new without a create command")
		s.Run("generate", "systemd", "web").MustSucceed(t) // without --new it still has a unit

		s.Run("rm", "-f", "web").MustSucceed(t)
		r = s.Run("run", "-d", "--sdnotify=healthy", img, "sleep", "60").MustFail(t, 125, `invalid sdnotify mode "healthy"`)
		requireOneLine(t, r)
		requireNoContainers(t, s, "run --sdnotify=healthy")
		r = s.Run("stop", "--cidfile", filepath.Join(s.Dir, "none")).MustFail(t, 125, "--cidfile")
		requireOneLine(t, r)
	})
}

var unitrunBin struct {
	once sync.Once
	path string
	err  error
}

// unitrun builds test/cmd/unitrun, a stand-in for systemd's service manager
// (see its package comment), once per test binary.
func unitrun(t *testing.T) string {
	t.Helper()
	unitrunBin.once.Do(func() {
		_, file, _, ok := goruntime.Caller(0)
		if !ok {
			unitrunBin.err = errors.New("the source directory is unknown")
			return
		}
		unitrunBin.path = filepath.Join(RunDir(t), "unitrun")
		cmd := exec.Command("go", "build", "-o", unitrunBin.path, ".")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "cmd", "unitrun")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			unitrunBin.err = fmt.Errorf("building unitrun: %v: %s", err, out)
		}
	})
	if unitrunBin.err != nil {
		t.Fatal(unitrunBin.err)
	}
	return unitrunBin.path
}

// A --new unit run as a service manager runs it (no systemd runs here: the
// stand-in reaps the monitor as PID 1 would): the monitor is the main
// process and exits with the container's code, so Restart=on-failure
// starts a fresh container after a failure; stopping the unit stops and
// removes it.
func TestGenerateSystemdLifecycle(t *testing.T) {
	t.Parallel()
	bin := unitrun(t)
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		img := setup(t, s)
		data := filepath.Join(s.Dir, "appdata")
		if err := os.Mkdir(data, 0o755); err != nil {
			t.Fatal(err)
		}
		s.Chown(data)
		s.Run("create", "--name", "app", "--stop-timeout", "1", "-v", data+":/data", img,
			"sh", "-c", "test -e /data/failed || { touch /data/failed; exit 3; }; exec sleep 60").MustSucceed(t)
		path := s.Run("generate", "systemd", "--new", "--name", "--files", "--restart-sec", "1", "app").MustSucceed(t).Out()
		s.Run("rm", "app").MustSucceed(t)
		manager := startBackground(t, s.Command(bin, path))
		manager.out.waitFor(t, "exit 3\n", 30*time.Second)
		manager.out.waitFor(t, "\nready ", 30*time.Second)
		id, err := os.ReadFile(filepath.Join(s.RuntimeDir, "container-app.service.ctr-id"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(manager.out.String()), "\n")
		if want := fmt.Sprintf("ready %d", monitorOf(t, s, string(id)).pid); len(lines) != 3 || !strings.HasPrefix(lines[0], "ready ") || lines[2] != want {
			t.Fatalf("service manager saw %q, want ready, exit 3, then %q (the restarted container's monitor)", lines, want)
		}
		if st := status(t, s, "app"); !strings.HasPrefix(st, "Up") {
			t.Fatalf("the restarted container is %q, want Up", st)
		}
		manager.cmd.Process.Signal(syscall.SIGTERM)
		if code := manager.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("service manager: %s", manager)
		}
		if last := lines[len(lines)-1]; !strings.HasSuffix(manager.out.String(), "stopped 137\n") {
			t.Errorf("after %q the stop ended with %q, want stopped 137 (SIGKILL after the stop timeout: sleep ignores SIGTERM as PID 1)", last, manager.out.String())
		}
		requireNoContainers(t, s, "the unit stopped")
	})
}
