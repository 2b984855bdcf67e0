package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrInvalidTable is wrapped by the error for a table name that is not a
// plain lower-case SQL identifier: 1 to 48 ASCII lower-case letters, digits
// and '_', not starting with a digit. (Lower case only, so that the name
// means the same quoted or not; the pool's search_path picks the schema.)
var ErrInvalidTable = errors.New("postgres: invalid table name")

func checkTable(name string) error {
	if name == "" || len(name) > 48 || '0' <= name[0] && name[0] <= '9' {
		return fmt.Errorf("%w: %q", ErrInvalidTable, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("%w: %q has byte %q", ErrInvalidTable, name, c)
		}
	}
	return nil
}

// Schema returns the DDL of table, for a migration tool: a sequence that
// issues the revisions (a sequence never hands out a value twice, even when
// the transaction that took it rolls back, so no key ever gets back a
// revision it had), the table, whose key collates "C" so that Scan's
// order is the keys' byte order, and two tables of the replica's reaping
// state: TABLE_counter, one row, its counter floor
// (replica.FloorStore), and TABLE_horizons, the horizons of the keys it
// reaped (replica.HorizonStore). The statements are idempotent.
func Schema(table string) ([]string, error) {
	if err := checkTable(table); err != nil {
		return nil, err
	}
	return []string{
		`CREATE SEQUENCE IF NOT EXISTS ` + table + `_rev AS bigint`,
		`CREATE TABLE IF NOT EXISTS ` + table + ` (
			key   text   COLLATE "C" PRIMARY KEY,
			value bytea  NOT NULL,
			rev   bigint NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS ` + table + `_counter (
			one     int    PRIMARY KEY CHECK (one = 1),
			counter bigint NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS ` + table + `_horizons (
			key   text  COLLATE "C" PRIMARY KEY,
			value bytea NOT NULL
		)`,
	}, nil
}

// CreateSchema runs [Schema] on pool in one transaction.
func CreateSchema(ctx context.Context, pool *pgxpool.Pool, table string) error {
	ddl, err := Schema(table)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: create %s: %w", table, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, q := range ddl {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("postgres: create %s: %w", table, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: create %s: %w", table, err)
	}
	return nil
}

// statements are a table's queries.
type statements struct {
	get, insert, update, del, scan string
	floor, raiseFloor              string
	putHorizon, delHorizon         string
	scanHorizons                   string
}

func queries(t string) statements {
	return statements{
		get:    `SELECT value, rev FROM ` + t + ` WHERE key = $1`,
		insert: `INSERT INTO ` + t + ` (key, value, rev) VALUES ($1, $2, nextval('` + t + `_rev')) ON CONFLICT (key) DO NOTHING RETURNING rev`,
		update: `UPDATE ` + t + ` SET value = $1, rev = nextval('` + t + `_rev') WHERE key = $2 AND rev = $3 RETURNING rev`,
		del:    `DELETE FROM ` + t + ` WHERE key = $1 AND rev = $2`,
		scan:   `SELECT key, value, rev FROM ` + t + ` WHERE key > $1 ORDER BY key LIMIT $2`,

		floor: `SELECT counter FROM ` + t + `_counter WHERE one = 1`,
		raiseFloor: `INSERT INTO ` + t + `_counter (one, counter) VALUES (1, $1)
			ON CONFLICT (one) DO UPDATE SET counter = GREATEST(` + t + `_counter.counter, excluded.counter)`,
		putHorizon:   `INSERT INTO ` + t + `_horizons (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		delHorizon:   `DELETE FROM ` + t + `_horizons WHERE key = $1`,
		scanHorizons: `SELECT key, value FROM ` + t + `_horizons WHERE key > $1 ORDER BY key LIMIT $2`,
	}
}
