package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrInvalidTable is wrapped by the error for a table name that is not a
// plain SQL identifier: 1 to 48 ASCII letters, digits and '_', not starting
// with a digit. Names are never quoted from user input, only checked.
var ErrInvalidTable = errors.New("sqlite: invalid table name")

// DefaultTable is the table a Store uses when none is given.
const DefaultTable = "concord_records"

func checkTable(name string) error {
	if name == "" || len(name) > 48 || '0' <= name[0] && name[0] <= '9' {
		return fmt.Errorf("%w: %q", ErrInvalidTable, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("%w: %q has byte %q", ErrInvalidTable, name, c)
		}
	}
	return nil
}

// schema is the DDL of table: the records, keyed by their bytes (a BLOB
// compares with memcmp, so Scan's order is Go's string order, whatever the
// bytes); one row, the floor, that a trigger raises on every delete to
// the deleted row's revision; one row, the replica's counter floor
// (replica.FloorStore, see counter.go); and the horizons of the keys the
// replica reaped (replica.HorizonStore, see horizon.go).
//
// Revisions are per key: an update adds one to the row's; a create starts
// at the floor plus one. A key deleted and created again so starts above
// every revision it had before (each was at most the floor its delete left),
// and no revision is issued twice to a key (no ABA), while an update writes
// its one row and nothing else.
func schema(table string) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS "` + table + `" (
			key   BLOB    NOT NULL PRIMARY KEY,
			value BLOB    NOT NULL,
			rev   INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE TABLE IF NOT EXISTS "` + table + `_floor" (
			one INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),
			rev INTEGER NOT NULL
		)`,
		`INSERT OR IGNORE INTO "` + table + `_floor" (one, rev) VALUES (1, 0)`,
		`CREATE TRIGGER IF NOT EXISTS "` + table + `_floor_delete" AFTER DELETE ON "` + table + `"
		BEGIN UPDATE "` + table + `_floor" SET rev = max(rev, OLD.rev) WHERE one = 1; END`,
		`CREATE TABLE IF NOT EXISTS "` + table + `_counter" (
			one     INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),
			counter INTEGER NOT NULL
		)`,
		`INSERT OR IGNORE INTO "` + table + `_counter" (one, counter) VALUES (1, 0)`,
		`CREATE TABLE IF NOT EXISTS "` + table + `_horizons" (
			key   BLOB NOT NULL PRIMARY KEY,
			value BLOB NOT NULL
		) WITHOUT ROWID`,
	}
}

// CreateSchema creates table, its revision floor and trigger in db if they
// do not exist yet. [Open] and [New] call it; call it yourself to
// create the schema ahead of time (in a migration).
func CreateSchema(ctx context.Context, db *sql.DB, table string) error {
	if err := checkTable(table); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", table, err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range schema(table) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: create %s: %w", table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create %s: %w", table, err)
	}
	return nil
}

// statements are a table's queries.
type statements struct {
	get, insert, update, del, scanFrom, scanAfter string
}

func queries(table string) statements {
	t, f := `"`+table+`"`, `"`+table+`_floor"`
	return statements{
		get:       `SELECT value, rev FROM ` + t + ` WHERE key = ?`,
		insert:    `INSERT INTO ` + t + ` (key, value, rev) SELECT ?, ?, rev + 1 FROM ` + f + ` WHERE one = 1 ON CONFLICT (key) DO NOTHING RETURNING rev`,
		update:    `UPDATE ` + t + ` SET value = ?, rev = rev + 1 WHERE key = ? AND rev = ?`,
		del:       `DELETE FROM ` + t + ` WHERE key = ? AND rev = ?`,
		scanFrom:  `SELECT key, value, rev FROM ` + t + ` ORDER BY key LIMIT ?`,
		scanAfter: `SELECT key, value, rev FROM ` + t + ` WHERE key > ? ORDER BY key LIMIT ?`,
	}
}
