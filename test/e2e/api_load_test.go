package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// poolFDs: the descriptors the state database's connection pool may hold
// beyond its first connection (statedb's maxConns, 4, less one, times a
// database and a WAL descriptor each).
const poolFDs = 3 * 2

// loadClients and loadTime: the issue's "50 concurrent clients each
// running create/start/wait/rm for a minute".
const (
	loadClients = 50
	loadTime    = time.Minute
)

// TestAPILoad: 50 moby clients, each in a loop of create, start, wait and
// remove through one service for a minute. No call fails, every wait
// sees exit 0, the service never exits (idle time 1 s: the clients keep
// it busy), and afterwards no container, monitor or descriptor is left.
// Not parallel with other tests: it loads both cores on its own.
func TestAPILoad(t *testing.T) {
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "1")
		pid := a.cmd.Process.Pid
		ctx, cancel := context.WithTimeout(context.Background(), loadTime+2*time.Minute)
		defer cancel()
		// One round first: what serving a round opens once and keeps (the
		// state database, the store's handle on /) is the baseline.
		warm := a.goClient(t)
		if err := loadRound(ctx, warm, image, "load-warm"); err != nil {
			t.Fatal(err)
		}
		warm.Close()
		fds0 := a.warmFDs(t)

		var (
			rounds atomic.Int64
			mu     sync.Mutex
			errs   []string
			wg     sync.WaitGroup
		)
		fail := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			if len(errs) < 10 {
				errs = append(errs, fmt.Sprintf(format, args...))
			}
		}
		end := time.Now().Add(loadTime)
		for i := range loadClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cli, err := client.New(client.WithHost("unix://"+a.sock), client.WithAPIVersionNegotiation())
				if err != nil {
					fail("client %d: %v", i, err)
					return
				}
				defer cli.Close()
				for n := 0; time.Now().Before(end); n++ {
					if err := loadRound(ctx, cli, image, fmt.Sprintf("load-%d-%d", i, n)); err != nil {
						fail("client %d round %d: %v", i, n, err)
						return
					}
					rounds.Add(1)
				}
			}()
		}
		wg.Wait()
		t.Logf("%d rounds of create/start/wait/rm by %d clients in %v", rounds.Load(), loadClients, loadTime)
		for _, e := range errs {
			t.Error(e)
		}
		if a.gone() {
			t.Fatal("the service exited under load")
		}
		if rounds.Load() < loadClients {
			t.Errorf("only %d rounds in %v", rounds.Load(), loadTime)
		}
		if out := s.Run("ps", "-aq").MustSucceed(t).Stdout; out != "" {
			t.Errorf("containers left after the load: %q", out)
		}
		if n := monitorsOf(s); n != 0 {
			t.Errorf("%d monitors left after the load", n)
		}
		// The clients are closed: the service's descriptors are back to
		// what it held idle (its listener, database, log), but for the
		// state database's pool (poolFDs); thousands of rounds leaking
		// one each would show far beyond that.
		if fds := countFDs(t, pid); fds > fds0+poolFDs {
			t.Errorf("the service holds %d descriptors after the load, %d before: %s", fds, fds0, fdTargets(pid))
		}
		if !a.exited(10 * time.Second) {
			t.Error("the service did not exit once idle after the load")
		}
	})
}

// loadRound is one client's create, start, wait (exit 0) and remove.
func loadRound(ctx context.Context, cli *client.Client, image, name string) error {
	c, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
		Config:     &container.Config{Image: image, Cmd: []string{"true"}, Labels: map[string]string{"e2e.load": "1"}},
		HostConfig: &container.HostConfig{NetworkMode: "none"}})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	wait := cli.ContainerWait(ctx, c.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	select {
	case r := <-wait.Result:
		if r.StatusCode != 0 || r.Error != nil {
			return fmt.Errorf("wait: %+v", r)
		}
	case err := <-wait.Error:
		return fmt.Errorf("wait: %w", err)
	}
	if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{}); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	return nil
}

// TestAPIClientDrops: clients that go away in the middle of a stream
// (logs -f, events) leave the service serving, and once they are gone the
// service holds no more descriptors than before and exits when idle.
func TestAPIClientDrops(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		s.Run("run", "-d", "--name", "talker", "--network", "none", image, "sh", "-c", "while :; do echo tick; sleep 0.1; done").MustSucceed(t)
		a := startService(t, s, "--time", "3")
		pid := a.cmd.Process.Pid
		drop := func(times int) {
			for _, path := range []string{
				"/containers/talker/logs?follow=1&stdout=1",
				"/events",
				"/events?filters=" + `%7B%22event%22%3A%7B%22die%22%3Atrue%7D%7D`,
			} {
				for range times {
					c, err := net.Dial("unix", a.sock)
					if err != nil {
						t.Fatal(err)
					}
					fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: d\r\n\r\n", path)
					line, err := bufio.NewReader(c).ReadString('\n')
					if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
						t.Fatalf("GET %s: %q %v", path, line, err)
					}
					c.Close() // mid-stream
				}
			}
		}
		// Thirty dropped streams must not leave more than what the state
		// database's pool may keep (poolFDs).
		drop(2)
		time.Sleep(500 * time.Millisecond)
		fds0 := countFDs(t, pid)
		drop(10)
		if a.gone() {
			t.Fatal("the service exited after clients dropped")
		}
		resp, err := a.http.Get("http://d/containers/talker/json")
		if err != nil {
			t.Fatalf("the service no longer serves after the drops: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"Running":true`) {
			t.Fatalf("inspect after the drops: %s %s", resp.Status, body)
		}
		a.http.CloseIdleConnections()
		// The dropped streams' descriptors go within a second; a service
		// that holds them (or exits holding them) leaks.
		var fds int
		var held string
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && !a.gone(); time.Sleep(50 * time.Millisecond) {
			if fds, held = countFDs(t, pid), fdTargets(pid); fds <= fds0+poolFDs {
				break
			}
		}
		if fds > fds0+poolFDs {
			t.Errorf("the service holds %d descriptors after the dropped streams, %d before: %s", fds, fds0, held)
		}
		if !a.exited(10 * time.Second) {
			t.Error("the service did not exit once the dropped streams were gone")
		}
	})
}

