// Package monitorio is what both of a container's monitor binaries need:
// skiff-monitor, which starts, restarts and destroys the container with
// libcontainer, and skiff-monitor-idle, the small program it becomes
// (execve) while the container runs (see cmd/skiff-monitor-idle). It holds
// the attach frame protocol, the log writer, the atomic file writes of the
// Health file and the event spool, the rules of a healthcheck's status,
// and the Handoff the two binaries pass each other across execve.
//
// It imports only the standard library, and not encoding/json: the idle
// monitor must stay small (its binary's pages and the runtime's heap are
// what a running container costs), so the few JSON documents it writes
// (Health, a spool event, a HealthReply) are written by hand in the exact
// shape encoding/json gives them, and it parses none.
package monitorio
