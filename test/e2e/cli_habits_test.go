package e2e

// The command-line habits of docker and podman users that scripts rely on:
// flags after positional arguments, and the common flags of existing
// commands.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Flags after the positional arguments, except where those are the
// container's own command line (run, create, exec).
func TestCLIFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "--name", "done", bb, "echo", "hello").MustSucceed(t)
		s.Run("logs", "done", "-f").Assert(t, Expect{Stdout: "hello\n"})
		s.Run("logs", "done", "--tail", "1", "-t").Assert(t, Expect{Stdout: "Z hello\n"})

		s.Run("run", "-d", "--name", "web", bb, "sleep", "1000").MustSucceed(t)
		s.Run("stop", "web", "-t", "0").Assert(t, Expect{Stdout: "web"})
		s.Run("start", "web").MustSucceed(t)
		s.Run("rm", "web").MustFail(t, 125, "")
		s.Run("rm", "web", "-f").Assert(t, Expect{Stdout: "web"})
		if psRow(t, s, "web") != "" {
			t.Fatal("rm web -f left the container")
		}

		out := filepath.Join(s.Dir, "x.tar")
		s.Run("save", bb, "-o", out).MustSucceed(t)
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Fatalf("save IMAGE -o FILE wrote nothing: %v", err)
		}
		id := s.Run("images", "-q", bb).MustSucceed(t).Out()
		if got := s.Run("images", bb, "--format", "{{.ID}}").MustSucceed(t).Out(); got != id {
			t.Errorf("images NAME --format: %q, want %q", got, id)
		}
		s.Run("tag", bb, "other:1").MustSucceed(t)
		s.Run("image", "ls", "other", "-q").Assert(t, Expect{Stdout: id})
		s.Run("container", "ls", "--all", "-q").MustSucceed(t)

		// `--` ends the flags: what follows is an argument.
		s.Run("rm", "done", "--", "-f").MustFail(t, 125, "-f")

		// run, create and exec pass everything after the image or container on.
		s.Run("run", "--rm", bb, "echo", "-n", "-f", "x").Assert(t, Expect{Stdout: "-f x"})
		s.Run("run", "-d", "--name", "ex", bb, "sleep", "1000").MustSucceed(t)
		s.Run("exec", "ex", "ls", "-d", "/etc").Assert(t, Expect{Stdout: "/etc\n"})
		s.Run("rm", "-f", "ex").MustSucceed(t)
	})
}

// Unknown flags and bad values: one line with docker's spelling, exit 125.
func TestCLIFlagErrors(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"run", "--blkio-weight", "300", "busybox", "true"}, "unknown flag: --blkio-weight"},
			{[]string{"ps", "--bogus"}, "unknown flag: --bogus"},
			{[]string{"logs", "web", "--bogus"}, "unknown flag: --bogus"},
			{[]string{"stop", "web", "-t", "soon"}, `invalid value "soon" for -t`},
			{[]string{"stop", "web", "--time"}, "flag needs an argument: --time"},
		} {
			r := s.Run(tc.args...).MustFail(t, 125, tc.want)
			if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || r.Stdout != "" {
				t.Errorf("%v: want one line on stderr and nothing on stdout\n%s", tc.args, r)
			}
		}
	})
}

