package engine

// Docker's rules for the names of containers, volumes and networks, and
// the form of container and exec IDs, as plain loops: a package-level
// regexp is compiled at every start of every command, and a run checks an
// ID it chose itself.

// validName is Docker's [a-zA-Z0-9][a-zA-Z0-9_.-]* with at least min
// characters (containers and volumes 2, networks 1).
func validName(s string, min int) bool {
	if len(s) < max(min, 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// validID is the form of a container or exec ID: 64 lowercase hex digits
// (an exec's names a file).
func validID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
