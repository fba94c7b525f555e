package statedb

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Event is one row of the events table: Docker's event message, without
// the fields derived from these.
type Event struct {
	Seq        int64 // the order events were recorded in
	Time       time.Time
	Type       string // container, image, volume, network
	Action     string // Docker's: create, die, tag...
	ActorID    string
	Attributes map[string]string
}

// AddEvents records evs in one transaction and then drops the oldest
// events beyond max (max <= 0 keeps all). Sequence numbers only grow, so
// "beyond max" is one range delete on the primary key.
func (d *DB) AddEvents(ctx context.Context, max int, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	return d.tx(ctx, func(tx *sql.Tx) error { return insertEvents(ctx, tx, max, evs) })
}

// insertEvents adds evs within tx, then drops the oldest beyond max (0:
// no limit).
func insertEvents(ctx context.Context, tx *sql.Tx, max int, evs []Event) error {
	var last int64
	for _, ev := range evs {
		attrs, err := json.Marshal(ev.Attributes)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO events (time, type, action, actor_id, attributes) VALUES (?, ?, ?, ?, ?)",
			unixNano(ev.Time), ev.Type, ev.Action, ev.ActorID, string(attrs))
		if err != nil {
			return err
		}
		if last, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	if max <= 0 || len(evs) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM events WHERE seq <= ?", last-int64(max))
	return err
}

// EventQuery selects events: those recorded after AfterSeq (0: all) whose
// time is within [Since, Until] (zero: unbounded).
type EventQuery struct {
	AfterSeq     int64
	Since, Until time.Time
}

// eventBatch is how many events Events reads at a time.
const eventBatch = 4096

// Events calls fn for each event q selects, by time then sequence. The
// rows are read in batches and fn is called between reads, never with a
// query open: fn may write to a slow client, which must not hold one of
// the pool's connections (or the WAL's read snapshot) meanwhile.
func (d *DB) Events(ctx context.Context, q EventQuery, fn func(Event) error) error {
	query := "SELECT seq, time, type, action, actor_id, attributes FROM events WHERE seq > ?"
	args := []any{q.AfterSeq}
	if !q.Since.IsZero() {
		query += " AND time >= ?"
		args = append(args, unixNano(q.Since))
	}
	if !q.Until.IsZero() {
		query += " AND time <= ?"
		args = append(args, unixNano(q.Until))
	}
	query += " AND (time, seq) > (?, ?) ORDER BY time, seq LIMIT " + strconv.Itoa(eventBatch)
	var lastTime, lastSeq int64 = math.MinInt64, 0
	batch := make([]Event, 0, eventBatch)
	for {
		batch = batch[:0]
		err := func() error {
			rows, err := d.db.QueryContext(ctx, query, append(args, lastTime, lastSeq)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var ev Event
				var t int64
				var attrs string
				if err := rows.Scan(&ev.Seq, &t, &ev.Type, &ev.Action, &ev.ActorID, &attrs); err != nil {
					return err
				}
				ev.Time = fromNano(t)
				ev.Attributes = decodeAttributes(attrs) // a damaged row still shows
				batch = append(batch, ev)
				lastTime, lastSeq = t, ev.Seq
			}
			return rows.Err()
		}()
		if err != nil {
			return d.fail("reading events", err)
		}
		for _, ev := range batch {
			if err := fn(ev); err != nil {
				return err
			}
		}
		if len(batch) < eventBatch {
			return nil
		}
	}
}

// LastEventSeq is the sequence number of the newest event (0: none).
func (d *DB) LastEventSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := d.db.QueryRowContext(ctx, "SELECT max(seq) FROM events").Scan(&seq); err != nil {
		return 0, d.fail("reading events", err)
	}
	return seq.Int64, nil
}

// decodeAttributes reads the attributes column. Listing ten thousand events
// is mostly this: the flat object of plain strings that AddEvents writes
// is read directly, anything else (escapes) through encoding/json.
func decodeAttributes(s string) map[string]string {
	if s == "{}" || s == "" || s == "null" {
		return nil
	}
	m := make(map[string]string, 4)
	rest, ok := strings.CutPrefix(s, "{")
	for ok && rest != "}" {
		var k, v string
		if k, rest, ok = cutString(rest); !ok {
			break
		}
		if rest, ok = strings.CutPrefix(rest, ":"); !ok {
			break
		}
		if v, rest, ok = cutString(rest); !ok {
			break
		}
		m[k] = v
		if r, more := strings.CutPrefix(rest, ","); more {
			rest = r
		} else if rest != "}" {
			ok = false
		}
	}
	if !ok {
		clear(m)
		json.Unmarshal([]byte(s), &m)
	}
	return m
}

// cutString cuts a JSON string without escapes off the front of s.
func cutString(s string) (string, string, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, false
	}
	end := strings.IndexAny(s[1:], `"\`)
	if end < 0 || s[1+end] != '"' {
		return "", s, false
	}
	return s[1 : 1+end], s[2+end:], true
}
