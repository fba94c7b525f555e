package engine

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// The filter compiler behind every list command's --filter (ps, images,
// their prune commands, and volumes and networks when they come). Docker's
// rules, from moby's daemon/list.go and daemon/containerd/image_list.go:
//
//   - a filter is key=value; the key is lower-cased and both sides trimmed,
//     as the docker CLI does;
//   - values of one key are ORed (name=a -f name=b: either name), different
//     keys are ANDed;
//   - except where Docker ANDs the values of one key: label and label!
//     (every label must match) and before/since/until (every bound holds);
//   - a key the command does not take is an InvalidArgument error that names
//     it and lists the keys it takes; so is a value of the wrong form.
//
// A command describes its keys as a filterSpec over the type it lists; the
// compiled filter is a predicate on that type. Callers outside the engine
// (the CLI, the API shim) only ever pass []string of "key=value": the API
// shim flattens Docker's {"key":["v1","v2"]} JSON into that form.

// Filters is a parsed filter list: each key's values, in the order given,
// repeats dropped.
type Filters map[string][]string

// ParseFilters splits "key=value" strings. It checks the form only; which
// keys are valid is the command's business (filterSpec.compile).
func ParseFilters(args []string) (Filters, error) {
	f := Filters{}
	for _, a := range args {
		if a == "" {
			continue // docker ignores an empty --filter
		}
		k, v, ok := strings.Cut(a, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, fmt.Errorf("bad filter %q: use key=value: %w", a, errdefs.ErrInvalidArgument)
		}
		v = strings.TrimSpace(v)
		if !slices.Contains(f[k], v) {
			f[k] = append(f[k], v)
		}
	}
	return f, nil
}

// Has reports whether key was given at all.
func (f Filters) Has(key string) bool { _, ok := f[key]; return ok }

// filterKey is one key a command takes.
type filterKey[T any] struct {
	// check validates all the key's values at once (nil: any value).
	check func(key string, values []string) error
	// match compiles one value into a predicate.
	match func(value string) (func(T) bool, error)
	// all ANDs the values instead of ORing them (label, before, since, until).
	all bool
}

// filterSpec is the set of keys one command takes; what names the command
// in errors ("ps", "images").
type filterSpec[T any] struct {
	what string
	keys map[string]filterKey[T]
}

// compile checks f against the spec and returns the predicate that is true
// of an item every key matches.
func (s filterSpec[T]) compile(f Filters) (func(T) bool, error) {
	var preds []func(T) bool
	for _, k := range sortedKeys(f) {
		key, ok := s.keys[k]
		if !ok {
			return nil, fmt.Errorf("unknown filter %q for %s: use one of %s: %w", k, s.what, strings.Join(sortedKeys(s.keys), ", "), errdefs.ErrInvalidArgument)
		}
		if key.check != nil {
			if err := key.check(k, f[k]); err != nil {
				return nil, err
			}
		}
		var vals []func(T) bool
		for _, v := range f[k] {
			p, err := key.match(v)
			if err != nil {
				return nil, err
			}
			vals = append(vals, p)
		}
		if key.all {
			preds = append(preds, vals...)
		} else {
			preds = append(preds, anyOf(vals))
		}
	}
	return func(x T) bool {
		for _, p := range preds {
			if !p(x) {
				return false
			}
		}
		return true
	}, nil
}

func anyOf[T any](preds []func(T) bool) func(T) bool {
	return func(x T) bool {
		for _, p := range preds {
			if p(x) {
				return true
			}
		}
		return false
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func badFilterValue(key, value, want string) error {
	return fmt.Errorf("bad filter %q: %s takes %s: %w", key+"="+value, key, want, errdefs.ErrInvalidArgument)
}

// oneOf accepts only the listed values.
func oneOf(allowed ...string) func(string, []string) error {
	return func(key string, values []string) error {
		for _, v := range values {
			if !slices.Contains(allowed, v) {
				return badFilterValue(key, v, strings.Join(allowed, ", "))
			}
		}
		return nil
	}
}

// boolValues is Docker's boolean filter: true/false/1/0, and not both.
func boolValues(key string, values []string) error {
	t, f := false, false
	for _, v := range values {
		switch v {
		case "true", "1":
			t = true
		case "false", "0":
			f = true
		default:
			return badFilterValue(key, v, "true or false")
		}
	}
	if t && f {
		return fmt.Errorf("bad filter: %s=true and %s=false cannot both hold: %w", key, key, errdefs.ErrInvalidArgument)
	}
	return nil
}

// boolKey matches items whose property equals the filter's boolean.
func boolKey[T any](prop func(T) bool) filterKey[T] {
	return filterKey[T]{check: boolValues, match: func(v string) (func(T) bool, error) {
		want := v == "true" || v == "1"
		return func(x T) bool { return prop(x) == want }, nil
	}}
}

// labelKeys are label and label!, as Docker's image list has them:
//
//	label=k        k is set           label!=k       k is not set
//	label=k=v      k is set to v      label!=k=v     k is unset or not v
//	label=k!=v     k is unset or not v (the ! on the key flips the test)
//
// Every value must hold (AND), and a label filter matches nothing without
// labels unless it is a negation.
func labelKeys[T any](labels func(T) map[string]string) map[string]filterKey[T] {
	key := func(name string, negate bool) filterKey[T] {
		return filterKey[T]{all: true, match: func(v string) (func(T) bool, error) {
			k, want, hasValue := strings.Cut(v, "=")
			neg := negate
			if strings.HasSuffix(k, "!") && hasValue {
				k, neg = strings.TrimSuffix(k, "!"), !neg
			}
			if k == "" {
				return nil, badFilterValue(name, v, "KEY or KEY=VALUE")
			}
			return func(x T) bool {
				got, ok := labels(x)[k]
				return (ok && (!hasValue || got == want)) != neg
			}, nil
		}}
	}
	return map[string]filterKey[T]{"label": key("label", false), "label!": key("label!", true)}
}

// matchName is Docker's Match: the value equals the name, or is a regular
// expression found in it (an invalid expression only matches exactly).
func matchName(value string) func(name string) bool {
	re, err := regexp.Compile(value)
	return func(name string) bool {
		return name == value || err == nil && re.MatchString(name)
	}
}

// portRange checks Docker's publish/expose value: PORT[/PROTO] or
// START-END[/PROTO], protocol tcp (default), udp or sctp.
func portRange(key string, values []string) error {
	for _, v := range values {
		if strings.Contains(v, ":") {
			return badFilterValue(key, v, "a container port without a host address or ':' (80, 80/udp, 8000-8080/tcp)")
		}
		ports, proto, _ := strings.Cut(v, "/")
		if proto != "" && proto != "tcp" && proto != "udp" && proto != "sctp" {
			return badFilterValue(key, v, "a protocol of tcp, udp or sctp")
		}
		lo, hi, isRange := strings.Cut(ports, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || a == 0 || b < a {
			return badFilterValue(key, v, "PORT[/PROTO] or START-END[/PROTO] with ports 1-65535")
		}
	}
	return nil
}
