package bench

import (
	"testing"

	"github.com/DistributedClocks/GoVector/govec/vclock"
	"github.com/harborpoint/concord/internal/dvv"
	"github.com/harborpoint/concord/version"
	"github.com/syncthing/syncthing/lib/protocol"
	"google.golang.org/protobuf/proto"
)

// Version vectors: compare, join (fresh and in place), DVV descends beside
// the vector compare a plain vector needs instead, encode and decode. Each
// at 3, 16 and 128 replicas, on the shapes of inputs.go.

var vectorImpls = []string{implConcord, implSyncthing, implGoVector, implBaseline}

func BenchmarkCompare(b *testing.B) {
	type pair struct {
		a, b Counters
		want Order
	}
	inputs := map[string]map[int]pair{}
	for _, c := range Cases {
		inputs[c] = map[int]pair{}
		for _, n := range Sizes {
			x, y := ComparePair(n, c == "concurrent")
			inputs[c][n] = pair{x, y, x.AsPairs().Compare(y.AsPairs())}
		}
	}
	matrix(b, vectorImpls, Cases, Sizes, func(b *testing.B, impl, c string, n int) {
		in := inputs[c][n]
		var got Order
		switch impl {
		case implConcord:
			x, y := concordVector(in.a), concordVector(in.b)
			var o version.Order
			for b.Loop() {
				o = x.Compare(y)
			}
			got = fromVersion(o)
		case implSyncthing:
			x, y := syncthingVector(in.a), syncthingVector(in.b)
			var o protocol.Ordering
			for b.Loop() {
				o = x.Compare(y)
			}
			got = fromSyncthing(o)
		case implGoVector:
			// GoVector answers one yes/no question per call; it is asked
			// only the one that confirms the expected order.
			x, y := govecClock(in.a), govecClock(in.b)
			cond := govecCondition(in.want)
			var ok bool
			for b.Loop() {
				ok = x.Compare(y, cond)
			}
			if got = in.want; !ok {
				got = 0
			}
		case implBaseline:
			x, y := in.a.AsPairs(), in.b.AsPairs()
			for b.Loop() {
				got = x.Compare(y)
			}
		}
		checkOrder(b, impl, got, in.want)
	})
}

// BenchmarkJoin joins two concurrent vectors into a new one, leaving both
// inputs unchanged. syncthing's Merge and GoVector's Merge change their
// receiver, so they join into a copy.
func BenchmarkJoin(b *testing.B) {
	matrix(b, vectorImpls, nil, Sizes, func(b *testing.B, impl, _ string, n int) {
		ca, cb := JoinPair(n)
		want := ca.AsPairs().Join(cb.AsPairs())
		var got Pairs
		switch impl {
		case implConcord:
			x, y := concordVector(ca), concordVector(cb)
			var v version.Vector
			for b.Loop() {
				v = x.Join(y)
			}
			got = pairsOfConcord(v)
		case implSyncthing:
			x, y := syncthingVector(ca), syncthingVector(cb)
			var v protocol.Vector
			for b.Loop() {
				v = x.Copy().Merge(y)
			}
			got = pairsOfSyncthing(v)
		case implGoVector:
			x, y := govecClock(ca), govecClock(cb)
			var v vclock.VClock
			for b.Loop() {
				v = x.Copy()
				v.Merge(y)
			}
			got = pairsOfGoVector(v)
		case implBaseline:
			x, y := ca.AsPairs(), cb.AsPairs()
			for b.Loop() {
				got = x.Join(y)
			}
		}
		checkPairs(b, impl, got, want)
	})
}

// BenchmarkJoinInPlace joins a vector into an accumulator that already
// holds the same replicas: concord's version.Builder, syncthing's Merge on a
// vector it owns, GoVector's Merge, the baseline's JoinInPlace.
func BenchmarkJoinInPlace(b *testing.B) {
	matrix(b, vectorImpls, nil, Sizes, func(b *testing.B, impl, _ string, n int) {
		ca, cb := JoinPair(n)
		want := ca.AsPairs().Join(cb.AsPairs())
		var got Pairs
		switch impl {
		case implConcord:
			var acc version.Builder
			acc.Join(concordVector(ca))
			y := concordVector(cb)
			for b.Loop() {
				acc.Join(y)
			}
			got = pairsOfConcord(acc.Vector())
		case implSyncthing:
			acc, y := syncthingVector(ca), syncthingVector(cb)
			for b.Loop() {
				acc = acc.Merge(y)
			}
			got = pairsOfSyncthing(acc)
		case implGoVector:
			acc, y := govecClock(ca), govecClock(cb)
			for b.Loop() {
				acc.Merge(y)
			}
			got = pairsOfGoVector(acc)
		case implBaseline:
			acc, y := ca.AsPairs(), cb.AsPairs()
			for b.Loop() {
				acc = acc.JoinInPlace(y)
			}
			got = acc
		}
		checkPairs(b, impl, got, want)
	})
}

