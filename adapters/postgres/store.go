package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborpoint/concord/replica"
)

// Store is a [replica.Store] in a PostgreSQL table: one row per key with its
// value and revision. Revisions come from the table's sequence, so no
// revision is ever issued twice, not even to a key deleted and created
// again (no ABA). It accepts the keys [ValidKey] accepts and orders Scan by
// their bytes (the key column collates "C").
//
// A Store is safe for concurrent use: every call takes a connection from
// the pool for one statement. Make one with [New].
type Store struct {
	pool *pgxpool.Pool
	q    statements
}

// New returns the Store of table over pool, which the caller keeps (and
// closes). The table must exist: create it with [CreateSchema], or with
// the DDL that [Schema] returns in a migration. New checks only the name.
func New(pool *pgxpool.Pool, table string) (*Store, error) {
	if pool == nil {
		return nil, errors.New("postgres: nil pool")
	}
	if err := checkTable(table); err != nil {
		return nil, err
	}
	return &Store{pool: pool, q: queries(table)}, nil
}

// ValidKey reports whether key can be a record key in a Store: a non-empty,
// valid UTF-8 string without NUL bytes (what a text column of a UTF8
// database holds).
func ValidKey(key string) bool {
	return key != "" && utf8.ValidString(key) && !strings.ContainsRune(key, 0)
}

func checkKey(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("postgres: %w: %q is empty, not UTF-8 or holds a NUL byte", replica.ErrInvalidKey, key)
	}
	return nil
}

// Get implements [replica.Store].
func (s *Store) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if err := checkKey(key); err != nil {
		return nil, 0, err
	}
	var (
		v   []byte
		rev int64
	)
	err := s.pool.QueryRow(ctx, s.q.get, key).Scan(&v, &rev)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, 0, nil
	case err != nil:
		return nil, 0, fmt.Errorf("postgres: get %q: %w", key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, uint64(rev), nil
}

// CompareAndSet implements [replica.Store]: one INSERT … ON CONFLICT (key)
// DO NOTHING for revision 0, one UPDATE … WHERE key = $2 AND rev = $3
// otherwise, each taking the sequence's next value and returning it; no row
// back is a revision mismatch.
func (s *Store) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if rev > math.MaxInt64 { // never issued
		return 0, mismatch(key, rev)
	}
	if value == nil {
		value = []byte{} // NOT NULL: an empty value is a value
	}
	var row pgx.Row
	if rev == 0 {
		row = s.pool.QueryRow(ctx, s.q.insert, key, value)
	} else {
		row = s.pool.QueryRow(ctx, s.q.update, value, key, int64(rev))
	}
	var n int64
	switch err := row.Scan(&n); {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, mismatch(key, rev)
	case err != nil:
		return 0, fmt.Errorf("postgres: set %q: %w", key, err)
	}
	return uint64(n), nil
}

// Delete implements [replica.Store].
func (s *Store) Delete(ctx context.Context, key string, rev uint64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if rev == 0 || rev > math.MaxInt64 {
		return mismatch(key, rev)
	}
	tag, err := s.pool.Exec(ctx, s.q.del, key, int64(rev))
	if err != nil {
		return fmt.Errorf("postgres: delete %q: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return mismatch(key, rev)
	}
	return nil
}

// Scan implements [replica.Store] with one SELECT … WHERE key > $1 ORDER BY
// key LIMIT $2, which reads one snapshot of the table.
func (s *Store) Scan(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	return s.scan(ctx, s.q.scan, "scan", after, limit, true)
}

// scan runs query, a SELECT of key, value and, if revs, rev WHERE key > $1
// ORDER BY key LIMIT $2, and returns its rows; what names it in errors.
func (s *Store) scan(ctx context.Context, query, what, after string, limit int, revs bool) ([]replica.Entry, error) {
	if limit < 1 {
		return nil, fmt.Errorf("postgres: scan limit %d is below 1", limit)
	}
	if after != "" {
		if err := checkKey(after); err != nil {
			return nil, err
		}
	}
	rows, err := s.pool.Query(ctx, query, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s after %q: %w", what, after, err)
	}
	defer rows.Close()
	out := make([]replica.Entry, 0, min(limit, 256))
	for rows.Next() {
		var (
			e   replica.Entry
			rev int64
		)
		dest := []any{&e.Key, &e.Value, &rev}
		if !revs {
			dest = dest[:2]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("postgres: %s after %q: %w", what, after, err)
		}
		if e.Value == nil {
			e.Value = []byte{}
		}
		e.Rev = uint64(rev)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s after %q: %w", what, after, err)
	}
	return out, nil
}

func mismatch(key string, rev uint64) error {
	return fmt.Errorf("postgres: %q at revision %d: %w", key, rev, replica.ErrRevisionMismatch)
}
