package statedb

import (
	"context"
	"fmt"
)

// IntegrityProblems is SQLite's integrity check: nothing when the file is
// sound.
func (d *DB) IntegrityProblems(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return nil, d.fail("checking the database", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if s != "ok" {
			out = append(out, s)
		}
	}
	return out, rows.Err()
}

// Dangling is a row whose reference points nowhere (foreign keys were off
// when it was written, or the file was edited).
type Dangling struct {
	Table  string
	RowID  int64
	Parent string
}

// DanglingRows is SQLite's foreign key check.
func (d *DB) DanglingRows(ctx context.Context) ([]Dangling, error) {
	rows, err := d.db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return nil, d.fail("checking the database's references", err)
	}
	defer rows.Close()
	var out []Dangling
	for rows.Next() {
		var x Dangling
		var fk int64
		if err := rows.Scan(&x.Table, &x.RowID, &x.Parent, &fk); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// DeleteDangling removes the rows DanglingRows found.
func (d *DB) DeleteDangling(ctx context.Context, rows []Dangling) error {
	for _, r := range rows {
		switch r.Table {
		case "ip_allocations", "port_allocations", "exec_sessions":
		default:
			return fmt.Errorf("a dangling row of %s is not for skiff to delete", r.Table)
		}
		if _, err := d.db.ExecContext(ctx, "DELETE FROM "+r.Table+" WHERE rowid = ?", r.RowID); err != nil {
			return d.fail("deleting a dangling row", err)
		}
	}
	return nil
}
