package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// TestAPIGoClient: the moby Go client negotiates down to 1.44 and lists
// containers and events through the shim.
func TestAPIGoClient(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		since := fmt.Sprint(time.Now().Unix() - 1)
		s.Run("create", "--name", "gocli", "--label", "e2e.api=go", image, "true").MustSucceed(t)
		a := startService(t, s, "--time", "0")
		cli, err := client.New(client.WithHost("unix://"+a.sock), client.WithAPIVersionNegotiation())
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ping, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		if err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if ping.APIVersion != "1.44" || ping.OSType != "linux" || cli.ClientVersion() != "1.44" {
			t.Errorf("Ping: API %q, OS %q, negotiated %q; want 1.44, linux, 1.44", ping.APIVersion, ping.OSType, cli.ClientVersion())
		}
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", "e2e.api=go")})
		if err != nil {
			t.Fatalf("ContainerList: %v", err)
		}
		if len(list.Items) != 1 || list.Items[0].Names[0] != "/gocli" || list.Items[0].Image != image || string(list.Items[0].State) != "created" {
			t.Errorf("ContainerList: %+v", list.Items)
		}
		if list, err := cli.ContainerList(ctx, client.ContainerListOptions{}); err != nil || len(list.Items) != 0 {
			t.Errorf("ContainerList without All: %+v, %v; want none running", list.Items, err)
		}
		res := cli.Events(ctx, client.EventsListOptions{Since: since, Until: fmt.Sprint(time.Now().Unix() + 1),
			Filters: make(client.Filters).Add("container", "gocli")})
		var actions []string
	loop:
		for {
			select {
			case m := <-res.Messages:
				actions = append(actions, string(m.Action))
			case err := <-res.Err:
				if err != nil && err.Error() != "EOF" {
					t.Errorf("Events: %v", err)
				}
				break loop
			}
		}
		if len(actions) != 1 || actions[0] != "create" {
			t.Errorf("Events: %q, want [create]", actions)
		}
	})
}

