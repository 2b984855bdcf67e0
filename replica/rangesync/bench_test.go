package rangesync_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/harborpoint/concord/replica/rangesync"
	"github.com/harborpoint/concord/version"
)

// The benchmarks compare the protocol (impl=concord) with the exchange it
// replaces (impl=digest): each side sends every key with its whole causal
// context, and each side compares the other's digest with its own. Both
// find the same differences on the same two sets; shipping the records
// that differ costs the same either way and is not measured. The digest
// side is favoured: its contexts are already decoded in memory, where
// replica.Digest read and decoded every stored record.
//
// Sets hold n keys of 9 bytes ("H-0000042"), each with a context of two or
// three replicas, the second set with d differences: a third of them keys
// only the first holds, a third keys only the second holds, a third keys
// both hold at different versions. Metrics: wire-B/op, the bytes both
// sides sent; round-trips/op.
//
// n = 10^6 is left out unless CONCORD_BENCH_LARGE=1, so that a run of every
// benchmark once (CI) stays short; bench/reconcile.sh sets it.

var ids = []version.ID{version.MustID("lisbon"), version.MustID("baltimore"), version.MustID("tokyo")}

// side is one replica's records: keys in order with their contexts.
type side struct {
	keys  []string
	ctx   []version.Vector
	enc   [][]byte // ctx in binary
	index *rangesync.Index
}

func context(rng *rand.Rand) version.Vector {
	dots := []version.Dot{{ID: ids[0], Counter: 1 + rng.Uint64N(1000)}, {ID: ids[1], Counter: 1 + rng.Uint64N(1000)}}
	if rng.IntN(3) == 0 {
		dots = append(dots, version.Dot{ID: ids[2], Counter: 1 + rng.Uint64N(50)})
	}
	v, err := version.NewVector(dots...)
	if err != nil {
		panic(err)
	}
	return v
}

// pair builds the two sides: b is a with d differences.
func pair(n, d int) (a, b *side) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(d)))
	a, b = &side{index: new(rangesync.Index)}, &side{index: new(rangesync.Index)}
	add := func(s *side, k string, v version.Vector) {
		enc, _ := v.AppendBinary(nil)
		s.keys, s.ctx, s.enc = append(s.keys, k), append(s.ctx, v), append(s.enc, enc)
		if err := s.index.Put(k, enc); err != nil {
			panic(err)
		}
	}
	stride := n / max(d, 1)
	for i := range n {
		k := fmt.Sprintf("H-%07d", i)
		v := context(rng)
		if d == 0 || i%stride != 0 || i/stride >= d {
			add(a, k, v)
			add(b, k, v)
			continue
		}
		switch (i / stride) % 3 {
		case 0:
			add(a, k, v)
		case 1:
			add(b, k, v)
		case 2:
			add(a, k, v)
			w, _, _ := v.Increment(ids[0])
			add(b, k, w)
		}
	}
	return a, b
}

var pairs = map[[2]int][2]*side{}

func cachedPair(n, d int) (*side, *side) {
	p, ok := pairs[[2]int{n, d}]
	if !ok {
		a, b := pair(n, d)
		p = [2]*side{a, b}
		clear(pairs) // keep one pair in memory
		pairs[[2]int{n, d}] = p
	}
	return p[0], p[1]
}

func sizes() []int {
	if os.Getenv("CONCORD_BENCH_LARGE") == "1" {
		return []int{1e4, 1e5, 1e6}
	}
	return []int{1e4, 1e5}
}

// BenchmarkReconcile finds the differences between two sides, both ways.
func BenchmarkReconcile(b *testing.B) {
	for _, n := range sizes() {
		for _, d := range []int{0, 1, 10, 1000} {
			name := fmt.Sprintf("n=%d/d=%d", n, d)
			b.Run(name+"/impl=concord", func(b *testing.B) {
				x, y := cachedPair(n, d)
				benchProtocol(b, x, y, d)
			})
			b.Run(name+"/impl=digest", func(b *testing.B) {
				x, y := cachedPair(n, d)
				benchDigest(b, x, y, d)
			})
		}
	}
}