// TestAPIServiceKilled: kill -9 of the service while clients create and
// start containers loses none whose create was answered: each is in ps -a,
// can be inspected and removed, and the next service on the same socket
// serves.
func TestAPIServiceKilled(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var (
			mu      sync.Mutex
			created []string
			wg      sync.WaitGroup
		)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cli, err := client.New(client.WithHost("unix://"+a.sock), client.WithAPIVersionNegotiation())
				if err != nil {
					return
				}
				defer cli.Close()
				for n := 0; ; n++ {
					c, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: fmt.Sprintf("k-%d-%d", i, n),
						Config:     &container.Config{Image: image, Cmd: []string{"sleep", "100"}},
						HostConfig: &container.HostConfig{NetworkMode: "none"}})
					if err != nil {
						return
					}
					mu.Lock()
					created = append(created, c.ID)
					mu.Unlock()
					if _, err := cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
						return
					}
				}
			}()
		}
		// Kill it once the clients are well under way.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			n := len(created)
			mu.Unlock()
			if n >= 6 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d containers created in 30 s", n)
			}
		}
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if !a.exited(5 * time.Second) {
			t.Fatal("the service survived kill -9")
		}
		out := s.Run("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}").MustSucceed(t).Stdout
		for _, id := range created {
			if !strings.Contains(out, id) {
				t.Errorf("container %s, created through the killed service, is not in ps -a:\n%s", id, out)
			}
		}
		// A new service takes over the stale socket and serves; every
		// container can be removed through it.
		b := startService(t, s, "--time", "0")
		cli := b.goClient(t)
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true})
		if err != nil {
			t.Fatalf("ContainerList after the kill: %v", err)
		}
		for _, c := range list.Items {
			if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
				t.Errorf("remove %s after the kill: %v", c.ID, err)
			}
		}
		if out := s.Run("ps", "-aq").MustSucceed(t).Stdout; out != "" {
			t.Errorf("containers left: %q", out)
		}
	})
}

// gone reports whether the service has exited, without waiting.
func (a *apiService) gone() bool {
	select {
	case err := <-a.done:
		a.done <- err
		return true
	default:
		return false
	}
}

// warmFDs is the number of descriptors the service holds idle once it
// has served a request (the state database is opened on first use and
// kept).
func (a *apiService) warmFDs(t *testing.T) int {
	t.Helper()
	resp, err := a.http.Get("http://d/containers/json?all=1")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	a.http.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	return countFDs(t, a.cmd.Process.Pid)
}

// countFDs is the number of descriptors process pid holds.
func countFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(ents)
}

// fdTargets lists what process pid's descriptors point at, for messages.
func fdTargets(pid int) string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		l, _ := os.Readlink(filepath.Join(dir, e.Name()))
		out = append(out, e.Name()+"→"+l)
	}
	return strings.Join(out, " ")
}

// monitorsOf counts the skiff-monitor processes of the runner's run root.
func monitorsOf(s *Skiff) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if cmd := string(b); strings.Contains(cmd, "skiff-monitor") && strings.Contains(cmd, s.RunRoot) {
			n++
		}
	}
	return n
}

// TestAPIExecClientDrop: as with Docker, an exec whose client leaves runs
// on (its output dropped) to its end, whose exit code exec inspect shows;
// the service, which keeps serving, may exit idle meanwhile
// (TestAPIIdleHijacked).
func TestAPIExecClientDrop(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		s.Run("run", "-d", "--name", "box", "--network", "none", image, "sleep", "1000").MustSucceed(t)
		a := startService(t, s, "--time", "0")
		cli := a.goClient(t)
		ctx := context.Background()
		ex, err := cli.ExecCreate(ctx, "box", client.ExecCreateOptions{AttachStdout: true,
			Cmd: []string{"sh", "-c", "echo started; sleep 2; echo more; echo ran-on > /tmp/after; exit 3"}})
		if err != nil {
			t.Fatal(err)
		}
		hj, err := cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if line, err := hj.Reader.ReadString('\n'); err != nil || !strings.HasSuffix(line, "started\n") {
			t.Fatalf("first output %q, %v", line, err)
		}
		hj.Close() // mid-stream
		time.Sleep(500 * time.Millisecond)
		if in, err := cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{}); err != nil || !in.Running || in.PID <= 0 {
			t.Errorf("exec inspect after the client left, while it runs: %+v %v", in, err)
		}
		eventually(t, 10*time.Second, "the exec did not run to its end", func() bool {
			return s.Run("exec", "box", "cat", "/tmp/after").Stdout == "ran-on\n"
		})
		eventually(t, 5*time.Second, "exec inspect does not show the exit", func() bool {
			in, err := cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
			return err == nil && !in.Running && in.ExitCode == 3
		})
		if a.gone() {
			t.Error("the service exited")
		}
		s.Run("rm", "-f", "box").MustSucceed(t)
	})
}
