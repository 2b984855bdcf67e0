package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborpoint/concord/internal/storebench"
)

// BenchmarkUpdate compares, over one pool and in one loop, three writes of
// a hold-sized value to one of 64 rows: a Replica.Update through the Store
// (select, decode, merge, encode, compare-and-set), the Store's
// CompareAndSet alone, and the least a revision-checked write can be, a bare
// UPDATE … SET value = $1, rev = rev + 1 WHERE key = $2 AND rev = $3 (pgx
// prepares and caches every statement, the Store's and this one alike).
// Each iteration does one of each, so the disk's ups and downs fall on all
// three alike; the metrics are each one's mean and median time and
// replica/bare and store/bare, the overhead of concord and of the Store.
func BenchmarkUpdate(b *testing.B) {
	pool := requireServer(b).pool(b, 4)
	s := newStore(b, pool)
	storebench.Update(b, s, nil, func(size int) func(int) {
		bare := newBare(b, pool, size)
		return func(k int) { bare.write(b, k) }
	})
}

// bare is the baseline: its own table, rows updated by revision.
type bare struct {
	pool  *pgxpool.Pool
	value []byte
	revs  []int64
}

func newBare(b *testing.B, pool *pgxpool.Pool, size int) *bare {
	ctx := context.Background()
	w := &bare{pool: pool, value: make([]byte, size), revs: make([]int64, storebench.Keys)}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bare (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL, rev bigint NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	for i := range w.revs {
		if _, err := pool.Exec(ctx, `INSERT INTO bare VALUES ($1, $2, 0) ON CONFLICT (key) DO UPDATE SET rev = 0`, string(storebench.BareKey(i)), w.value); err != nil {
			b.Fatal(err)
		}
	}
	return w
}

func (w *bare) write(b *testing.B, k int) {
	w.value[0]++
	tag, err := w.pool.Exec(context.Background(), `UPDATE bare SET value = $1, rev = rev + 1 WHERE key = $2 AND rev = $3`, w.value, string(storebench.BareKey(k)), w.revs[k])
	if err != nil {
		b.Fatal(err)
	}
	if tag.RowsAffected() != 1 {
		b.Fatal("the bare update lost its row")
	}
	w.revs[k]++
}
