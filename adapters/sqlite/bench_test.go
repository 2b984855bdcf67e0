package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	concordsqlite "github.com/harborpoint/concord/adapters/sqlite"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/internal/storebench"
	"github.com/harborpoint/concord/replica"
)

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
	var bare *bareWriter
	defer func() {
		if bare != nil {
			bare.close()
		}
	}()
	storebench.Update(b, s, codec, func(size int) func(int) {
		bare = newBareWriter(b, db, size)
		return func(k int) { bare.write(b, k) }
	})
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
	w := &bareWriter{value: make([]byte, size), revs: make([]int64, storebench.Keys)}
	if _, err := db.ExecContext(ctx, `CREATE TABLE bare (key BLOB NOT NULL PRIMARY KEY, value BLOB NOT NULL, rev INTEGER NOT NULL) WITHOUT ROWID`); err != nil {
		b.Fatal(err)
	}
	for i := range w.revs {
		if _, err := db.ExecContext(ctx, `INSERT INTO bare VALUES (?, ?, 0)`, storebench.BareKey(i), w.value); err != nil {
			b.Fatal(err)
		}
	}
	var err error
	if w.update, err = db.PrepareContext(ctx, `UPDATE bare SET value = ?, rev = rev + 1 WHERE key = ? AND rev = ?`); err != nil {
		b.Fatal(err)
	}
	return w
}

func (w *bareWriter) write(b *testing.B, k int) {
	w.value[0]++
	res, err := w.update.ExecContext(context.Background(), w.value, storebench.BareKey(k), w.revs[k])
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		b.Fatal("the bare update lost its row")
	}
	w.revs[k]++
}

func (w *bareWriter) close() { _ = w.update.Close() }
