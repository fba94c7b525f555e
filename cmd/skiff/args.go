package main

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
)

// urfave/cli v2 stops parsing flags at the first positional argument, as Go's
// flag package does; docker and podman (pflag) accept flags anywhere:
// `skiff logs web -f`, `skiff save busybox -o x.tar`. reorderArgs walks the
// command line down the command tree and, for the command it reaches, moves
// every flag (with its value, when the flag takes one) in front of the
// positional arguments, keeping both in order. `--` still ends the flags.
//
// Commands whose trailing arguments are the container's own command line
// (run, create, exec) are left alone: there a flag after the image or
// container belongs to that command, as with docker. Commands that parse
// their own arguments (SkipFlagParsing: top, unshare) are left alone too.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags, cmds := app.Flags, app.Commands
	group := "" // the command group walked into ("container", "volume")
	for {
		n := leadingFlags(flags, rest)
		out, rest = append(out, rest[:n]...), rest[n:]
		if len(rest) == 0 {
			return out
		}
		cmd := findCommand(cmds, rest[0])
		if cmd == nil { // "--", an unknown command, or the help command
			return append(out, rest...)
		}
		out, rest = append(out, rest[0]), rest[1:]
		if len(cmd.Subcommands) > 0 {
			flags, cmds, group = cmd.Flags, cmd.Subcommands, cmd.Name
			continue
		}
		if cmd.SkipFlagParsing || argsAreCommand[cmd.Name] && (group == "" || group == "container") {
			return append(out, rest...)
		}
		return append(out, flagsFirst(cmd.Flags, rest)...)
	}
}

// argsAreCommand names the commands whose arguments after the first are a
// command line for the container, at the top level and in the container
// group (volume create and network create are not).
var argsAreCommand = map[string]bool{"run": true, "create": true, "exec": true}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// leadingFlags counts the arguments at the start of args that are flags or
// their values.
func leadingFlags(flags []cli.Flag, args []string) int {
	i := 0
	for i < len(args) && isFlagArg(args[i]) {
		i += flagSpan(flags, args, i)
	}
	return min(i, len(args))
}

// flagsFirst returns args with the flags (and their values) first and the
// positional arguments after them, each in their original order.
func flagsFirst(flags []cli.Flag, args []string) []string {
	var fl, pos []string
	dashdash := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			dashdash = true
			pos = append(pos, args[i+1:]...)
			break
		}
		if !isFlagArg(a) {
			pos = append(pos, a)
			continue
		}
		n := flagSpan(flags, args, i)
		if i+n > len(args) {
			// A value flag last, without its value: alone, so the parser
			// says "flag needs an argument" rather than taking an argument.
			return append(fl, a)
		}
		fl = append(fl, args[i:i+n]...)
		i += n - 1
	}
	if !dashdash {
		for _, p := range pos {
			if isFlagArg(p) { // only possible after "--": keep it an argument
				dashdash = true
				break
			}
		}
	}
	if dashdash && len(pos) > 0 {
		fl = append(fl, "--")
	}
	return append(fl, pos...)
}

// isFlagArg: "-" alone is an argument (stdin), as for Go's flag package.
func isFlagArg(a string) bool { return len(a) > 1 && a[0] == '-' && a != "--" }

// flagSpan is 2 when args[i] is a flag that takes its value from the next
// argument, else 1. Unknown flags count as 1: the parser reports them.
func flagSpan(flags []cli.Flag, args []string, i int) int {
	a := args[i]
	name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
	if strings.Contains(name, "=") {
		return 1
	}
	if f := lookupFlag(flags, name); f != nil {
		return 1 + btoi(takesValue(f))
	}
	// -it, -dp 80:80: combined short flags (UseShortOptionHandling); the
	// last one may take the next argument as its value.
	if strings.HasPrefix(a, "--") || len(name) < 2 {
		return 1
	}
	for _, r := range name {
		if lookupFlag(flags, string(r)) == nil {
			return 1
		}
	}
	return 1 + btoi(takesValue(lookupFlag(flags, name[len(name)-1:])))
}

func lookupFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// goFlagError matches the messages of Go's flag package, which print every
// flag with one dash ("flag provided but not defined: -memory-swap").
var goFlagError = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(flag provided but not defined|flag needs an argument): -(\S+)$|^invalid value (".*") for flag -(\S+): parse error$`)
})

// flagError rewrites a flag-parsing error in docker's terms: long flags with
// two dashes, and what a bad value should have been.
func flagError(flags []cli.Flag, err error) error {
	m := goFlagError().FindStringSubmatch(err.Error())
	switch {
	case m == nil:
		return err
	case m[1] == "flag provided but not defined":
		return fmt.Errorf("unknown flag: %s", dashed(m[2]))
	case m[1] != "":
		return fmt.Errorf("flag needs an argument: %s", dashed(m[2]))
	}
	want := "a valid value"
	switch lookupFlag(flags, m[4]).(type) {
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
		want = "a whole number"
	case *cli.Float64Flag:
		want = "a number"
	case *cli.BoolFlag:
		want = "true or false"
	case *cli.DurationFlag:
		want = "a duration such as 10s"
	}
	return fmt.Errorf("invalid value %s for %s: use %s", m[3], dashed(m[4]), want)
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
