package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/harborpoint/concord/replica"
)

// The reaping state of the replica that writes the table: its counter
// floor, one row of TABLE_counter, and the horizons of the keys it
// reaped, the rows of TABLE_horizons. Each is written in a transaction of
// its own, committed as a record's write is, so a replica that reaped
// tombstones restarts over the table with its ID, never reissues a dot of
// a reaped key, and refuses, for the retention, a late copy of a record it
// reaped.

// CounterFloor implements [replica.FloorStore]: 0 until the first raise.
func (s *Store) CounterFloor(ctx context.Context) (uint64, error) {
	var n int64
	switch err := s.pool.QueryRow(ctx, s.q.floor).Scan(&n); {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("postgres: counter floor: %w", err)
	}
	return uint64(n), nil
}

// RaiseCounterFloor implements [replica.FloorStore]: one INSERT … ON
// CONFLICT DO UPDATE that keeps the greater of the stored floor and n.
func (s *Store) RaiseCounterFloor(ctx context.Context, n uint64) error {
	if n > math.MaxInt64 {
		return fmt.Errorf("postgres: counter floor %d is beyond the largest counter", n)
	}
	if _, err := s.pool.Exec(ctx, s.q.raiseFloor, int64(n)); err != nil {
		return fmt.Errorf("postgres: raise counter floor to %d: %w", n, err)
	}
	return nil
}

// PutHorizon implements [replica.HorizonStore]: one INSERT … ON CONFLICT
// DO UPDATE.
func (s *Store) PutHorizon(ctx context.Context, key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	if _, err := s.pool.Exec(ctx, s.q.putHorizon, key, value); err != nil {
		return fmt.Errorf("postgres: put horizon %q: %w", key, err)
	}
	return nil
}

// DeleteHorizon implements [replica.HorizonStore].
func (s *Store) DeleteHorizon(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.q.delHorizon, key); err != nil {
		return fmt.Errorf("postgres: delete horizon %q: %w", key, err)
	}
	return nil
}

// ScanHorizons implements [replica.HorizonStore] with one SELECT … WHERE
// key > $1 ORDER BY key LIMIT $2.
func (s *Store) ScanHorizons(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	return s.scan(ctx, s.q.scanHorizons, "scan horizons", after, limit, false)
}

var _ replica.HorizonStore = (*Store)(nil)
