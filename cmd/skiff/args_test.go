package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/skiff-engine/skiff/engine"
)

func TestReorderArgs(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ name, in, want string }{
		{"bool flag after the container", "logs web -f", "logs -f web"},
		{"several bool flags", "rm web -f -v", "rm -f -v web"},
		{"flag with a value", "save busybox -o x.tar", "save -o x.tar busybox"},
		{"flag with an inline value", "save busybox --output=x.tar", "save --output=x.tar busybox"},
		{"value that looks like a flag", "stop web -t -1", "stop -t -1 web"},
		{"flags before and after", "stop -t 3 a b --time 4", "stop -t 3 --time 4 a b"},
		{"no flags", "tag a b", "tag a b"},
		{"format value with spaces", "images busybox --format {{.ID}}\t{{.Tag}}", "images --format {{.ID}}\t{{.Tag}} busybox"},
		{"combined short flags", "rm web -fv", "rm -fv web"},
		{"combined short flags ending in a value", "logs web -tn 2", "logs -tn 2 web"},
		{"global flags stay first", "--root /r --log-level debug logs web -f", "--root /r --log-level debug logs -f web"},
		{"subcommand of a group", "image ls busybox -q", "image ls -q busybox"},
		{"container group", "container rm web --force", "container rm --force web"},
		{"double dash ends the flags", "rm web -- -f", "rm -- web -f"},
		{"double dash alone", "rm -f -- web", "rm -f -- web"},
		{"stdin dash is an argument", "import - img -m msg", "import -m msg - img"},
		{"unknown flag kept for the parser", "logs web --bogus", "logs --bogus web"},
		{"help after the argument", "logs web --help", "logs --help web"},
		{"run keeps the container's command", "run --rm busybox ls -l", "run --rm busybox ls -l"},
		{"create keeps the container's command", "create busybox sh -c true", "create busybox sh -c true"},
		{"exec keeps the container's command", "exec web ls -a", "exec web ls -a"},
		{"container run too", "container run busybox echo -n", "container run busybox echo -n"},
		{"container create too", "container create busybox ls -l", "container create busybox ls -l"},
		{"volume create takes flags after the name", "volume create data --label a=b -o type=tmpfs", "volume create --label a=b -o type=tmpfs data"},
		{"network create too", "network create web --internal", "network create --internal web"},
		{"volume rm", "volume rm data -f", "volume rm -f data"},
		{"top passes ps options", "top web -o pid", "top web -o pid"},
		{"unknown command untouched", "bogus a -f", "bogus a -f"},
		{"flag missing its value at the end", "stop web -t", "stop -t"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]string{"skiff"}, strings.Split(tc.in, " ")...)
			want := "skiff " + tc.want
			if tc.name == "format value with spaces" {
				in = []string{"skiff", "images", "busybox", "--format", "{{.ID}}\t{{.Tag}}"}
			}
			got := strings.Join(reorderArgs(app, in), " ")
			if got != want {
				t.Fatalf("reorderArgs(%q)\n got: %q\nwant: %q", tc.in, got, want)
			}
		})
	}
}

func TestFlagError(t *testing.T) {
	cmd := findCommand(newApp().Commands, "stop")
	for _, tc := range []struct{ in, want string }{
		{"flag provided but not defined: -memory-swap", "unknown flag: --memory-swap"},
		{"flag provided but not defined: -x", "unknown flag: -x"},
		{"flag needs an argument: -time", "flag needs an argument: --time"},
		{`invalid value "abc" for flag -t: parse error`, `invalid value "abc" for -t: use a whole number`},
		{"something else", "something else"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := flagError(cmd.Flags, errors.New(tc.in)).Error(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompleteWithoutStore(t *testing.T) {
	app := newApp()
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"sa"}, "save"},
		{[]string{"--root", "/x", "sa"}, "save"},
		{[]string{"container", "ren"}, "rename"},
		{[]string{"save", "--o"}, "--output"},
		{[]string{"save", "busybox", "-o", ""}, ""},
		{[]string{"stop", "--t"}, "--time --timeout"},
		{[]string{"version", ""}, ""},
		{[]string{"__complete"}, ""},
	} {
		if got := strings.Join(complete(app, engine.Options{}, tc.words), " "); got != tc.want {
			t.Errorf("complete(%q) = %q, want %q", tc.words, got, tc.want)
		}
	}
	for _, tc := range []struct {
		cmd  string
		n    int
		want string
	}{
		{"rm", 0, "container"}, {"rm", 5, "container"}, {"run", 0, "image"}, {"run", 1, ""}, {"run", 4, ""},
		{"exec", 0, "container"}, {"exec", 1, ""}, {"tag", 0, "image"}, {"tag", 1, ""}, {"images", 0, "image"},
		{"rename", 1, ""}, {"top", 1, ""}, {"pull", 0, ""},
	} {
		if got := argKind(findCommand(app.Commands, tc.cmd), tc.n); got != tc.want {
			t.Errorf("argKind(%s, %d) = %q, want %q", tc.cmd, tc.n, got, tc.want)
		}
	}
}