// --all and --filter on the verbs that take containers; names with them
// are refused before anything changes.
func TestCLIAllAndFilter(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		a := s.Run("run", "-d", "--name", "ca", "--label", "grp=x", bb, "sleep", "1000").MustSucceed(t).Out()
		b := s.Run("run", "-d", "--name", "cb", bb, "sleep", "1000").MustSucceed(t).Out()
		cr := s.Run("create", "--name", "cc", bb, "sleep", "1000").MustSucceed(t).Out()

		s.Run("stop", "--all", "ca").MustFail(t, 125, "--all and --filter")
		s.Run("rm", "-f", "--filter", "name=ca", "cb").MustFail(t, 125, "--all and --filter")
		waitStatus(t, s, "ca", "Up", time.Second)
		waitStatus(t, s, "cb", "Up", time.Second)

		if s.Rootless() {
			// No cgroup freezer here: one error per running container.
			r := s.Run("pause", "--all").MustFail(t, 125, "cgroup freezer")
			if n := strings.Count(r.Stderr, "Error:"); n != 2 {
				t.Errorf("pause --all of two running containers: %d errors\n%s", n, r)
			}
		} else {
			s.Run("pause", "--all").Assert(t, Expect{Stdout: a})
			if st := status(t, s, "cb"); !strings.Contains(st, "Paused") {
				t.Errorf("pause --all: cb is %q", st)
			}
			s.Run("unpause", "-a").Assert(t, Expect{Stdout: b})
		}
		s.Run("stop", "--all", "-t", "0").Assert(t, Expect{Stdout: a + "\n"})
		for _, n := range []string{"ca", "cb"} {
			waitStatus(t, s, n, "Exited", time.Second)
		}
		s.Run("start", "--all").Assert(t, Expect{Stdout: cr})
		waitStatus(t, s, "cc", "Up", time.Second)
		s.Run("kill", "-a").MustSucceed(t)
		waitStatus(t, s, "cc", "Exited (137)", 10*time.Second)
		s.Run("start", "--filter", "label=grp=x").Assert(t, Expect{Stdout: a, NotStdout: b})
		waitStatus(t, s, "ca", "Up", time.Second)
		waitStatus(t, s, "cb", "Exited", time.Second)
		s.Run("restart", "--all", "-t", "0").MustSucceed(t)
		waitStatus(t, s, "cb", "Up", 5*time.Second)
		s.Run("stop", "--filter", "name=cb", "-t", "0").Assert(t, Expect{Stdout: b, NotStdout: a})
		waitStatus(t, s, "ca", "Up", time.Second)
		s.Run("rm", "--filter", "status=exited").Assert(t, Expect{Stdout: b})
		s.Run("rm", "--all").MustFail(t, 125, "running")
		s.Run("rm", "-af").MustSucceed(t)
		requireNoContainers(t, s, "rm -af")
	})
}

// stop and rm: --time, stop's --timeout, --ignore; bad times are refused.
func TestCLIStopRemoveFlags(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("run", "-d", "--name", "web", bb, "sleep", "1000").MustSucceed(t)
		s.Run("stop", "-t", "-3", "web").MustFail(t, 125, "invalid --time -3")
		s.Run("stop", "--time", "soon", "web").MustFail(t, 125, `invalid value "soon" for --time`)
		waitStatus(t, s, "web", "Up", time.Second)
		if r := s.Run("stop", "--timeout", "0", "web").Assert(t, Expect{Stdout: "web"}); r.Duration > 5*time.Second {
			t.Errorf("stop --timeout 0 took %v", r.Duration)
		}
		s.Run("stop", "nope").MustFail(t, 125, "No such container")
		s.Run("stop", "-i", "nope", "web").Assert(t, Expect{Stdout: "web"})
		s.Run("stop", "--ignore", "nope").MustSucceed(t)

		// rm -f -t N: the stop signal and N seconds before SIGKILL.
		s.Run("run", "-d", "--name", "stubborn", bb, "sh", "-c", `trap "" TERM; sleep 1000`).MustSucceed(t)
		s.Run("rm", "-f", "-t", "-2", "stubborn").MustFail(t, 125, "invalid --time")
		r := s.Run("rm", "stubborn", "-f", "--time", "2").Assert(t, Expect{Stdout: "stubborn"})
		if r.Duration < 2*time.Second || r.Duration > 15*time.Second {
			t.Errorf("rm -f --time 2 of a container ignoring SIGTERM took %v, want the 2 s then SIGKILL", r.Duration)
		}
		s.Run("run", "-d", "--name", "quick", bb, "sleep", "1000").MustSucceed(t)
		if r := s.Run("rm", "-f", "quick").MustSucceed(t); r.Duration > 5*time.Second {
			t.Errorf("rm -f without --time took %v: SIGKILL at once", r.Duration)
		}
		s.Run("rm", "--ignore", "nope", "web").Assert(t, Expect{Stdout: "web"})
	})
}

