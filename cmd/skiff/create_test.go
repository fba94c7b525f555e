package main

import (
	"io"
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/skiff-engine/skiff/engine"
)

// parseCreate runs `skiff create ARGS...` through the real flag definitions
// and returns what createOptions made of them.
func parseCreate(t *testing.T, args ...string) (engine.ContainerCreateOptions, error) {
	t.Helper()
	var o engine.ContainerCreateOptions
	var perr error
	newApp() // -h is --hostname: the app's help flag is --help alone
	app := &cli.App{
		Name: "skiff", Writer: io.Discard, ErrWriter: io.Discard, DisableSliceFlagSeparator: true,
		Commands: []*cli.Command{{
			Name: "create", Flags: createFlags(), UseShortOptionHandling: true,
			Action: func(c *cli.Context) error { o, perr = createOptions(c); return nil },
		}},
	}
	skipFlagActions(app.Commands[0]) // as newApp's commands: isSet reads the given flags
	if err := app.Run(append([]string{"skiff", "create"}, args...)); err != nil {
		t.Fatalf("create %q: %v", args, err)
	}
	return o, perr
}

// isSet answers as urfave's IsSet for every flag of create, set by a long
// name, an alias, a short option in a group, or not set.
func TestIsSetAsIsSet(t *testing.T) {
	names := 0
	for _, f := range createFlags() {
		names += len(f.Names())
	}
	for _, args := range [][]string{
		nil,
		{"-e", "A=1", "--entrypoint", "", "--stop-timeout", "3"},
		{"-it", "--health-cmd", "true", "--health-retries", "2", "--memory-swappiness", "10"},
		{"--oom-score-adj", "5", "--rm", "-v", "/a:/b", "--name", "web", "busybox", "true"},
	} {
		checked := 0
		app := &cli.App{
			Name: "skiff", Writer: io.Discard, ErrWriter: io.Discard, DisableSliceFlagSeparator: true,
			Commands: []*cli.Command{{
				Name: "create", Flags: createFlags(), UseShortOptionHandling: true,
				Action: func(c *cli.Context) error {
					if c != given.ctx {
						t.Fatalf("%q: the given flags were not recorded for this context", args)
					}
					for _, f := range c.Command.Flags {
						for _, n := range f.Names() {
							if got, want := isSet(c, n), c.IsSet(n); got != want {
								t.Errorf("%q: isSet(%q) = %v, IsSet %v", args, n, got, want)
							}
							checked++
						}
					}
					return nil
				},
			}},
		}
		skipFlagActions(app.Commands[0])
		if err := app.Run(append([]string{"skiff", "create"}, args...)); err != nil {
			t.Fatalf("create %q: %v", args, err)
		}
		if checked < names { // urfave adds its help flag
			t.Fatalf("%q: %d flag names checked of create's %d", args, checked, names)
		}
	}
}

// errString is err's message, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sameOptions compares options as a user would read them: an empty list
// or map is no list, a pointer is its value.
func sameOptions(a, b engine.ContainerCreateOptions) bool {
	return reflect.DeepEqual(emptyToNil(reflect.ValueOf(&a).Elem()), emptyToNil(reflect.ValueOf(&b).Elem()))
}

func emptyToNil(v reflect.Value) any {
	out := map[string]any{}
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0:
			continue
		case f.Kind() == reflect.Pointer && !f.IsNil():
			out[v.Type().Field(i).Name] = f.Elem().Interface()
		case f.Kind() == reflect.Struct:
			out[v.Type().Field(i).Name] = emptyToNil(f)
		default:
			out[v.Type().Field(i).Name] = f.Interface()
		}
	}
	return out
}
