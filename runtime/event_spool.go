package runtime

import (
	"encoding/json"
	"time"

	"github.com/skiff-engine/skiff/runtime/monitorio"
)

// The event spool is how processes that do not open the state database
// (skiff-monitor: restarts, health status changes) record events. Each
// event is one small JSON file in the spool directory (<run root>/events),
// written atomically; its name sorts by time:
//
//	<unix nanoseconds, 20 digits>-<pid>-<counter>.json
//
// The engine folds spooled events into the events table (adding the
// container's name, image and labels as attributes) whenever it reads
// events, and a follower folds them as they appear, so they reach it
// within its poll interval. A file's content is a SpoolEvent.

// SpoolEvent is one event written to the spool.
type SpoolEvent struct {
	Time       time.Time         `json:"time"`
	Type       string            `json:"type"`   // "container"
	Action     string            `json:"action"` // Docker's name: "die", "start", "health_status: healthy"...
	ID         string            `json:"id"`     // the actor: a container ID
	Attributes map[string]string `json:"attributes,omitempty"`
}

// WriteSpoolEvent records ev in the spool directory dir (created if
// missing). A zero Time is now. An empty dir records nothing.
func WriteSpoolEvent(dir string, ev SpoolEvent) error {
	if dir == "" {
		return nil
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return monitorio.WriteSpoolFile(dir, ev.Time, b)
}