// ps and images: --sort, --noheading, the fields both docker and podman
// offer (.Labels, .Label "key"), a name together with a filter.
func TestCLIListFlags(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("create", "--name", "zz", "--label", "k=v1", "--label", "a=b", bb, "true").MustSucceed(t)
		s.Run("create", "--name", "aa", bb, "true").MustSucceed(t)
		if got := s.Run("ps", "-a", "--format", "{{.Names}}").MustSucceed(t).Lines(); strings.Join(got, " ") != "aa zz" {
			t.Errorf("ps -a default order (newest first): %v", got)
		}
		if got := s.Run("ps", "-a", "--sort", "names", "--format", "{{.Names}}").MustSucceed(t).Lines(); strings.Join(got, " ") != "aa zz" {
			t.Errorf("ps --sort names: %v", got)
		}
		if got := s.Run("ps", "-a", "--sort", "created", "-q").MustSucceed(t).Lines(); len(got) != 2 {
			t.Errorf("ps --sort created -q: %v", got)
		}
		s.Run("ps", "-a", "--sort", "bogus").MustFail(t, 125, "invalid --sort")
		r := s.Run("ps", "-a", "--noheading").MustSucceed(t)
		if strings.Contains(r.Stdout, "CONTAINER ID") || len(r.Lines()) != 2 {
			t.Errorf("ps --noheading:\n%s", r.Stdout)
		}
		got := s.Run("ps", "-a", "--filter", "name=zz", "--format", `{{.Label "k"}}|{{.Labels}}|{{.Label "none"}}`).MustSucceed(t).Out()
		if got != "v1|a=b,k=v1|" {
			t.Errorf(`ps --format '{{.Label "k"}}|{{.Labels}}': %q`, got)
		}
		if got := s.Run("ps", "-a", "--format", "table {{.Names}}\t{{.Labels}}", "--noheading", "--sort", "names").MustSucceed(t).Lines(); len(got) != 2 || !strings.HasPrefix(got[0], "aa") {
			t.Errorf("ps table --noheading: %q", got)
		}

		s.Run("tag", bb, "aaa:1").MustSucceed(t)
		if got := s.Run("images", "--sort", "repository", "--format", "{{.Repository}}:{{.Tag}}").MustSucceed(t).Lines(); len(got) != 2 || got[0] != "aaa:1" || got[1] != "busybox:latest" {
			t.Errorf("images --sort repository: %v", got)
		}
		if got := s.Run("images", "--sort", "tag", "--format", "{{.Tag}}").MustSucceed(t).Lines(); len(got) != 2 || got[0] != "1" {
			t.Errorf("images --sort tag: %v", got)
		}
		s.Run("images", "--sort", "bogus").MustFail(t, 125, "invalid --sort")
		for _, flag := range []string{"--noheading", "-n"} {
			r := s.Run("images", flag)
			if r.ExitCode != 0 || strings.Contains(r.Stdout, "REPOSITORY") || len(r.Lines()) != 2 {
				t.Errorf("images %s:\n%s", flag, r)
			}
		}
		if got := s.Run("images", "--format", "{{.Size}} {{.VirtualSize}}", "aaa").MustSucceed(t).Out(); !strings.Contains(got, " ") || strings.Contains(got, "no value") {
			t.Errorf("images {{.VirtualSize}}: %q", got)
		}
		// A name and a filter: both apply.
		s.Run("images", bb, "--filter", "dangling=false", "-q").Assert(t, Expect{Stdout: shortImageID(t, s, bb)})
		if got := s.Run("images", bb, "--filter", "dangling=true", "-q").MustSucceed(t).Out(); got != "" {
			t.Errorf("images NAME --filter dangling=true: %q, want nothing", got)
		}
		if got := s.Run("images", "aaa", "--filter", "before="+bb, "-q").MustSucceed(t).Out(); got != "" {
			t.Errorf("images NAME --filter before=itself: %q, want nothing", got)
		}
	})
}

