package engine

import (
	"regexp"
	"strings"
	"testing"
)

// The loops agree with Docker's rules written as the regular expressions
// Docker uses, on the edges of each.
func TestNameRules(t *testing.T) {
	docker := map[int]*regexp.Regexp{
		2: regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`), // containers, volumes
		1: regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`), // networks
	}
	id := regexp.MustCompile(`^[0-9a-f]{64}$`)
	hex := strings.Repeat("0123456789abcdef", 4)
	for _, s := range []string{
		"", "a", "ab", "web", "Web-1", "a.b_c-d", "9", "99", "_a", ".a", "-a", "a/b", "a b", "é", "aé",
		"a:b", "/web", "web\n", "a\x00", strings.Repeat("x", 300),
		hex, strings.ToUpper(hex), hex[:63], hex + "0", hex[:63] + "g",
	} {
		for min, re := range docker {
			if got, want := validName(s, min), re.MatchString(s); got != want {
				t.Errorf("validName(%q, %d) = %v, Docker's rule says %v", s, min, got, want)
			}
		}
		if got, want := validID(s), id.MatchString(s); got != want {
			t.Errorf("validID(%q) = %v, want %v", s, got, want)
		}
	}
}
