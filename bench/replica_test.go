package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Applying replicated writes: concord's replica.Apply of a state another
// replica exported, beside the floor of storing the same bytes in a map
// under a mutex. No peer offers a replica engine to compare with.

const replicaKeys = 1024

// holdExports returns the exported state of replicaKeys holds, each created
// and then edited (a blind note write) at replica lisbon: what another
// region receives by replication.
func holdExports(tb testing.TB) (keys []string, data [][]byte) {
	ctx := context.Background()
	src := holdReplica(tb, Lisbon)
	expires := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range replicaKeys {
		key := fmt.Sprintf("H-%04d", i)
		if _, err := src.Create(ctx, key, hold.New(key, fmt.Sprintf("C%d", i), "desk", expires)); err != nil {
			tb.Fatal(err)
		}
		if _, err := src.Blind(ctx, key, "note", hold.NoteEdit("call back")); err != nil {
			tb.Fatal(err)
		}
		d, err := src.Export(ctx, key)
		if err != nil {
			tb.Fatal(err)
		}
		keys, data = append(keys, key), append(data, d)
	}
	return keys, data
}

func holdReplica(tb testing.TB, name string) *replica.Replica[hold.Hold] {
	r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
		replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkReplicaApply applies the exported states of 1,024 keys, one per
// op, into replica baltimore and reports ops/s. In case "fresh" every apply
// stores a version the replica lacks (a new replica every 1,024 ops, built
// with the timer stopped); in case "duplicate" every apply is a re-delivery
// of a version already held, which Apply detects and does not store.
func BenchmarkReplicaApply(b *testing.B) {
	keys, data := holdExports(b)
	ctx := context.Background()
	matrix(b, []string{implConcord, implBaseline}, []string{"fresh", "duplicate"}, nil, func(b *testing.B, impl, c string, _ int) {
		switch impl {
		case implConcord:
			dst := holdReplica(b, Baltimore)
			if c == "duplicate" {
				for k := range keys {
					if _, err := dst.Apply(ctx, keys[k], data[k]); err != nil {
						b.Fatal(err)
					}
				}
			}
			for i := 0; b.Loop(); i++ {
				k := i % len(keys)
				if c == "fresh" && k == 0 && i > 0 {
					b.StopTimer()
					dst = holdReplica(b, Baltimore)
					b.StartTimer()
				}
				if _, err := dst.Apply(ctx, keys[k], data[k]); err != nil {
					b.Fatal(err)
				}
			}
		case implBaseline:
			var mu sync.Mutex
			m := map[string][]byte{}
			for i := 0; b.Loop(); i++ {
				k := i % len(keys)
				if c == "fresh" && k == 0 && i > 0 {
					b.StopTimer()
					m = map[string][]byte{}
					b.StartTimer()
				}
				mu.Lock()
				m[keys[k]] = append(m[keys[k]][:0], data[k]...)
				mu.Unlock()
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}