func shortImageID(t *testing.T, s *Skiff, ref string) string {
	t.Helper()
	return s.Run("images", "-q", ref).MustSucceed(t).Out()
}

// run and create: podman's --replace, --tz, --timeout, --rmi; docker's -a.
func TestCLIRunFlags(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		old := s.Run("run", "-d", "--name", "rep", bb, "sleep", "1000").MustSucceed(t).Out()
		s.Run("run", "-d", "--replace", bb, "true").MustFail(t, 125, "add --name")
		s.Run("run", "-d", "--replace", "--name", "rep", "--memory", "lots", bb, "true").MustFail(t, 125, "")
		waitStatus(t, s, "rep", "Up", time.Second) // a bad create replaces nothing
		s.Run("create", "--name", "rep", bb, "true").MustFail(t, 125, "already in use")
		repl := s.Run("run", "-d", "--replace", "--name", "rep", bb, "sleep", "1000").MustSucceed(t).Out()
		if repl == old {
			t.Fatal("--replace kept the old container")
		}
		if got := s.Run("ps", "-a", "-q", "--no-trunc", "--filter", "name=rep").MustSucceed(t).Lines(); len(got) != 1 || got[0] != repl {
			t.Errorf("after --replace, containers named rep: %v, want only %s", got, repl)
		}
		s.Run("create", "--replace", "--name", "fresh", bb, "true").MustSucceed(t) // nothing to replace

		s.Run("run", "--rm", "--tz", "Asia/Tokyo", bb, "date", "+%Z %z").Assert(t, Expect{Stdout: "JST +0900\n"})
		host := strings.TrimSpace(s.RunCommand("/bin/date", "+%Z").Stdout)
		s.Run("run", "--rm", "--tz", "local", bb, "date", "+%Z").Assert(t, Expect{Stdout: host + "\n"})
		s.Run("run", "--rm", "--tz", "Nowhere/City", bb, "true").MustFail(t, 125, "unknown time zone")
		s.Run("run", "--rm", "--tz", "../../etc/passwd", bb, "true").MustFail(t, 125, "invalid time zone")

		r := s.Run("run", "--rm", "--timeout", "1", bb, "sleep", "30").MustFail(t, 137, "")
		if r.Duration > 15*time.Second {
			t.Errorf("--timeout 1 ran %v", r.Duration)
		}
		s.Run("run", "-d", "--name", "limited", "--timeout", "1", bb, "sleep", "30").MustSucceed(t)
		waitStatus(t, s, "limited", "Exited (137)", 15*time.Second)
		s.Run("run", "--rm", "--timeout", "-1", bb, "true").MustFail(t, 125, "invalid --timeout")

		s.Run("tag", bb, "rmi-me:1").MustSucceed(t)
		s.Run("run", "--rmi", "rmi-me:1", "true").MustFail(t, 125, "add --rm")
		s.Run("run", "--rm", "--rmi", "rmi-me:1", "true").MustSucceed(t)
		s.Run("image", "exists", "rmi-me:1").MustFail(t, 1, "")
		s.Run("image", "exists", bb).MustSucceed(t)
		s.Run("tag", bb, "rmi-bg:1").MustSucceed(t)
		s.Run("run", "-d", "--rm", "--rmi", "rmi-bg:1", "true").MustSucceed(t)
		eventually(t, 10*time.Second, "run -d --rm --rmi left the image", func() bool {
			return s.Run("image", "exists", "rmi-bg:1").ExitCode == 1
		})

		sh := []string{"sh", "-c", "echo out; echo err >&2"}
		out := s.Run(append([]string{"run", "--rm", "-a", "stdout", bb}, sh...)...).Assert(t, Expect{Stdout: "out\n"})
		if strings.Contains(out.Stderr, "err") {
			t.Errorf("-a stdout attached stderr too: %q", out.Stderr)
		}
		errOnly := s.Run(append([]string{"run", "--rm", "--attach", "STDERR", bb}, sh...)...).Assert(t, Expect{Stderr: "err\n"})
		if errOnly.Stdout != "" {
			t.Errorf("-a stderr attached stdout: %q", errOnly.Stdout)
		}
		s.RunStdin(strings.NewReader("typed\n"), "run", "--rm", "-a", "stdin", "-a", "stdout", bb, "cat").Assert(t, Expect{Stdout: "typed\n"})
		s.Run("run", "--rm", "-a", "stdio", bb, "true").MustFail(t, 125, "invalid --attach")
		s.Run("run", "-d", "-a", "stdout", bb, "true").MustFail(t, 125, "--attach and --detach")
	})
}

