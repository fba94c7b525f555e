package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/errdefs"
)

// Container is one row of the containers table.
type Container struct {
	ID      string
	Name    string
	ImageID string
	Created time.Time
	Status  string // the engine's lifecycle status
	Config  []byte // JSON, opaque here
	State   []byte // JSON, opaque here
}

const containerColumns = "id, name, image_id, created, status, config, state"

func scanContainer(s interface{ Scan(...any) error }) (Container, error) {
	var c Container
	var created int64
	var cfg, st string
	if err := s.Scan(&c.ID, &c.Name, &c.ImageID, &created, &c.Status, &cfg, &st); err != nil {
		return c, err
	}
	c.Created, c.Config, c.State = fromNano(created), []byte(cfg), []byte(st)
	return c, nil
}

// CreateContainer inserts a new row. A name or ID already taken is
// errdefs.ErrConflict, whatever process took it.
func (d *DB) CreateContainer(ctx context.Context, c Container) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO containers ("+containerColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			c.ID, c.Name, c.ImageID, unixNano(c.Created), c.Status, string(c.Config), stateOrEmpty(c.State))
		if isUnique(err) {
			return nameTaken(ctx, tx, c.Name)
		}
		return err
	})
}

// nameTaken names the container that holds name.
func nameTaken(ctx context.Context, tx *sql.Tx, name string) error {
	var id string
	if tx.QueryRowContext(ctx, "SELECT id FROM containers WHERE name = ?", name).Scan(&id) == nil {
		return fmt.Errorf("the container name %q is already in use by container %s: remove that container or choose another name: %w", name, id[:min(12, len(id))], errdefs.ErrConflict)
	}
	return fmt.Errorf("the container ID is already in use: %w", errdefs.ErrConflict)
}

func stateOrEmpty(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// Container finds a row by full ID, name, or unique ID prefix (Docker's
// order). Nothing found is errdefs.ErrNotFound; a prefix of several IDs
// errdefs.ErrInvalidArgument.
func (d *DB) Container(ctx context.Context, ref string) (Container, error) {
	row := d.db.QueryRowContext(ctx, "SELECT "+containerColumns+" FROM containers WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1", ref, ref, ref)
	c, err := scanContainer(row)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return c, d.fail("reading a container", err)
	}
	if strings.Trim(ref, "0123456789abcdef") != "" {
		return c, fmt.Errorf("No such container: %s: %w", ref, errdefs.ErrNotFound)
	}
	rows, err := d.db.QueryContext(ctx, "SELECT "+containerColumns+" FROM containers WHERE id >= ? AND id < ? LIMIT 2", ref, ref+"g")
	if err != nil {
		return c, d.fail("reading a container", err)
	}
	defer rows.Close()
	var found []Container
	for rows.Next() {
		c, err := scanContainer(rows)
		if err != nil {
			return c, err
		}
		found = append(found, c)
	}
	switch len(found) {
	case 0:
		return c, fmt.Errorf("No such container: %s: %w", ref, errdefs.ErrNotFound)
	case 1:
		return found[0], rows.Err()
	}
	return c, fmt.Errorf("multiple containers match %q: use more of the ID: %w", ref, errdefs.ErrInvalidArgument)
}

// Containers lists every row in one query, newest first.
func (d *DB) Containers(ctx context.Context) ([]Container, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+containerColumns+" FROM containers ORDER BY created DESC")
	if err != nil {
		return nil, d.fail("listing containers", err)
	}
	defer rows.Close()
	var out []Container
	for rows.Next() {
		c, err := scanContainer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetState records a container's lifecycle status and state. With from
// given, the row changes only if its status is one of them: the write of a
// process that read an older state never overwrites a newer one. ok reports
// whether the row changed.
func (d *DB) SetState(ctx context.Context, id, status string, state []byte, from ...string) (ok bool, err error) {
	return d.SetStateEvents(ctx, id, status, state, from, 0, nil)
}

// SetStateEvents is SetState that also records evs (as AddEvents, keeping
// at most max) in the same transaction, and only if the row changed: a
// reader that sees the new state sees its events too (a client's wait for
// an exit, then its query for the die), and of racing writers only the
// winner's events are kept.
func (d *DB) SetStateEvents(ctx context.Context, id, status string, state []byte, from []string, max int, evs []Event) (ok bool, err error) {
	q := "UPDATE containers SET status = ?, state = ? WHERE id = ?"
	args := []any{status, stateOrEmpty(state), id}
	if len(from) > 0 {
		q += " AND status IN (?" + strings.Repeat(", ?", len(from)-1) + ")"
		for _, f := range from {
			args = append(args, f)
		}
	}
	var n int64
	err = d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		return insertEvents(ctx, tx, max, evs)
	})
	if err != nil {
		return false, d.fail("recording a container's state", err)
	}
	return n == 1, nil
}

// RenameContainer gives a container a new name; a name in use is
// errdefs.ErrConflict (of two concurrent renames to one name, one wins).
func (d *DB) RenameContainer(ctx context.Context, id, name string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE containers SET name = ? WHERE id = ?", name, id)
		if isUnique(err) {
			return nameTaken(ctx, tx, name)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("No such container: %s: %w", id, errdefs.ErrNotFound)
		}
		return nil
	})
}

// SetConfig replaces a container's config (network connect and
// disconnect change its endpoints).
func (d *DB) SetConfig(ctx context.Context, id string, config []byte) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE containers SET config = ? WHERE id = ?", string(config), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("No such container: %s: %w", id, errdefs.ErrNotFound)
		}
		return nil
	})
}

// DeleteContainer removes a row (and, by cascade, what it holds), and
// records evs (the destroy event) in the same transaction, keeping the
// newest max events as AddEvents does.
func (d *DB) DeleteContainer(ctx context.Context, id string, max int, evs ...Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM containers WHERE id = ?", id); err != nil {
			return err
		}
		return insertEvents(ctx, tx, max, evs)
	})
}
