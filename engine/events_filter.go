package engine

import (
	"strings"
)

// eventFilterSpec is Docker's events filters (moby daemon/events/filter.go):
//
//	container, volume, network   the actor's ID or name starts with the value
//	image        the actor (an image event) or its image attribute (others)
//	             is the value, with or without its tag
//	event        the action; health_status, exec_create and exec_start
//	             also match their "health_status: healthy"... forms
//	type, scope  equal (scope is always local)
//	label        label=KEY or label=KEY=VALUE on the attributes, all must hold
func eventFilterSpec() filterSpec[Event] {
	byName := filterKey[Event]{match: func(v string) (func(Event) bool, error) {
		return func(ev Event) bool {
			return strings.HasPrefix(ev.Actor.ID, v) || strings.HasPrefix(ev.Actor.Attributes["name"], v)
		}, nil
	}}
	equal := func(prop func(Event) string) filterKey[Event] {
		return filterKey[Event]{match: func(v string) (func(Event) bool, error) {
			return func(ev Event) bool { return prop(ev) == v }, nil
		}}
	}
	keys := map[string]filterKey[Event]{
		"container": byName,
		"volume":    byName,
		"network":   byName,
		"type":      equal(func(ev Event) string { return ev.Type }),
		"scope":     equal(func(ev Event) string { return ev.Scope }),
		"event": {match: func(v string) (func(Event) bool, error) {
			fuzzy := v == "health_status" || v == "exec_create" || v == "exec_start"
			return func(ev Event) bool {
				return ev.Action == v || fuzzy && strings.HasPrefix(ev.Action, v+":")
			}, nil
		}},
		"image": {match: func(v string) (func(Event) bool, error) {
			return func(ev Event) bool {
				name := ev.Actor.Attributes["image"]
				if ev.Type == EventImage {
					name = ev.Actor.Attributes["name"]
				}
				for _, s := range []string{ev.Actor.ID, name} {
					if s != "" && (s == v || stripTag(s) == v) {
						return true
					}
				}
				return false
			}, nil
		}},
		"label": labelKeys(func(ev Event) map[string]string { return ev.Actor.Attributes })["label"],
	}
	return filterSpec[Event]{what: "events", keys: keys}
}

// stripTag drops an image reference's tag (busybox:1.36 → busybox, and
// localhost:5000/a:b → localhost:5000/a); a digest reference is kept.
func stripTag(ref string) string {
	if strings.Contains(ref, "@") {
		return ref
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i]
	}
	return ref
}