// BenchmarkDVVDescends asks whether a write v descends from an earlier write
// w that v's writer had seen. concord's DVV answers with one lookup of w's
// dot in v's past, as aalpar's dot context does with one map probe; a plain
// vector implementation must compare the two writes' whole vectors.
func BenchmarkDVVDescends(b *testing.B) {
	impls := append([]string{implAalpar}, vectorImpls...)
	matrix(b, impls, nil, Sizes, func(b *testing.B, impl, _ string, n int) {
		past, vi, wi, vv, wv := DVVShape(n)
		var ok bool
		switch impl {
		case implConcord:
			v, err := dvv.New(version.Dot{ID: concordID(vi), Counter: vv[vi]}, concordVector(past))
			if err != nil {
				b.Fatal(err)
			}
			w, err := dvv.New(version.Dot{ID: concordID(wi), Counter: past[wi]}, version.Vector{})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				ok = v.Descends(w)
			}
		case implAalpar:
			ctx := aalparContext(vv)
			d := aalparDot(wi, past[wi])
			for b.Loop() {
				ok = ctx.Has(d)
			}
		case implSyncthing:
			x, y := syncthingVector(vv), syncthingVector(wv)
			var o protocol.Ordering
			for b.Loop() {
				o = x.Compare(y)
			}
			ok = o == protocol.Greater
		case implGoVector:
			x, y := govecClock(vv), govecClock(wv)
			for b.Loop() {
				ok = x.Compare(y, vclock.Ancestor)
			}
		case implBaseline:
			x, y := vv.AsPairs(), wv.AsPairs()
			var o Order
			for b.Loop() {
				o = x.Compare(y)
			}
			ok = o == After
		}
		if !ok {
			b.Fatalf("%s: v does not descend from w", impl)
		}
	})
}

// BenchmarkEncode encodes a vector into a reused buffer where the API allows
// it, and reports the encoding's size as bytes/enc. concord encodes its
// canonical token (names, incarnations, counters); syncthing its protobuf
// wire form (ToWire, then proto.MarshalAppend); GoVector gob (Bytes, its
// only encoding); the baseline uvarints.
func BenchmarkEncode(b *testing.B) {
	matrix(b, vectorImpls, nil, Sizes, func(b *testing.B, impl, _ string, n int) {
		c := RandomCounters(n)
		buf := make([]byte, 0, 8192)
		switch impl {
		case implConcord:
			v := concordVector(c)
			for b.Loop() {
				buf, _ = v.AppendBinary(buf[:0])
			}
		case implSyncthing:
			v := syncthingVector(c)
			for b.Loop() {
				var err error
				buf, err = proto.MarshalOptions{}.MarshalAppend(buf[:0], v.ToWire())
				if err != nil {
					b.Fatal(err)
				}
			}
		case implGoVector:
			v := govecClock(c)
			for b.Loop() {
				buf = v.Bytes()
			}
		case implBaseline:
			v := c.AsPairs()
			for b.Loop() {
				buf = v.AppendBinary(buf[:0])
			}
		}
		b.ReportMetric(float64(len(buf)), "bytes/enc")
	})
}

// BenchmarkDecode decodes what BenchmarkEncode wrote into a new vector.
// concord's decoder validates everything (sorted unique replicas, name
// bytes, canonical varints, limits); the others check what their formats do.
func BenchmarkDecode(b *testing.B) {
	matrix(b, vectorImpls, nil, Sizes, func(b *testing.B, impl, _ string, n int) {
		c := RandomCounters(n)
		want := c.AsPairs()
		var got Pairs
		var size int
		switch impl {
		case implConcord:
			data, _ := concordVector(c).MarshalBinary()
			size = len(data)
			var v version.Vector
			for b.Loop() {
				var err error
				if err = v.UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
			}
			got = pairsOfConcord(v)
		case implSyncthing:
			sv := syncthingVector(c)
			template := sv.ToWire()
			data, err := proto.Marshal(template)
			if err != nil {
				b.Fatal(err)
			}
			size = len(data)
			var v protocol.Vector
			for b.Loop() {
				w := newOf(template)
				if err := proto.Unmarshal(data, w); err != nil {
					b.Fatal(err)
				}
				v = protocol.VectorFromWire(w)
			}
			got = pairsOfSyncthing(v)
		case implGoVector:
			data := govecClock(c).Bytes()
			size = len(data)
			var v vclock.VClock
			for b.Loop() {
				var err error
				if v, err = vclock.FromBytes(data); err != nil {
					b.Fatal(err)
				}
			}
			got = pairsOfGoVector(v)
		case implBaseline:
			data := want.AppendBinary(nil)
			size = len(data)
			for b.Loop() {
				var err error
				if got, err = DecodePairs(data); err != nil {
					b.Fatal(err)
				}
			}
		}
		checkPairs(b, impl, got, want)
		b.ReportMetric(float64(size), "bytes/enc")
	})
}
