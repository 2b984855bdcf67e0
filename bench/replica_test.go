package bench

import (
	"context"
	"fmt"
	"strings"
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

// The record codecs the replica benchmarks run with: hold's own binary
// codec, what a service storing holds configures, and the default, JSON.
var replicaCodecs = map[string]replica.Codec[hold.Hold]{
	"binary": hold.Codec{},
	"json":   replica.JSON[hold.Hold]{},
}

// holdExports returns the exported state of replicaKeys holds, each created
// and then edited (a blind note write) at replica lisbon: what another
// region receives by replication.
func holdExports(tb testing.TB, codec string) (keys []string, data [][]byte) {
	ctx := context.Background()
	src := holdReplica(tb, Lisbon, codec)
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

func holdReplica(tb testing.TB, name, codec string) *replica.Replica[hold.Hold] {
	r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
		replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Codec: replicaCodecs[codec]})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// indexedReplica is holdReplica with its reconciliation index built by a
// session with an empty peer, as a replica has it from its first
// anti-entropy session on: every state it stores is then indexed as it is
// stored. (A replica that never reconciles, fed by pushed writes alone,
// does not index them.)
func indexedReplica(tb testing.TB, name, codec string) *replica.Replica[hold.Hold] {
	r := holdReplica(tb, name, codec)
	peer := holdReplica(tb, "porto", codec)
	if _, err := r.Sync(context.Background(), replica.Local(peer)); err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkReplicaApply applies the exported states of 1,024 keys, one per
// op, into replica baltimore and reports ops/s. In case "fresh" every apply
// stores a version the replica lacks (a new replica every 1,024 ops, built
// with the timer stopped); "fresh+index" is the same into a replica whose
// reconciliation index is built, as it is from the first anti-entropy
// session on, so that every state stored is indexed too; in case
// "duplicate" every apply is a re-delivery of a version already held,
// which Apply detects and does not store. The record values are encoded
// with hold's binary codec ("-binary") or JSON, the default ("-json"); the
// baseline stores the same bytes.
func BenchmarkReplicaApply(b *testing.B) {
	exports := map[string][][]byte{}
	var keys []string
	for codec := range replicaCodecs {
		keys, exports[codec] = holdExports(b, codec)
	}
	ctx := context.Background()
	cases := []string{"fresh-binary", "fresh+index-binary", "duplicate-binary", "fresh-json", "duplicate-json"}
	matrix(b, []string{implConcord, implBaseline}, cases, nil, func(b *testing.B, impl, c string, _ int) {
		kind, codec, _ := strings.Cut(c, "-")
		newReplica := holdReplica
		if kind == "fresh+index" {
			kind, newReplica = "fresh", indexedReplica
		}
		data := exports[codec]
		switch impl {
		case implConcord:
			dst := newReplica(b, Baltimore, codec)
			if kind == "duplicate" {
				for k := range keys {
					if _, err := dst.Apply(ctx, keys[k], data[k]); err != nil {
						b.Fatal(err)
					}
				}
			}
			for i := 0; b.Loop(); i++ {
				k := i % len(keys)
				if kind == "fresh" && k == 0 && i > 0 {
					b.StopTimer()
					dst = newReplica(b, Baltimore, codec)
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
				if kind == "fresh" && k == 0 && i > 0 {
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