// TestAPIGoClientCreate: a create request with many of Docker's fields set
// through the moby client comes back in inspect as it was sent, and the
// process runs with them; logs are demultiplexed with stdcopy.
func TestAPIGoClientCreate(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		cli := a.goClient(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := os.Mkdir(filepath.Join(s.Dir, "bind"), 0o755); err != nil {
			t.Fatal(err)
		}
		hostDir := s.WriteFile("bind/data.txt", []byte("from-the-host\n"))
		stopTimeout := 3
		pids := int64(64)
		script := `echo "env=$GREETING wd=$(pwd) host=$(hostname) id=$(id -u):$(id -g)"
cat /data/data.txt
grep -q ' /scratch tmpfs' /proc/mounts && echo scratch=tmpfs
touch /ro-test 2>/dev/null || echo rootfs=readonly
grep -m1 '^CapEff' /proc/self/status
grep -q 'myhost' /etc/hosts && echo extrahost=ok
ulimit -n
echo to-stderr >&2`
		resources := container.Resources{Ulimits: []*container.Ulimit{{Name: "nofile", Soft: 512, Hard: 1024}}}
		if !s.Rootless() { // no cgroup delegation for rootless containers on this host
			resources.Memory, resources.NanoCPUs, resources.PidsLimit = 64<<20, 500_000_000, &pids
		}
		created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "fields",
			Config: &container.Config{
				Image: image, Hostname: "fieldhost", User: "1000:1000", WorkingDir: "/tmp",
				Env: []string{"GREETING=hello"}, Labels: map[string]string{"e2e.fields": "1"},
				Entrypoint: []string{"sh", "-c"}, Cmd: []string{script},
				StopSignal: "SIGUSR1", StopTimeout: &stopTimeout,
			},
			HostConfig: &container.HostConfig{
				NetworkMode:    "none",
				Binds:          []string{filepath.Dir(hostDir) + ":/data:ro"},
				Tmpfs:          map[string]string{"/scratch": "size=1m"},
				ReadonlyRootfs: true,
				CapDrop:        []string{"ALL"},
				ExtraHosts:     []string{"myhost:192.0.2.1"},
				RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 1},
				SecurityOpt:    []string{"no-new-privileges"},
				LogConfig:      container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m"}},
				Resources:      resources,
			},
		})
		if err != nil {
			t.Fatalf("ContainerCreate: %v", err)
		}
		in, err := cli.ContainerInspect(ctx, "fields", client.ContainerInspectOptions{})
		if err != nil {
			t.Fatalf("ContainerInspect: %v", err)
		}
		c, hc := in.Container.Config, in.Container.HostConfig
		for _, check := range []struct {
			what      string
			got, want any
		}{
			{"Id", in.Container.ID, created.ID},
			{"Name", in.Container.Name, "/fields"},
			{"Hostname", c.Hostname, "fieldhost"},
			{"User", c.User, "1000:1000"},
			{"WorkingDir", c.WorkingDir, "/tmp"},
			{"Env has GREETING", slices.Contains(c.Env, "GREETING=hello"), true},
			{"Labels", c.Labels["e2e.fields"], "1"},
			{"Entrypoint", strings.Join(c.Entrypoint, " "), "sh -c"},
			{"StopSignal", c.StopSignal, "SIGUSR1"},
			{"StopTimeout", c.StopTimeout != nil && *c.StopTimeout == 3, true},
			{"ReadonlyRootfs", hc.ReadonlyRootfs, true},
			{"CapDrop", strings.Join(hc.CapDrop, ","), "ALL"},
			{"Memory", hc.Memory, resources.Memory},
			{"NanoCpus", hc.NanoCPUs, resources.NanoCPUs},
			{"PidsLimit", hc.PidsLimit != nil && *hc.PidsLimit == 64, !s.Rootless()},
			{"Ulimits", fmt.Sprint(*hc.Ulimits[0]), "{nofile 1024 512}"},
			{"RestartPolicy", string(hc.RestartPolicy.Name), "on-failure"},
			{"LogConfig", hc.LogConfig.Type + " " + hc.LogConfig.Config["max-size"], "json-file 1m"},
			{"ExtraHosts", strings.Join(hc.ExtraHosts, ","), "myhost:192.0.2.1"},
			{"Tmpfs", hc.Tmpfs["/scratch"], "size=1m"},
			{"State", string(in.Container.State.Status), "created"},
		} {
			if fmt.Sprint(check.got) != fmt.Sprint(check.want) {
				t.Errorf("inspect %s: %v, want %v", check.what, check.got, check.want)
			}
		}
		wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
		if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatalf("ContainerStart: %v", err)
		}
		// A success: on-failure:1 does not run it again.
		select {
		case r := <-wait.Result:
			if r.StatusCode != 0 {
				t.Errorf("wait: %+v, want exit 0", r)
			}
		case err := <-wait.Error:
			t.Fatalf("wait: %v", err)
		}
		logs, err := cli.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			t.Fatalf("ContainerLogs: %v", err)
		}
		var stdout, stderr strings.Builder
		if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
			t.Fatalf("stdcopy: %v", err)
		}
		logs.Close()
		want := "env=hello wd=/tmp host=fieldhost id=1000:1000\nfrom-the-host\nscratch=tmpfs\nrootfs=readonly\nCapEff:\t0000000000000000\nextrahost=ok\n512\n"
		if stdout.String() != want || stderr.String() != "to-stderr\n" {
			t.Errorf("the process's output:\n%q\nwant\n%q\nstderr %q", stdout.String(), want, stderr.String())
		}
		if _, err := cli.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{}); err != nil {
			t.Fatalf("ContainerRemove: %v", err)
		}
	})
}

