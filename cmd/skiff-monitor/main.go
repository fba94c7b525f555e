// Command skiff-monitor is the per-container monitor (conmon's role): it
// will start the container with libcontainer, hold its stdio, logs and exit
// status. It imports only libcontainer, x/sys and its own small packages so it
// starts in a millisecond or two. The container lifecycle issue fills it in.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "skiff-monitor: not yet implemented; containers arrive with the container lifecycle work")
	os.Exit(125)
}
