package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skiff-engine/skiff/engine/statedb"
	"github.com/skiff-engine/skiff/imagestore"
	"github.com/skiff-engine/skiff/runtime"
)

// Events: what happened to containers, images, volumes and networks, as
// Docker's event stream tells it (moby daemon/events.go: the same actions
// and attribute keys, which compose and other clients act on).
//
// Every skiff process records its own events in the state database's
// events table as it acts (one small transaction each; an event that cannot
// be written is dropped, never failing the operation). What only a monitor
// sees (restarts, health) it writes to the spool, <run root>/events, one
// file per event (runtime.WriteSpoolEvent); whoever reads events, and the
// clean-up after a container exits, folds the spool into the table. The
// table keeps the newest events.max (skiff.toml [events]) events.
//
// A follower polls the table (and the spool) every followInterval: an
// event any process records reaches it within that time.

// defaultEventsMax bounds the table when skiff.toml says nothing: a few
// hundred bytes an event, some 30 MB at most; 25 000 `run --rm`s.
const defaultEventsMax = 100000

// followInterval is how often a follower looks for new events.
const followInterval = 40 * time.Millisecond

// Event is Docker's event message (api/types/events.Message): its JSON is
// what `docker events --format '{{json .}}'` prints, status, id and from
// being the deprecated fields Docker still fills for containers and images.
type Event struct {
	Status   string     `json:"status,omitempty"`
	ID       string     `json:"id,omitempty"`
	From     string     `json:"from,omitempty"`
	Type     string     `json:"Type"`
	Action   string     `json:"Action"`
	Actor    EventActor `json:"Actor"`
	Scope    string     `json:"scope"`
	Time     int64      `json:"time"`
	TimeNano int64      `json:"timeNano"`
}

// EventActor is what an event happened to.
type EventActor struct {
	ID         string
	Attributes map[string]string
}

// Event types.
const (
	EventContainer = "container"
	EventImage     = "image"
	EventVolume    = "volume"
	EventNetwork   = "network"
)

// eventFromRow builds Docker's message from a row.
func eventFromRow(r statedb.Event) Event {
	attrs := r.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	ev := Event{Type: r.Type, Action: r.Action, Actor: EventActor{ID: r.ActorID, Attributes: attrs},
		Scope: "local", Time: r.Time.Unix(), TimeNano: r.Time.UnixNano()}
	switch r.Type {
	case EventContainer:
		ev.ID, ev.Status, ev.From = r.ActorID, r.Action, attrs["image"]
	case EventImage:
		ev.ID, ev.Status = r.ActorID, r.Action
	}
	return ev
}

func (e *Engine) eventsMax() int {
	if e.cfg.Events.Max != 0 {
		return e.cfg.Events.Max
	}
	return defaultEventsMax
}

// event records one event now. It never fails the operation that calls it:
// an event that cannot be written is dropped.
func (e *Engine) event(ctx context.Context, typ, action, actorID string, attrs map[string]string) {
	e.record(ctx, statedb.Event{Time: time.Now(), Type: typ, Action: action, ActorID: actorID, Attributes: attrs})
}

// record writes evs, in their order, in one transaction; as event, it
// never fails the operation: events that cannot be written are dropped.
func (e *Engine) record(ctx context.Context, evs ...statedb.Event) {
	if len(evs) == 0 || e.openDB() != nil {
		return
	}
	e.db.AddEvents(context.WithoutCancel(ctx), e.eventsMax(), evs...)
}

// containerAttrs are the attributes Docker gives every container event:
// its labels, image (as created from) and name, then extra.
func containerAttrs(c *Container, extra map[string]string) map[string]string {
	attrs := make(map[string]string, len(c.Config.Labels)+len(extra)+2)
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	if c.Config.Image != "" {
		attrs["image"] = c.Config.Image
	}
	attrs["name"] = c.Name
	for k, v := range extra {
		attrs[k] = v
	}
	return attrs
}