// TestAPIGoClientHijack: the moby Go client's hijacked streams: attach to a
// created container, start and wait (its first output arrives, stdout and
// stderr apart), and an exec's create, attach with stdin closed by
// CloseWrite, and inspect's exit code.
func TestAPIGoClientHijack(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := setup(t, s)
		a := startService(t, s, "--time", "0")
		cli, err := client.New(client.WithHost("unix://"+a.sock), client.WithAPIVersionNegotiation())
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()

		// attach (container created), wait, start: nothing is lost.
		created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "goatt",
			Config: &container.Config{Image: image, Cmd: []string{"sh", "-c", "echo first; echo err >&2; exit 3"}}})
		if err != nil {
			t.Fatalf("ContainerCreate: %v", err)
		}
		att, err := cli.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
		if err != nil {
			t.Fatalf("ContainerAttach: %v", err)
		}
		defer att.Close()
		if mt, ok := att.MediaType(); !ok || mt != "application/vnd.docker.multiplexed-stream" {
			t.Errorf("attach media type %q %v", mt, ok)
		}
		wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
		if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatalf("ContainerStart: %v", err)
		}
		var stdout, stderr bytes.Buffer
		if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
			t.Errorf("attach stream: %v", err)
		}
		if stdout.String() != "first\n" || stderr.String() != "err\n" {
			t.Errorf("attach: stdout %q stderr %q", stdout.String(), stderr.String())
		}
		select {
		case res := <-wait.Result:
			if res.StatusCode != 3 || res.Error != nil {
				t.Errorf("ContainerWait: %+v", res)
			}
		case err := <-wait.Error:
			t.Errorf("ContainerWait: %v", err)
		}

		// exec: create, attach (hijacked), stdin closed, exit code.
		if _, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "goexec",
			Config: &container.Config{Image: image, Cmd: []string{"sleep", "60"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.ContainerStart(ctx, "goexec", client.ContainerStartOptions{}); err != nil {
			t.Fatal(err)
		}
		ex, err := cli.ExecCreate(ctx, "goexec", client.ExecCreateOptions{AttachStdin: true, AttachStdout: true, AttachStderr: true,
			Cmd: []string{"sh", "-c", "cat; echo done >&2; exit 5"}})
		if err != nil {
			t.Fatalf("ExecCreate: %v", err)
		}
		if in, err := cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{}); err != nil || in.Running || in.ContainerID == "" {
			t.Errorf("ExecInspect before the start: %+v, %v", in, err)
		}
		hj, err := cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
		if err != nil {
			t.Fatalf("ExecAttach: %v", err)
		}
		defer hj.Close()
		io.WriteString(hj.Conn, "piped\n")
		// Running, cat waits for the rest of its input: the exec's PID is
		// its shell's, in the host's pid namespace.
		eventually(t, 5*time.Second, "ExecInspect while it runs shows no PID", func() bool {
			in, err := cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
			return err == nil && in.Running && in.PID > 0
		})
		in, _ := cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", in.PID)); !strings.HasPrefix(string(b), "sh\x00-c\x00cat;") {
			t.Errorf("ExecInspect PID %d is not the exec's process: cmdline %q", in.PID, b)
		}
		hj.CloseWrite()
		stdout.Reset()
		stderr.Reset()
		if _, err := stdcopy.StdCopy(&stdout, &stderr, hj.Reader); err != nil {
			t.Errorf("exec stream: %v", err)
		}
		if stdout.String() != "piped\n" || stderr.String() != "done\n" {
			t.Errorf("exec: stdout %q stderr %q", stdout.String(), stderr.String())
		}
		in, err = cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
		if err != nil || in.Running || in.ExitCode != 5 {
			t.Errorf("ExecInspect after the exit: %+v, %v; want exit 5", in, err)
		}
		if _, err := cli.ContainerRemove(ctx, "goexec", client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{}); err == nil {
			t.Errorf("ExecInspect of an exec of a removed container: no error")
		}
		if _, err := cli.ContainerRemove(ctx, "goatt", client.ContainerRemoveOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestAPIStopRightAfterStart: a stop sent the moment a start returns
// reaches the command (sleep as PID 1 ignores SIGTERM: killed after the
// timeout, 137), never skiff's init before it exec'd the command, which
// would exit 2. Through the service, start and stop come milliseconds
// apart.
func TestAPIStopRightAfterStart(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		image := s.LoadBusybox()
		a := startService(t, s, "--time", "0")
		cli := a.goClient(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		one := 1
		for i := range 5 {
			c, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: image, Cmd: []string{"sleep", "100"}},
				HostConfig: &container.HostConfig{NetworkMode: "none"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := cli.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: &one}); err != nil {
				t.Fatal(err)
			}
			in, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if code := in.Container.State.ExitCode; code != 137 {
				t.Errorf("round %d: exit code %d after a stop right after the start, want 137", i, code)
			}
			cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{})
		}
	})
}

// goClient is a moby client of the service, negotiating its version,
// closed when the test ends.
func (a *apiService) goClient(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.New(client.WithHost("unix://"+a.sock), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}
