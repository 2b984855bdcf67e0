// Package storebench is what the SQL stores' BenchmarkUpdate share
// (adapters/sqlite, adapters/postgres): the timed loop, and the two writers
// it times against each database's own bare revision-checked UPDATE — a
// Replica.Update through the Store, and the Store's CompareAndSet alone.
// It is benchmark scaffolding, shared so that every store is measured the
// same way.
package storebench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Keys is the number of rows each writer spreads its writes over.
const Keys = 64

// The keys are made once, so that the loop allocates only what the writes do.
var (
	keys      [Keys]string // the replica's
	storeKeys [Keys]string // the store writer's
	bareKeys  [Keys][]byte // the bare UPDATE's
)

func init() {
	for i := range Keys {
		keys[i] = fmt.Sprintf("H-%04d", i)
		storeKeys[i] = "s" + keys[i]
		bareKeys[i] = []byte(keys[i])
	}
}

// BareKey is the key of the bare UPDATE's row i: rows of its own, so that
// they can share a table's key space with neither writer.
func BareKey(i int) []byte { return bareKeys[i] }

// Update times, in one loop, the three writes of a hold-sized value to one
// of Keys rows: a Replica.Update over s (read, decode, merge, encode,
// compare-and-set) with records in codec (nil: JSON), s.CompareAndSet
// alone, and the write that bare returns for values of size bytes, the
// least a revision-checked write can be. Each iteration does one of each,
// so the disk's ups and downs fall on all three alike. It reports each
// one's mean and median time and replica/bare and store/bare, the overhead
// of concord and of the Store, on both.
func Update(b *testing.B, s replica.Store, codec replica.Codec[hold.Hold], bare func(size int) func(i int)) {
	rep := newReplicaWriter(b, s, codec)
	store := newStoreWriter(b, s, rep.size)
	bareWrite := bare(rep.size)
	var tr, ts, tb []time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tr = append(tr, timed(func() { rep.write(b, i) }))
		ts = append(ts, timed(func() { store.write(b, i) }))
		tb = append(tb, timed(func() { bareWrite(i % Keys) }))
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
	w := &replicaWriter{r: r, tokens: make([]string, Keys)}
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range w.tokens {
		rec, err := r.Create(ctx, keys[i], hold.New(keys[i], "C1", "agency", expires))
		if err != nil {
			b.Fatal(err)
		}
		w.tokens[i] = rec.Token
	}
	v, _, err := s.Get(ctx, keys[0])
	if err != nil {
		b.Fatal(err)
	}
	w.size = len(v)
	return w
}

func (w *replicaWriter) write(b *testing.B, i int) {
	k := i % Keys
	rec, err := w.r.Update(context.Background(), keys[k], w.tokens[k], func(h *hold.Hold, _ replica.Write) error {
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
	w := &storeWriter{s: s, value: make([]byte, size), revs: make([]uint64, Keys)}
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
	k := i % Keys
	w.value[0] = byte(i)
	n, err := w.s.CompareAndSet(context.Background(), storeKeys[k], w.value, w.revs[k])
	if err != nil {
		b.Fatal(err)
	}
	w.revs[k] = n
}
