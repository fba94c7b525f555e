package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
)

// ParseTimestamp reads a point in time as Docker's --since/--until and
// until= filters take it: a duration before now (10m, 1h30m), a unix time
// with optional fraction (1700000000.5), or RFC 3339 with or without zone,
// seconds or time (2006-01-02T15:04:05Z, 2006-01-02T15:04, 2006-01-02);
// without a zone the local one. The error is InvalidArgument.
func ParseTimestamp(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && s != "0" { // "0" is the epoch, as Docker reads it
		return now.Add(-d), nil
	}
	if sec, frac, _ := strings.Cut(s, "."); sec != "" && isDigits(strings.TrimPrefix(sec, "-")) && (frac == "" || isDigits(frac)) {
		n, err := strconv.ParseInt(sec, 10, 64)
		if err == nil {
			nsec, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
			return time.Unix(n, nsec), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02Z07:00", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q: use a timestamp (2006-01-02T15:04:05Z), a unix time, or a duration like 10m: %w", s, errdefs.ErrInvalidArgument)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
