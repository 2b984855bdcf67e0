package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

const benchKeys = 64

// BenchmarkUpdate compares, on one database connection and in one loop, three
// writes of a hold-sized value to one of 64 rows: a Replica.Update through
// the Store (read, decode, merge, encode, compare-and-set), the Store's
// CompareAndSet alone, and the least a revision-checked write can be, a
// bare, prepared UPDATE … WHERE key = ? AND rev = ?. Each iteration does one
// of each, so that the disk's ups and downs fall on all three alike; the
// metrics are each one's mean and median time and replica/bare and
// store/bare, the overhead of concord and of the Store, on both.
func BenchmarkUpdate(b *testing.B) {
	for _, sync := range []concordsqlite.Synchronous{concordsqlite.SyncFull, concordsqlite.SyncNormal} {
		name := map[concordsqlite.Synchronous]string{concordsqlite.SyncFull: "FULL", concordsqlite.SyncNormal: "NORMAL"}[sync]
		for _, codec := range []struct {
			name  string
			codec replica.Codec[hold.Hold]
		}{{"json", nil}, {"hold", hold.Codec{}}} {
			b.Run("synchronous="+name+"/codec="+codec.name, func(b *testing.B) { benchUpdate(b, name, codec.codec) })
		}
	}
}

// benchUpdate runs BenchmarkUpdate at one synchronous level, with the
// replica's records in codec (nil: the default, JSON).
func benchUpdate(b *testing.B, sync string, codec replica.Codec[hold.Hold]) {
	// One connection for all three: SQLite writers that take turns on
	// different connections each reread what the other changed.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "bench.db")+
		"?_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")&_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	s, err := concordsqlite.New(context.Background(), db, "records")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	rep := newReplicaWriter(b, s, codec)
	store := newStoreWriter(b, s, rep.size)
	bare := newBareWriter(b, db, rep.size)
	defer bare.close()
	var tr, ts, tb []time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tr = append(tr, timed(func() { rep.write(b, i) }))
		ts = append(ts, timed(func() { store.write(b, i) }))
		tb = append(tb, timed(func() { bare.write(b, i) }))
	}
	report(b, "replica", tr, tb)
	report(b, "store", ts, tb)
	b.ReportMetric(float64(sum(tb).Nanoseconds())/float64(len(tb)), "bare-ns/op")
	b.ReportMetric(float64(median(tb).Nanoseconds()), "bare-p50-ns")
}

// report reports the mean time of the writes ds and their ratio to the
// baseline's, and the same for the medians: the means carry the rare slow
// commits (a WAL checkpoint's fsync lands on whichever write crosses its
// threshold, a descheduled process on whichever write it interrupts), the
// medians a typical write.
func report(b *testing.B, name string, ds, base []time.Duration) {
	b.ReportMetric(float64(sum(ds).Nanoseconds())/float64(len(ds)), name+"-ns/op")
	b.ReportMetric(float64(sum(ds))/float64(sum(base)), name+"/bare")
	b.ReportMetric(float64(median(ds).Nanoseconds()), name+"-p50-ns")
	b.ReportMetric(float64(median(ds))/float64(median(base)), name+"/bare-p50")
}

func sum(ds []time.Duration) (t time.Duration) {
	for _, d := range ds {
		t += d
	}
	return t
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func timed(f func()) time.Duration {
	t := time.Now()
	f()
	return time.Since(t)
}

// replicaWriter updates holds' notes with Replica.Update.
type replicaWriter struct {
	r      *replica.Replica[hold.Hold]
	tokens []string
	size   int // bytes of a stored hold
}

func newReplicaWriter(b *testing.B, s replica.Store, codec replica.Codec[hold.Hold]) *replicaWriter {
	ctx := context.Background()
	r, err := replica.New(version.MustID("bench"), s, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{Codec: codec})
	if err != nil {
		b.Fatal(err)
	}
	w := &replicaWriter{r: r, tokens: make([]string, benchKeys)}
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range w.tokens {
		rec, err := r.Create(ctx, key(i), hold.New(key(i), "C1", "agency", expires))
		if err != nil {
			b.Fatal(err)
		}
		w.tokens[i] = rec.Token
	}
	v, _, err := s.Get(ctx, key(0))
	if err != nil {
		b.Fatal(err)
	}
	w.size = len(v)
	return w
}

func (w *replicaWriter) write(b *testing.B, i int) {
	k := i % benchKeys
	rec, err := w.r.Update(context.Background(), key(k), w.tokens[k], func(h *hold.Hold, _ replica.Write) error {
		h.Note = strconv.Itoa(i)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	w.tokens[k] = rec.Token
}

// storeWriter compare-and-sets rows of its own through the Store.
type storeWriter struct {
	s     replica.Store
	value []byte
	revs  []uint64
}

func newStoreWriter(b *testing.B, s replica.Store, size int) *storeWriter {
	w := &storeWriter{s: s, value: make([]byte, size), revs: make([]uint64, benchKeys)}
	for i := range w.revs {
		n, err := s.CompareAndSet(context.Background(), storeKeys[i], w.value, 0)
		if err != nil {
			b.Fatal(err)
		}
		w.revs[i] = n
	}
	return w
}

func (w *storeWriter) write(b *testing.B, i int) {
	k := i % benchKeys
	w.value[0] = byte(i)
	n, err := w.s.CompareAndSet(context.Background(), storeKeys[k], w.value, w.revs[k])
	if err != nil {
		b.Fatal(err)
	}
	w.revs[k] = n
}

// bareWriter is the baseline: a prepared UPDATE … WHERE key = ? AND rev = ?
// on a table of its own in the same database.
type bareWriter struct {
	update *sql.Stmt
	value  []byte
	revs   []int64
}

func newBareWriter(b *testing.B, db *sql.DB, size int) *bareWriter {
	ctx := context.Background()
	w := &bareWriter{value: make([]byte, size), revs: make([]int64, benchKeys)}
	if _, err := db.ExecContext(ctx, `CREATE TABLE bare (key BLOB NOT NULL PRIMARY KEY, value BLOB NOT NULL, rev INTEGER NOT NULL) WITHOUT ROWID`); err != nil {
		b.Fatal(err)
	}
	for i := range w.revs {
		if _, err := db.ExecContext(ctx, `INSERT INTO bare VALUES (?, ?, 0)`, bareKeys[i], w.value); err != nil {
			b.Fatal(err)
		}
	}
	var err error
	if w.update, err = db.PrepareContext(ctx, `UPDATE bare SET value = ?, rev = rev + 1 WHERE key = ? AND rev = ?`); err != nil {
		b.Fatal(err)
	}
	return w
}

func (w *bareWriter) write(b *testing.B, i int) {
	k := i % benchKeys
	w.value[0] = byte(i)
	res, err := w.update.ExecContext(context.Background(), w.value, bareKeys[k], w.revs[k])
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		b.Fatal("the bare update lost its row")
	}
	w.revs[k]++
}

func (w *bareWriter) close() { _ = w.update.Close() }

// The keys are made once, so that the loop allocates only what the writes do.
var (
	keys      [benchKeys]string // the replica's
	storeKeys [benchKeys]string // the store writer's
	bareKeys  [benchKeys][]byte // the bare UPDATE's
)

func init() {
	for i := range benchKeys {
		keys[i] = fmt.Sprintf("H-%04d", i)
		storeKeys[i] = "s" + keys[i]
		bareKeys[i] = []byte(keys[i])
	}
}

func key(i int) string { return keys[i] }
