package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/harborpoint/concord/replica"
)

// PutHorizon implements [replica.HorizonStore]: one row of table
// TABLE_horizons, keyed like the records, committed as a write of a record
// is, so a replica that reaped tombstones and restarts over the file still
// refuses late copies of the reaped records.
func (s *Store) PutHorizon(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return errEmptyKey
	}
	if value == nil {
		value = []byte{}
	}
	q := `INSERT INTO "` + s.table + `_horizons" (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	if _, err := s.w.ExecContext(ctx, q, []byte(key), value); err != nil {
		return fmt.Errorf("sqlite: put horizon %q: %w", key, err)
	}
	return nil
}

// DeleteHorizon implements [replica.HorizonStore].
func (s *Store) DeleteHorizon(ctx context.Context, key string) error {
	if key == "" {
		return errEmptyKey
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM "`+s.table+`_horizons" WHERE key = ?`, []byte(key)); err != nil {
		return fmt.Errorf("sqlite: delete horizon %q: %w", key, err)
	}
	return nil
}

// ScanHorizons implements [replica.HorizonStore] with one SELECT … WHERE
// key > ? ORDER BY key LIMIT ?.
func (s *Store) ScanHorizons(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: scan limit %d is below 1", limit)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT key, value FROM "`+s.table+`_horizons" WHERE key > ? ORDER BY key LIMIT ?`, []byte(after), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: scan horizons after %q: %w", after, err)
	}
	defer func() { _ = rows.Close() }()
	return scanHorizonRows(rows, after, limit)
}

// scanHorizonRows reads the rows of ScanHorizons.
func scanHorizonRows(rows *sql.Rows, after string, limit int) ([]replica.Entry, error) {
	out := make([]replica.Entry, 0, min(limit, 256))
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("sqlite: scan horizons after %q: %w", after, err)
		}
		if v == nil {
			v = []byte{}
		}
		out = append(out, replica.Entry{Key: string(k), Value: v})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: scan horizons after %q: %w", after, err)
	}
	return out, nil
}

var _ replica.HorizonStore = (*Store)(nil)