func benchProtocol(b *testing.B, x, y *side, d int) {
	b.ReportAllocs()
	var bytes, rounds, found int
	for b.Loop() {
		bytes, rounds, found = 0, 0, 0
		s, err := rangesync.NewInitiator(x.index, rangesync.Options{})
		if err != nil {
			b.Fatal(err)
		}
		msg := s.Initiate()
		for msg != nil {
			reply, err := rangesync.Respond(y.index, msg, rangesync.Options{})
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(msg) + len(reply)
			rounds++
			var have, need []string
			if msg, have, need, err = s.Reconcile(reply); err != nil {
				b.Fatal(err)
			}
			found += len(have) + len(need)
		}
	}
	if want := differences(d); found != want {
		b.Fatalf("found %d, want %d", found, want)
	}
	b.ReportMetric(float64(bytes), "wire-B/op")
	b.ReportMetric(float64(rounds), "round-trips/op")
}

// differences is what a reconciliation with d differences reports: keys
// held at two versions count on both sides.
func differences(d int) int { return d + d/3 }

// benchDigest runs the old exchange: each side encodes every key and
// context, the other decodes them and lists the keys whose context does
// not descend from its own (what each must send).
func benchDigest(b *testing.B, x, y *side, d int) {
	b.ReportAllocs()
	var bytes, found int
	for b.Loop() {
		dx, dy := encodeDigest(x), encodeDigest(y)
		bytes = len(dx) + len(dy)
		found = missing(b, y, dx) + missing(b, x, dy)
	}
	if found != d { // a key held at two versions goes one way only: causality decides
		b.Fatalf("found %d, want %d", found, d)
	}
	b.ReportMetric(float64(bytes), "wire-B/op")
	b.ReportMetric(1, "round-trips/op")
}

func encodeDigest(s *side) []byte {
	var out []byte
	for i, k := range s.keys {
		out = binary.AppendUvarint(out, uint64(len(k)))
		out = append(out, k...)
		out = binary.AppendUvarint(out, uint64(len(s.enc[i])))
		out, _ = s.ctx[i].AppendBinary(out)
	}
	return out
}

// missing decodes a peer's digest and counts the records s holds that the
// peer lacks or does not descend from (replica.Missing's rule).
func missing(b *testing.B, s *side, digest []byte) int {
	theirs := make(map[string]version.Vector, len(s.keys))
	for len(digest) > 0 {
		n, w := binary.Uvarint(digest)
		k := string(digest[w : w+int(n)])
		digest = digest[w+int(n):]
		n, w = binary.Uvarint(digest)
		var v version.Vector
		if err := v.UnmarshalBinary(digest[w : w+int(n)]); err != nil {
			b.Fatal(err)
		}
		digest = digest[w+int(n):]
		theirs[k] = v
	}
	count := 0
	for i, k := range s.keys {
		if v, ok := theirs[k]; !ok || !v.Descends(s.ctx[i]) {
			count++
		}
	}
	return count
}

// BenchmarkIndexBuild rebuilds an index of n keys from scratch, as a
// replica does once at start: the per-key cost should grow like log n.
func BenchmarkIndexBuild(b *testing.B) {
	for _, n := range sizes() {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			x, _ := cachedPair(n, 0)
			b.ReportAllocs()
			for b.Loop() {
				var ix rangesync.Index
				for i, k := range x.keys {
					_ = ix.Put(k, x.enc[i])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
	}
}

// BenchmarkIndexPut updates one key of an index of n keys to a new version:
// the cost of keeping the index current on every write.
func BenchmarkIndexPut(b *testing.B) {
	for _, n := range sizes() {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			x, _ := cachedPair(n, 0)
			var v [8]byte
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				binary.LittleEndian.PutUint64(v[:], uint64(i))
				_ = x.index.Put(x.keys[(i*7919)%n], v[:])
			}
		})
	}
}
