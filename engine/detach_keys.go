package engine

import "strings"

// DefaultDetachKeys is Docker's detach sequence, ctrl-p ctrl-q.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ParseDetachKeys reads Docker's detach-key notation, the CLI's
// --detach-keys and the API's detachKeys alike: a comma-separated list of
// single characters and ctrl-<key> ("ctrl-p,ctrl-q", "a,ctrl-b"). "" is
// no sequence; ok is false for a key Docker does not know.
func ParseDetachKeys(s string) (keys []byte, ok bool) {
	if s == "" {
		return nil, true
	}
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			keys = append(keys, k[0])
		case len(k) == 6 && k[:5] == "ctrl-":
			b, ok := ctrlKey(k[5])
			if !ok {
				return nil, false
			}
			keys = append(keys, b)
		default:
			return nil, false
		}
	}
	return keys, true
}

// ctrlKey is the byte ctrl-c types.
func ctrlKey(c byte) (byte, bool) {
	switch {
	case c >= 'a' && c <= 'z':
		return c - 'a' + 1, true
	case c == '@':
		return 0, true
	case c >= '[' && c <= '_': // [ \ ] ^ _
		return 27 + c - '[', true
	}
	return 0, false
}
