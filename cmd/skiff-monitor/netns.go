//go:build !skiff_nonet

package main

import (
	"fmt"
	"os"

	"github.com/skiff-engine/skiff/netns"
)

// runSharedNetns holds the user's shared network namespace (rootless user
// networks) until no container uses it. Its starter reads "ok", or why
// not, from fd 3.
func runSharedNetns(dir string) int {
	if err := netns.ServeShared(dir, os.NewFile(3, "ready")); err != nil {
		fmt.Fprintf(os.Stderr, "skiff-monitor netns: %v\n", err)
		return 125
	}
	return 0
}