// containerEvent records a container event with Docker's attributes.
func (e *Engine) containerEvent(ctx context.Context, c *Container, action string, extra map[string]string) {
	e.record(ctx, containerEventRow(c, action, extra))
}

// containerEventRow is the container event containerEvent records, to
// record with others (Engine.record).
func containerEventRow(c *Container, action string, extra map[string]string) statedb.Event {
	return statedb.Event{Time: time.Now(), Type: EventContainer, Action: action, ActorID: c.ID, Attributes: containerAttrs(c, extra)}
}

// exitEvents are what Docker logs when a container's process ends, as st
// records it: oom (when the kernel killed it for memory), then die.
func (e *Engine) exitEvents(c *Container, st runtime.State) []statedb.Event {
	now := time.Now()
	var evs []statedb.Event
	if st.OOMKilled {
		evs = append(evs, statedb.Event{Time: now, Type: EventContainer, Action: "oom", ActorID: c.ID, Attributes: containerAttrs(c, nil)})
	}
	attrs := map[string]string{"exitCode": strconv.Itoa(st.ExitCode)}
	if !st.StartedAt.IsZero() && st.FinishedAt.After(st.StartedAt) {
		attrs["execDuration"] = strconv.Itoa(int(st.FinishedAt.Sub(st.StartedAt).Seconds()))
	}
	return append(evs, statedb.Event{Time: now, Type: EventContainer, Action: "die", ActorID: c.ID, Attributes: containerAttrs(c, attrs)})
}

// foldSpool moves the monitors' spooled events into the table, oldest
// first. Each file is claimed by renaming it to NAME.folding-PID-CLAIMTIME
// (of processes folding at once, one wins each file), recorded, then
// removed; a claim its process did not finish (killed) is taken over once
// its claim time is a minute old. The time is in the name because a rename
// keeps the file's own times.
func (e *Engine) foldSpool(ctx context.Context) {
	dir := e.eventSpool()
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 || e.openDB() != nil {
		return
	}
	var claimed []string
	var evs []statedb.Event
	now := time.Now()
	suffix := ".folding-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(now.UnixNano(), 10)
	for _, ent := range ents {
		name := ent.Name()
		if strings.HasPrefix(name, ".") {
			continue // being written
		}
		if i := strings.Index(name, ".folding-"); i >= 0 {
			claimed, err := strconv.ParseInt(name[strings.LastIndex(name, "-")+1:], 10, 64)
			if err == nil && now.Sub(time.Unix(0, claimed)) < time.Minute {
				continue
			}
			name = name[:i]
		} else if !strings.HasSuffix(name, ".json") {
			continue
		}
		path := filepath.Join(dir, name+suffix)
		if os.Rename(filepath.Join(dir, ent.Name()), path) != nil {
			continue // another process claimed it
		}
		claimed = append(claimed, path)
		b, err := os.ReadFile(path)
		var sev runtime.SpoolEvent
		if err != nil || json.Unmarshal(b, &sev) != nil || sev.Type == "" || sev.Action == "" {
			continue // damaged: dropped with the others
		}
		evs = append(evs, e.spoolRow(sev))
	}
	slices.SortStableFunc(evs, func(a, b statedb.Event) int { return a.Time.Compare(b.Time) })
	if e.db.AddEvents(context.WithoutCancel(ctx), e.eventsMax(), evs...) != nil {
		return // kept claimed: taken over later
	}
	for _, p := range claimed {
		os.Remove(p)
	}
}

// spoolRow adds the container's name, image and labels (from its record, if
// it still has one) to a spooled event.
func (e *Engine) spoolRow(sev runtime.SpoolEvent) statedb.Event {
	attrs := sev.Attributes
	if sev.Type == EventContainer {
		if r, err := e.db.Container(context.Background(), sev.ID); err == nil {
			c := &Container{ID: r.ID, Name: r.Name}
			json.Unmarshal(r.Config, &c.Config)
			attrs = containerAttrs(c, sev.Attributes)
		}
	}
	return statedb.Event{Time: sev.Time, Type: sev.Type, Action: sev.Action, ActorID: sev.ID, Attributes: attrs}
}

