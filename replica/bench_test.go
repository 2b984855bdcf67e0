package replica_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
)

// benchExports returns n exported versions of n keys, each written at
// another replica: what a replica receives by replication.
func benchExports(b *testing.B, n int) (keys []string, data [][]byte) {
	c := newCluster(b, "lisbon")
	for i := range n {
		key := fmt.Sprintf("H-%d", i)
		if _, err := c.rs[0].Create(bg, key, hold.New(key, "C1", "desk", minutes(10))); err != nil {
			b.Fatal(err)
		}
		if _, err := c.rs[0].Blind(bg, key, "note", hold.NoteEdit("a note")); err != nil {
			b.Fatal(err)
		}
		d, err := c.rs[0].Export(bg, key)
		if err != nil {
			b.Fatal(err)
		}
		keys, data = append(keys, key), append(data, d)
	}
	return keys, data
}

// BenchmarkApply applies replicated versions of 1024 keys into a replica:
// the first pass stores them (IncomingWins), later ones find duplicates.
// BenchmarkApplyBaseline is the same traffic into a plain map under a mutex.
func BenchmarkApply(b *testing.B) { benchApply(b, false) }

// BenchmarkApplyFresh applies each version into a replica that lacks it, so
// that every Apply stores (a new store every 1024 ops).
func BenchmarkApplyFresh(b *testing.B) { benchApply(b, true) }

// benchApply applies replicated versions of 1024 keys into a replica, into
// a new one every 1024 ops if fresh.
func benchApply(b *testing.B, fresh bool) {
	keys, data := benchExports(b, 1024)
	c := newCluster(b, "baltimore")
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for i := range b.N {
		k := i % len(keys)
		if fresh && k == 0 && i > 0 {
			b.StopTimer()
			c = newCluster(b, "baltimore")
			b.StartTimer()
		}
		if _, err := c.rs[0].Apply(bg, keys[k], data[k]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyBaseline(b *testing.B) {
	keys, data := benchExports(b, 1024)
	var (
		mu sync.Mutex
		m  = map[string][]byte{}
	)
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for i := range b.N {
		k := i % len(keys)
		mu.Lock()
		m[keys[k]] = append(m[keys[k]][:0], data[k]...)
		mu.Unlock()
	}
}

// BenchmarkMemoryStoreInsert stores new keys into a MemoryStore, a new one
// every n inserts, the keys in sorted and in random order, beside a map under
// a mutex: keeping the keys sorted for Scan must cost the same whatever the
// order keys arrive in, and grow slowly with the store. (With one sorted
// slice, a random insert into 100,000 keys cost 11 µs, 40× a sorted one.)
func BenchmarkMemoryStoreInsert(b *testing.B) {
	ctx := context.Background()
	value := make([]byte, 300)
	for _, n := range []int{1_000, 100_000} {
		sorted := make([]string, n)
		for i := range sorted {
			sorted[i] = fmt.Sprintf("key-%08d", i)
		}
		random := slices.Clone(sorted)
		rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { random[i], random[j] = random[j], random[i] })
		for _, order := range []struct {
			name string
			keys []string
		}{{"sorted", sorted}, {"random", random}} {
			b.Run(fmt.Sprintf("n=%d/order=%s/impl=store", n, order.name), func(b *testing.B) {
				b.ReportAllocs()
				m := replica.NewMemoryStore()
				for i := 0; b.Loop(); i++ {
					if i%n == 0 && i > 0 {
						b.StopTimer()
						m = replica.NewMemoryStore()
						b.StartTimer()
					}
					if _, err := m.CompareAndSet(ctx, order.keys[i%n], value, 0); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("n=%d/order=random/impl=map", n), func(b *testing.B) {
			b.ReportAllocs()
			var mu sync.Mutex
			m := map[string][]byte{}
			for i := 0; b.Loop(); i++ {
				if i%n == 0 && i > 0 {
					b.StopTimer()
					m = map[string][]byte{}
					b.StartTimer()
				}
				mu.Lock()
				m[random[i%n]] = slices.Clone(value)
				mu.Unlock()
			}
		})
	}
}

// BenchmarkGet reads one record; BenchmarkGetIndexed reads it once the
// reconciliation index is built, so that each read also checks the index
// holds the state it read (what keeps the index in step with other
// writers): the ratio of the two is that check's cost.
func BenchmarkGet(b *testing.B) { benchmarkGet(b, false) }

// BenchmarkGetIndexed: see BenchmarkGet.
func BenchmarkGetIndexed(b *testing.B) { benchmarkGet(b, true) }

func benchmarkGet(b *testing.B, indexed bool) {
	c := newCluster(b, "lisbon")
	if _, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10))); err != nil {
		b.Fatal(err)
	}
	if indexed {
		if err := replica.BuildIndex(c.rs[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for range b.N {
		if _, err := c.rs[0].Get(bg, "H-1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommand runs commands with new idempotency keys on 1024 keys,
// and BenchmarkCommandRetry retries one already applied.
func BenchmarkCommand(b *testing.B) {
	c := newCluster(b, "lisbon")
	const n = 1024
	for i := range n {
		key := fmt.Sprintf("H-%d", i)
		if _, err := c.rs[0].Create(bg, key, hold.New(key, "C1", "desk", minutes(10))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for i := range b.N {
		key := fmt.Sprintf("H-%d", i%n)
		if _, _, err := c.rs[0].Command(bg, key, fmt.Sprintf("k%d", i), func(h *hold.Hold, _ replica.Write) error {
			h.Note = "x"
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCommandRetry(b *testing.B) {
	c := newCluster(b, "lisbon")
	if _, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10))); err != nil {
		b.Fatal(err)
	}
	touch := func(h *hold.Hold, _ replica.Write) error { h.Touch("web"); return nil }
	if _, _, err := c.rs[0].Command(bg, "H-1", "k", touch); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer startCPU(b)()
	for range b.N {
		if _, replayed, err := c.rs[0].Command(bg, "H-1", "k", touch); err != nil || !replayed {
			b.Fatal(err, replayed)
		}
	}
}

// BenchmarkRescan rebuilds the review queue and the reconciliation index of
// a replica restarted over a store of 10^5 holds, as its first session
// does (and Rescan does again once the index is built): the one-time cost
// of the index at start (ns/record).
func BenchmarkRescan(b *testing.B) {
	const n = 100_000
	c := newCluster(b, "lisbon")
	createN(b, c.rs[0], n)
	b.ReportAllocs()
	for b.Loop() {
		c.restart(b, 0)
		if err := replica.BuildIndex(c.rs[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}

// BenchmarkSyncOneDifference: a session between two replicas of 10^4 holds
// that differ in one; beside it, the same replicas' full digest exchange
// would move every key with its context (see package rangesync's
// benchmarks for that comparison).
func BenchmarkSyncOneDifference(b *testing.B) {
	c := newCluster(b, "lisbon", "baltimore")
	createN(b, c.rs[0], 10_000)
	c.heal(b)
	if _, err := c.rs[0].Blind(bg, "H-04242", "note", hold.NoteEdit("x")); err != nil {
		b.Fatal(err)
	}
	c.heal(b)
	b.ReportAllocs()
	var rep replica.SyncReport
	for i := 0; b.Loop(); i++ {
		if _, err := c.rs[i%2].Blind(bg, "H-04242", "note", hold.NoteEdit(fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
		var err error
		if rep, err = c.rs[0].Sync(bg, replica.Local(c.rs[1])); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rep.Bytes), "wire-B/op")
	b.ReportMetric(float64(rep.Rounds), "round-trips/op")
}