// wait --condition, logs of several containers, save -m, and the verbs
// printing the containers as they were named.
func TestCLIWaitLogsSave(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("wait", "--condition", "bogus", "x").MustFail(t, 125, "invalid --condition")

		s.Run("create", "--name", "ww", bb, "sh", "-c", "sleep 0.3; exit 3").MustSucceed(t)
		next := startBackground(t, s.Cmd("wait", "--condition", "next-exit", "ww"))
		time.Sleep(300 * time.Millisecond)
		s.Run("start", "ww").MustSucceed(t)
		if code := next.wait(t, 20*time.Second); code != 0 || strings.TrimSpace(next.out.String()) != "3" {
			t.Errorf("wait --condition next-exit:\n%s", next)
		}
		s.Run("wait", "--condition", "not-running", "ww").Assert(t, Expect{Stdout: "3\n"})
		s.Run("run", "-d", "--rm", "--name", "rr", bb, "sh", "-c", "sleep 0.5; exit 4").MustSucceed(t)
		s.Run("wait", "--condition", "removed", "rr").Assert(t, Expect{Stdout: "4\n"})
		s.Run("container", "exists", "rr").MustFail(t, 1, "")

		s.Run("run", "--name", "l1", bb, "echo", "one").MustSucceed(t)
		s.Run("run", "--name", "l2", bb, "sh", "-c", "echo two; echo three").MustSucceed(t)
		p1 := inspectID(t, s, "l1")[:12]
		p2 := inspectID(t, s, "l2")[:12]
		want := p1 + " one\n" + p2 + " two\n" + p2 + " three\n"
		s.Run("logs", "l1", "l2").Assert(t, Expect{Stdout: want})
		if got := s.Run("logs", "-f", "l2", "l1").MustSucceed(t).Stdout; len(got) != len(want) || !strings.Contains(got, p1+" one\n") || !strings.Contains(got, p2+" two\n"+p2+" three\n") {
			t.Errorf("logs -f of two containers: %q", got)
		}
		s.Run("logs", "l1", "nope").MustFail(t, 125, "No such container")
		s.Run("logs", "l1").Assert(t, Expect{Stdout: "one\n", NotStdout: p1})

		s.Run("tag", bb, "second:1").MustSucceed(t)
		for _, m := range []string{"-m", "--multi-image-archive"} {
			out := filepath.Join(s.Dir, "multi"+m+".tar")
			s.Run("save", m, "-o", out, bb, "second:1").MustSucceed(t)
			if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
				t.Fatalf("save %s wrote nothing: %v", m, err)
			}
		}

		// start, stop and kill print each container as it was named.
		id := inspectID(t, s, "l1")
		s.Run("start", id[:7]).Assert(t, Expect{Stdout: id[:7] + "\n"})
		s.Run("run", "-d", "--name", "kk", bb, "sleep", "1000").MustSucceed(t)
		kid := inspectID(t, s, "kk")
		s.Run("kill", kid[:5]).Assert(t, Expect{Stdout: kid[:5] + "\n"})
		s.Run("start", "kk").Assert(t, Expect{Stdout: "kk\n"})
		s.Run("stop", "-t", "0", kid).Assert(t, Expect{Stdout: kid + "\n"})
	})
}

