package engine

import (
	"fmt"
	"strconv"

	units "github.com/docker/go-units"
)

// SetLogOption sets one log driver option, KEY=VALUE as --log-opt and
// Docker's HostConfig.LogConfig.Config give it: max-size (a size with an
// optional unit) or max-file (a count, at least 1). The error names the
// option; the caller says where it came from.
func SetLogOption(l *ContainerLogConfig, key, value string) error {
	switch key {
	case "max-size":
		n, err := units.RAMInBytes(value)
		if err != nil || n < 0 {
			return fmt.Errorf("max-size=%s: use a size like 10m", value)
		}
		l.MaxSize = n
	case "max-file":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Errorf("max-file=%s: use a number >= 1", value)
		}
		l.MaxFile = n
	default:
		return fmt.Errorf("%q is not a log option: use max-size= or max-file=", key)
	}
	return nil
}
