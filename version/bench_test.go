package version_test

import (
	"fmt"
	"testing"

	"github.com/harborpoint/concord/internal/dvv"
	"github.com/harborpoint/concord/version"
)

// Benchmarks at 3, 16 and 128 replicas, beside a plain baseline (a sorted
// slice of integer pairs compared and joined the obvious way) so that the
// ratios come from one run:
//
//	go test -run '^$' -bench . -count 5 ./version

var benchSizes = []int{3, 16, 128}

// benchIDs returns n replica IDs with 8-byte names.
func benchIDs(n int) []version.ID {
	ids := make([]version.ID, n)
	for i := range ids {
		ids[i] = version.MustID(fmt.Sprintf("reg%05d", i))
	}
	return ids
}

// benchVector returns the vector over ids with counter base+i at the i-th
// replica, with the first entry raised by first and the last by last.
func benchVector(ids []version.ID, base, first, last uint64) version.Vector {
	dots := make([]version.Dot, len(ids))
	for i, id := range ids {
		dots[i] = version.Dot{ID: id, Counter: base + uint64(i)}
	}
	dots[0].Counter += first
	dots[len(dots)-1].Counter += last
	v, err := version.NewVector(dots...)
	if err != nil {
		panic(err)
	}
	return v
}

// benchPair returns two vectors over n replicas: in the descends case they
// differ only at the last entry; in the concurrent case a is ahead at the
// first entry and b at the last, so the concurrency shows only at the end.
func benchPair(n int, concurrent bool) (a, b version.Vector) {
	ids := benchIDs(n)
	if concurrent {
		return benchVector(ids, 1000, 1, 0), benchVector(ids, 1000, 0, 1)
	}
	return benchVector(ids, 1000, 0, 1), benchVector(ids, 1000, 0, 0)
}

var sinkOrder version.Order
var sinkBool bool

func BenchmarkVectorCompare(b *testing.B) {
	for _, shape := range []string{"descends", "concurrent"} {
		for _, n := range benchSizes {
			x, y := benchPair(n, shape == "concurrent")
			want := version.After
			if shape == "concurrent" {
				want = version.Concurrent
			}
			b.Run(fmt.Sprintf("%s/n=%d", shape, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sinkOrder = x.Compare(y)
				}
				if sinkOrder != want {
					b.Fatalf("Compare = %v, want %v", sinkOrder, want)
				}
			})
		}
	}
}

func BenchmarkDVVDescends(b *testing.B) {
	for _, n := range benchSizes {
		ids := benchIDs(n)
		past := benchVector(ids, 1000, 0, 0)
		v, err := dvv.New(version.Dot{ID: ids[n-1], Counter: 5000}, past)
		if err != nil {
			b.Fatal(err)
		}
		// w is a write the writer of v had seen, at a replica in the middle.
		mid := ids[n/2]
		w, err := dvv.New(version.Dot{ID: mid, Counter: past.Get(mid)}, version.Vector{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = v.Descends(w)
			}
			if !sinkBool {
				b.Fatal("Descends = false")
			}
		})
	}
}

var sinkVector version.Vector

func BenchmarkVectorJoin(b *testing.B) {
	for _, n := range benchSizes {
		x, y := benchPair(n, true)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkVector = x.Join(y)
			}
		})
	}
}

// BenchmarkJoinFloor puts a fresh Vector.Join beside the least a fresh join
// must do: copy one input into new memory. "copy32" copies n entries of an
// ID and a counter (a 24-byte ID and a counter: what a join wrote while a
// vector was one list of entries), "copy16" n pairs of 8-byte integers, the
// width of syncthing's entries and of the baseline's, "copy8" n counters
// alone: what a join over the same replicas writes now that vectors keep
// their replicas apart from their counters and such a join shares one
// side's. On a loaded machine the copy's cost follows its bytes.
func BenchmarkJoinFloor(b *testing.B) {
	type wide [4]uint64 // an ID (three words) and a counter
	for _, n := range benchSizes {
		x, y := benchPair(n, true)
		w, p, c := make([]wide, n), make([]basePair, n), make([]uint64, n)
		b.Run(fmt.Sprintf("op=join/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkVector = x.Join(y)
			}
		})
		b.Run(fmt.Sprintf("op=copy32/n=%d", n), func(b *testing.B) { benchCopy(b, w) })
		b.Run(fmt.Sprintf("op=copy16/n=%d", n), func(b *testing.B) { benchCopy(b, p) })
		b.Run(fmt.Sprintf("op=copy8/n=%d", n), func(b *testing.B) { benchCopy(b, c) })
	}
}

// benchCopy copies src into new memory, as a fresh join must write its
// result.
func benchCopy[E any](b *testing.B, src []E) {
	b.ReportAllocs()
	var out []E
	for b.Loop() {
		out = make([]E, len(src))
		copy(out, src)
	}
	_ = out
}