// EventsOptions select events: those of [Since, Until] (zero: unbounded)
// that match Filters (Docker's: container, event, image, label, network,
// scope, type, volume). Follow keeps streaming new events until Until
// passes or the context ends; without Since a follower sees only new ones.
type EventsOptions struct {
	Since, Until time.Time
	Filters      []string
	Follow       bool
	// Ready, when set, is called once the filters are checked and the
	// position is taken, before the first event: the API sends its 200
	// there, so a bad filter is still a 400 and no event is missed.
	Ready func()
}

// Events calls fn with each selected event in time order, then, when
// following, with each new one as it is recorded. An error from fn ends
// the stream and is returned. A bad filter is InvalidArgument.
func (e *Engine) Events(ctx context.Context, o EventsOptions, fn func(Event) error) error {
	f, err := ParseFilters(o.Filters)
	if err != nil {
		return err
	}
	match, err := eventFilterSpec().compile(f)
	if err != nil {
		return err
	}
	if err := e.openDB(); err != nil {
		return err
	}
	e.foldSpool(ctx)
	q := statedb.EventQuery{Since: o.Since, Until: o.Until}
	if o.Follow && o.Since.IsZero() {
		if q.AfterSeq, err = e.db.LastEventSeq(ctx); err != nil {
			return err
		}
	}
	if o.Ready != nil {
		o.Ready()
	}
	send := func(r statedb.Event) error {
		q.AfterSeq = max(q.AfterSeq, r.Seq)
		if ev := eventFromRow(r); match(ev) {
			return fn(ev)
		}
		return nil
	}
	if !o.Follow || !o.Since.IsZero() {
		if err := e.db.Events(ctx, q, send); err != nil {
			return err
		}
	}
	if !o.Follow {
		return nil
	}
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	for o.Until.IsZero() || !time.Now().After(o.Until) {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		e.foldSpool(ctx)
		if err := e.db.Events(ctx, q, send); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// imageEvent records an image event: Docker's actor is the image ID for
// tag, untag, delete, load, save and import (name: the new tag, or the ID
// again); for pull and push the familiar name (name: without its tag).
func (e *Engine) imageEvent(ctx context.Context, action, id, name string) {
	e.event(ctx, EventImage, action, id, map[string]string{"name": name})
}

// imageEventID is Docker's image ID, "sha256:<hex>".
func imageEventID(id string) string {
	if id == "" || strings.Contains(id, ":") {
		return id
	}
	return "sha256:" + id
}

// taggedName is Docker's name for a new tag: familiar, with ":latest" when
// the user gave no tag.
func taggedName(ref string) string {
	n := imagestore.FamiliarName(ref)
	if !strings.Contains(n[strings.LastIndex(n, "/")+1:], ":") && !strings.Contains(n, "@") {
		n += ":latest"
	}
	return n
}

// networkEvent records a network event with Docker's attributes: name and
// type (the driver), and container for connect and disconnect.
func (e *Engine) networkEvent(ctx context.Context, n *Network, action, containerID string) {
	e.record(ctx, networkEventRow(n, action, containerID))
}

// networkEventRow is the event networkEvent records.
func networkEventRow(n *Network, action, containerID string) statedb.Event {
	attrs := map[string]string{"name": n.Name, "type": firstNonEmpty(n.Config.Driver, "bridge")}
	if containerID != "" {
		attrs["container"] = containerID
	}
	return statedb.Event{Time: time.Now(), Type: EventNetwork, Action: action, ActorID: n.ID, Attributes: attrs}
}

// pruneEvent records a prune as Docker does: one event of the type, no
// actor, the bytes reclaimed (none for networks: reclaimed < 0).
func (e *Engine) pruneEvent(ctx context.Context, typ string, reclaimed int64) {
	attrs := map[string]string{}
	if reclaimed >= 0 {
		attrs["reclaimed"] = strconv.FormatInt(reclaimed, 10)
	}
	e.event(ctx, typ, "prune", "", attrs)
}
