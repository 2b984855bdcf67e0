package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

const benchKeys = 64

// BenchmarkUpdate compares, over one pool and in one loop, three writes of
// a hold-sized value to one of 64 rows: a Replica.Update through the Store
// (select, decode, merge, encode, compare-and-set), the Store's
// CompareAndSet alone, and the least a revision-checked write can be, a bare
// UPDATE … SET value = $1, rev = rev + 1 WHERE key = $2 AND rev = $3 (pgx
// prepares and caches every statement, the Store's and this one alike).
// Each iteration does one of each, so the disk's ups and downs fall on all
// three alike; the metrics are each one's mean time and replica/bare and
// store/bare, the overhead of concord and of the Store.
func BenchmarkUpdate(b *testing.B) {
	pool := requireServer(b).pool(b, 4)
	ctx := context.Background()
	s := newStore(b, pool)
	r, err := replica.New(version.MustID("bench"), s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
	if err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, benchKeys)
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range tokens {
		rec, err := r.Create(ctx, key(i), hold.New(key(i), "C1", "agency", expires))
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = rec.Token
	}
	stored, _, err := s.Get(ctx, key(0))
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, len(stored))
	revs := make([]uint64, benchKeys)
	for i := range revs {
		if revs[i], err = s.CompareAndSet(ctx, "s"+key(i), value, 0); err != nil {
			b.Fatal(err)
		}
	}
	bare := newBare(b, pool, len(stored))
	var tr, ts, tb time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % benchKeys
		t0 := time.Now()
		rec, err := r.Update(ctx, key(k), tokens[k], func(h *hold.Hold, _ replica.Write) error {
			h.Note = strconv.Itoa(i)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		tokens[k] = rec.Token
		t1 := time.Now()
		value[0] = byte(i)
		if revs[k], err = s.CompareAndSet(ctx, "s"+key(k), value, revs[k]); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		bare.write(b, k)
		t3 := time.Now()
		tr, ts, tb = tr+t1.Sub(t0), ts+t2.Sub(t1), tb+t3.Sub(t2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tr.Nanoseconds())/n, "replica-ns/op")
	b.ReportMetric(float64(ts.Nanoseconds())/n, "store-ns/op")
	b.ReportMetric(float64(tb.Nanoseconds())/n, "bare-ns/op")
	b.ReportMetric(float64(tr)/float64(tb), "replica/bare")
	b.ReportMetric(float64(ts)/float64(tb), "store/bare")
}

// bare is the baseline: its own table, rows updated by revision.
type bare struct {
	pool  *pgxpool.Pool
	value []byte
	revs  []int64
}

func newBare(b *testing.B, pool *pgxpool.Pool, size int) *bare {
	ctx := context.Background()
	w := &bare{pool: pool, value: make([]byte, size), revs: make([]int64, benchKeys)}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bare (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL, rev bigint NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	for i := range w.revs {
		if _, err := pool.Exec(ctx, `INSERT INTO bare VALUES ($1, $2, 0) ON CONFLICT (key) DO UPDATE SET rev = 0`, key(i), w.value); err != nil {
			b.Fatal(err)
		}
	}
	return w
}

func (w *bare) write(b *testing.B, k int) {
	w.value[0]++
	tag, err := w.pool.Exec(context.Background(), `UPDATE bare SET value = $1, rev = rev + 1 WHERE key = $2 AND rev = $3`, w.value, key(k), w.revs[k])
	if err != nil {
		b.Fatal(err)
	}
	if tag.RowsAffected() != 1 {
		b.Fatal("the bare update lost its row")
	}
	w.revs[k]++
}

func key(i int) string { return fmt.Sprintf("H-%04d", i) }
