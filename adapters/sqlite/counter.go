package sqlite

import (
	"context"
	"fmt"
	"math"

	"github.com/harborpoint/concord/replica"
)

// CounterFloor implements [replica.FloorStore]: the counter floor of the
// replica that writes this store, one row of table TABLE_counter, kept in
// the same database file as the records, so a replica that reaped
// tombstones restarts over the file with its ID ([Store.ReplicaID]).
func (s *Store) CounterFloor(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT counter FROM "`+s.table+`_counter" WHERE one = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: counter floor: %w", err)
	}
	return uint64(n), nil
}

// RaiseCounterFloor implements [replica.FloorStore]: one UPDATE that keeps
// the larger of the stored floor and n, committed as a write of a record
// is (durable as the Store's synchronous setting makes it).
func (s *Store) RaiseCounterFloor(ctx context.Context, n uint64) error {
	if n > math.MaxInt64 {
		return fmt.Errorf("sqlite: counter floor %d is beyond the largest counter", n)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE "`+s.table+`_counter" SET counter = max(counter, ?) WHERE one = 1`, int64(n)); err != nil {
		return fmt.Errorf("sqlite: raise counter floor to %d: %w", n, err)
	}
	return nil
}

var _ replica.FloorStore = (*Store)(nil)