func BenchmarkBuilderJoin(b *testing.B) {
	for _, n := range benchSizes {
		x, y := benchPair(n, true)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var bl version.Builder
			bl.Join(x)
			b.ReportAllocs()
			for b.Loop() {
				bl.Join(y)
			}
		})
	}
}

// benchClocks returns two clocks of a key every one of n replicas wrote,
// each with one further concurrent write (at the first and last replica).
func benchClocks(n int) (base, a, c version.Clock[string]) {
	ids := benchIDs(n)
	for i, id := range ids {
		base, _, _ = base.Update(base.Join(), fmt.Sprint("v", i), id)
	}
	a, _, _ = base.Update(base.Join(), "a", ids[0])
	c, _, _ = base.Update(base.Join(), "c", ids[n-1])
	return base, a, c
}

var sinkClock version.Clock[string]

func BenchmarkClockSync(b *testing.B) {
	for _, n := range benchSizes {
		_, x, y := benchClocks(n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkClock = x.Sync(y)
			}
			if sinkClock.Len() != 2 {
				b.Fatalf("%d siblings", sinkClock.Len())
			}
		})
	}
}

func BenchmarkClockUpdate(b *testing.B) {
	for _, n := range benchSizes {
		_, x, y := benchClocks(n)
		c := x.Sync(y)
		ctx := c.Join()
		id := benchIDs(n)[n/2]
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkClock, _, _ = c.Update(ctx, "w", id)
			}
		})
	}
}

var sinkBytes []byte

func BenchmarkEncode(b *testing.B) {
	for _, n := range benchSizes {
		v := benchVector(benchIDs(n), 1000, 0, 0)
		b.Run(fmt.Sprintf("binary/n=%d", n), func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = v.AppendBinary(buf[:0])
			}
			b.ReportMetric(float64(len(buf)), "B/token")
		})
		b.Run(fmt.Sprintf("text/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBytes, _ = v.MarshalText()
			}
			b.ReportMetric(float64(len(sinkBytes)), "B/token")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range benchSizes {
		v := benchVector(benchIDs(n), 1000, 0, 0)
		data, _ := v.MarshalBinary()
		text := v.Token()
		b.Run(fmt.Sprintf("binary/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkVector, _ = version.DecodeVector(data, version.Limits{})
			}
			b.ReportMetric(float64(len(data)), "B/token")
		})
		b.Run(fmt.Sprintf("text/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkVector, _ = version.ParseToken(text, version.Limits{})
			}
			b.ReportMetric(float64(len(text)), "B/token")
		})
	}
}

// The baseline: a vector as a sorted slice of integer pairs, compared and
// joined the obvious way. Replica IDs are plain integers here, so it does
// less work per entry than version.Vector, whose IDs are 24 bytes.

type basePair struct{ ID, N uint64 }

func baseCompare(a, b []basePair) version.Order {
	aMore, bMore := false, false
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].ID == b[j].ID:
			if a[i].N > b[j].N {
				aMore = true
			} else if a[i].N < b[j].N {
				bMore = true
			}
			i++
			j++
		case a[i].ID < b[j].ID:
			aMore = true
			i++
		default:
			bMore = true
			j++
		}
	}
	aMore = aMore || i < len(a)
	bMore = bMore || j < len(b)
	return orderOf(aMore, bMore)
}

// baseJoin joins b into a in place, inserting replicas a lacks.
func baseJoin(a, b []basePair) []basePair {
	i := 0
	for _, y := range b {
		for i < len(a) && a[i].ID < y.ID {
			i++
		}
		switch {
		case i < len(a) && a[i].ID == y.ID:
			a[i].N = max(a[i].N, y.N)
		default:
			a = append(a, basePair{})
			copy(a[i+1:], a[i:])
			a[i] = y
		}
		i++
	}
	return a
}

func basePairs(v version.Vector) []basePair {
	var out []basePair
	i := uint64(0)
	for _, n := range v.All() {
		i++
		out = append(out, basePair{i, n})
	}
	return out
}

func BenchmarkBaselineCompare(b *testing.B) {
	for _, shape := range []string{"descends", "concurrent"} {
		for _, n := range benchSizes {
			x, y := benchPair(n, shape == "concurrent")
			bx, by := basePairs(x), basePairs(y)
			want := x.Compare(y)
			b.Run(fmt.Sprintf("%s/n=%d", shape, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sinkOrder = baseCompare(bx, by)
				}
				if sinkOrder != want {
					b.Fatalf("baseline Compare = %v, want %v", sinkOrder, want)
				}
			})
		}
	}
}

func BenchmarkBaselineJoin(b *testing.B) {
	for _, n := range benchSizes {
		x, y := benchPair(n, true)
		bx, by := basePairs(x), basePairs(y)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bx = baseJoin(bx, by)
			}
		})
	}
}
