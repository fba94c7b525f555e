package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
)

// Volume is one row of the volumes table. The name is the key, so two
// processes creating one name get one volume.
type Volume struct {
	Name    string
	Driver  string
	Created time.Time
	Config  []byte // JSON, opaque here: labels, driver options, anonymous
}

// CreateVolume inserts v; a name already taken is errdefs.ErrConflict.
func (d *DB) CreateVolume(ctx context.Context, v Volume) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO volumes (name, driver, created, config) VALUES (?, ?, ?, ?)",
			v.Name, v.Driver, unixNano(v.Created), string(v.Config))
		if isUnique(err) {
			return fmt.Errorf("volume %s already exists: %w", v.Name, errdefs.ErrConflict)
		}
		return err
	})
}

// EnsureVolume inserts v unless a volume of its name exists, and returns
// the row that is there and whether it is v's (created by this call).
func (d *DB) EnsureVolume(ctx context.Context, v Volume) (Volume, bool, error) {
	var out Volume
	var created bool
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO volumes (name, driver, created, config) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
			v.Name, v.Driver, unixNano(v.Created), string(v.Config))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		created = n == 1
		out, err = scanVolume(tx.QueryRowContext(ctx, "SELECT name, driver, created, config FROM volumes WHERE name = ?", v.Name))
		return err
	})
	return out, created, err
}

// Volume is the volume called name: errdefs.ErrNotFound when there is none.
func (d *DB) Volume(ctx context.Context, name string) (Volume, error) {
	v, err := scanVolume(d.db.QueryRowContext(ctx, "SELECT name, driver, created, config FROM volumes WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return Volume{}, fmt.Errorf("no such volume: %s: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return Volume{}, d.fail("reading volume "+name, err)
	}
	return v, nil
}

// Volumes are every volume, by name.
func (d *DB) Volumes(ctx context.Context) ([]Volume, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT name, driver, created, config FROM volumes ORDER BY name")
	if err != nil {
		return nil, d.fail("reading volumes", err)
	}
	defer rows.Close()
	var out []Volume
	for rows.Next() {
		v, err := scanVolume(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteVolume removes the row of name; a missing one is
// errdefs.ErrNotFound.
func (d *DB) DeleteVolume(ctx context.Context, name string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM volumes WHERE name = ?", name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("no such volume: %s: %w", name, errdefs.ErrNotFound)
		}
		return nil
	})
}

type scanner interface{ Scan(...any) error }

func scanVolume(s scanner) (Volume, error) {
	var v Volume
	var created int64
	var cfg string
	if err := s.Scan(&v.Name, &v.Driver, &created, &cfg); err != nil {
		return Volume{}, err
	}
	v.Created, v.Config = fromNano(created), []byte(cfg)
	return v, nil
}