func inspectID(t *testing.T, s *Skiff, ref string) string {
	t.Helper()
	return s.Run("inspect", "--format", "{{.Id}}", ref).MustSucceed(t).Out()
}

// skiff completion SHELL, and what its scripts offer: commands, flags,
// container and image names of the store in use.
func TestCLICompletion(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		bb := setup(t, s)
		s.Run("create", "--name", "webby", bb, "true").MustSucceed(t)
		s.Run("completion", "bash").Assert(t, Expect{Stdout: "complete -o default -F _skiff skiff"})
		s.Run("completion", "zsh").Assert(t, Expect{Stdout: "compdef _skiff skiff"})
		s.Run("completion", "fish").Assert(t, Expect{Stdout: "complete -c skiff"})
		s.Run("completion", "tcsh").MustFail(t, 125, "use bash, zsh or fish")

		for _, tc := range []struct {
			words []string
			want  string
		}{
			{[]string{"ima"}, "image\nimages\n"},
			{[]string{"image", "l"}, "list\nload\nls\n"},
			{[]string{"logs", "--fo"}, "--follow\n"},
			{[]string{"rm", "we"}, "webby\n"},
			{[]string{"rm", "webby", "we"}, "webby\n"},
			{[]string{"container", "start", "-a", "w"}, "webby\n"},
			{[]string{"rmi", "bu"}, "busybox:latest\n"},
			{[]string{"run", "--rm", "bu"}, "busybox:latest\n"},
			{[]string{"run", bb, "we"}, ""},
			{[]string{"stop", "-t", ""}, ""},
			{[]string{"__comp"}, ""},
		} {
			if got := s.Run(append([]string{"__complete"}, tc.words...)...).MustSucceed(t).Stdout; got != tc.want {
				t.Errorf("__complete %q: %q, want %q", tc.words, got, tc.want)
			}
		}

		// The bash script itself, as bash runs it.
		words := []string{skiffBin(t)}
		if !s.Rootless() {
			words = append(words, "--root", s.Root, "--runroot", s.RunRoot)
		}
		words = append(words, "rm", "we")
		script := `source <("$1" completion bash) && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _skiff && printf '%s\n' "${COMPREPLY[@]}"`
		r := s.RunCommand("/bin/bash", append([]string{"-c", script, "bash"}, words...)...).MustSucceed(t)
		if r.Stdout != "webby\n" {
			t.Errorf("bash completion of 'skiff rm we': %q", r.Stdout)
		}
	})
}

// Man pages generated from the command definitions, readable by man(1);
// generating them as a user starts no rootless namespace.
func TestCLIManPages(t *testing.T) {
	t.Parallel()
	ForEachMode(t, func(t *testing.T, s *Skiff) {
		dir := filepath.Join(s.Home, "man")
		s.Run("__man", dir).MustSucceed(t)
		for _, page := range []string{"skiff.1", "skiff-stop.1", "skiff-image-ls.1", "skiff-completion.1"} {
			if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
				t.Errorf("skiff __man wrote no %s: %v", page, err)
			}
		}
		s.Setenv("MANWIDTH", "200")
		r := s.RunCommand("/usr/bin/man", "-l", filepath.Join(dir, "skiff-stop.1")).MustSucceed(t)
		for _, want := range []string{"skiff-stop - stop one or more running containers", "--time, -t, --timeout VALUE", "--all, -a"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("man skiff-stop lacks %q:\n%s", want, r.Stdout)
			}
		}
		if s.Rootless() {
			if _, err := os.Stat(filepath.Join(s.RuntimeDir, "skiff")); err == nil {
				t.Errorf("skiff __man as a user created its run root (a pause process)")
			}
		}
	})
}
