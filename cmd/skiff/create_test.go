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
	if err := app.Run(append([]string{"skiff", "create"}, args...)); err != nil {
		t.Fatalf("create %q: %v", args, err)
	}
	return o, perr
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
