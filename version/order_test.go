package version_test

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/internal/dvv"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/version"
)

// idPool is small on purpose, so random vectors share replicas and compare
// every way. "a" and "ab" check that a name orders before its extensions.
var idPool = []version.ID{
	version.MustID("a"), version.MustID("a#1"), version.MustID("ab"),
	version.MustID("b"), version.MustID("lisbon"), version.MustID("lisbon#7"),
	version.MustID("zzzzzzzzzzzzzzzz"),
}

func genID() *rapid.Generator[version.ID] { return rapid.SampledFrom(idPool) }

// genVector draws vectors over idPool with small counters, so that equal,
// ordered and concurrent pairs are all common.
func genVector() *rapid.Generator[version.Vector] {
	return rapid.Custom(func(t *rapid.T) version.Vector {
		counters := rapid.SliceOfN(rapid.Uint64Range(0, 3), len(idPool), len(idPool)).Draw(t, "counters")
		var dots []version.Dot
		for i, n := range counters {
			if n > 0 {
				dots = append(dots, version.Dot{ID: idPool[i], Counter: n})
			}
		}
		v, err := version.NewVector(dots...)
		if err != nil {
			t.Fatalf("NewVector(%v): %v", dots, err)
		}
		return v
	})
}

// naiveCompare compares vectors entry by entry over the union of replicas.
func naiveCompare(a, b version.Vector) version.Order {
	aMore, bMore := false, false
	for _, id := range idPool {
		switch x, y := a.Get(id), b.Get(id); {
		case x > y:
			aMore = true
		case x < y:
			bMore = true
		}
	}
	return orderOf(aMore, bMore)
}

// orderOf is the order of a relative to b, given whether a has a counter
// above b's and whether b has one above a's.
func orderOf(aMore, bMore bool) version.Order {
	switch {
	case aMore && bMore:
		return version.Concurrent
	case aMore:
		return version.After
	case bMore:
		return version.Before
	}
	return version.Equal
}

func TestVectorPartialOrder(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		a, b, c := genVector().Draw(t, "a"), genVector().Draw(t, "b"), genVector().Draw(t, "c")
		if got := a.Compare(a); got != version.Equal {
			t.Fatalf("%v Compare itself = %v", a, got)
		}
		ab, ba := a.Compare(b), b.Compare(a)
		if want := naiveCompare(a, b); ab != want {
			t.Fatalf("%v Compare %v = %v, naive %v", a, b, ab, want)
		}
		if ba != mirror(ab) {
			t.Fatalf("Compare not mirrored: %v vs %v: %v and %v", a, b, ab, ba)
		}
		if (ab == version.Equal) != a.Equal(b) {
			t.Fatalf("%v, %v: Compare %v but Equal %v (antisymmetry)", a, b, ab, a.Equal(b))
		}
		if a.Descends(b) != ab.Descends() {
			t.Fatalf("%v Descends %v = %v, Compare %v", a, b, a.Descends(b), ab)
		}
		if a.Descends(b) && b.Descends(c) && !a.Descends(c) {
			t.Fatalf("not transitive: %v ≥ %v ≥ %v", a, b, c)
		}
		// Same replicas in the same order take the fast path; vectors that
		// differ take the merge walk. Both must agree with the naive order.
		for _, pair := range [][2]version.Vector{{a, c}, {b, c}} {
			if got, want := pair[0].Compare(pair[1]), naiveCompare(pair[0], pair[1]); got != want {
				t.Fatalf("%v Compare %v = %v, naive %v", pair[0], pair[1], got, want)
			}
		}
	})
}

func TestVectorJoinIsLeastUpperBound(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		a, b, c := genVector().Draw(t, "a"), genVector().Draw(t, "b"), genVector().Draw(t, "c")
		j := a.Join(b)
		if !j.Descends(a) || !j.Descends(b) {
			t.Fatalf("%v ⊔ %v = %v does not descend both", a, b, j)
		}
		if c.Descends(a) && c.Descends(b) && !c.Descends(j) {
			t.Fatalf("%v descends %v and %v but not their join %v", c, a, b, j)
		}
		for _, id := range idPool {
			if got, want := j.Get(id), max(a.Get(id), b.Get(id)); got != want {
				t.Fatalf("(%v ⊔ %v)[%v] = %d, want %d", a, b, id, got, want)
			}
		}
		if !j.Equal(b.Join(a)) || !a.Join(a).Equal(a) || !a.Join(b.Join(c)).Equal(j.Join(c)) {
			t.Fatalf("join of %v, %v, %v not commutative, idempotent and associative", a, b, c)
		}
		if got := dotmodel.FromVector(j); !got.SubsetOf(dotmodel.FromVector(a).Union(dotmodel.FromVector(b))) {
			t.Fatalf("%v ⊔ %v = %v covers dots neither side had", a, b, j)
		}
	})
}

func TestBuilderJoinEqualsVectorJoin(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		vs := rapid.SliceOfN(genVector(), 0, 8).Draw(t, "vectors")
		var b version.Builder
		var want version.Vector
		for i, v := range vs {
			if rapid.Bool().Draw(t, "reset") && i > 0 {
				b.Reset()
				want = version.Vector{}
			}
			if rapid.Bool().Draw(t, "add") {
				for id, n := range v.All() {
					b.Add(version.Dot{ID: id, Counter: n})
				}
			} else {
				b.Join(v)
			}
			want = want.Join(v)
			if got := b.Vector(); !got.Equal(want) {
				t.Fatalf("after %d: Builder %v, Vector.Join %v", i, got, want)
			}
		}
		// Vector returns a copy: joining more must not change it.
		snap := b.Vector()
		before := snap.String()
		b.Join(version.MustVector("{zzzzzzzzzzzzzzzz:9 a:9 b:9}"))
		if snap.String() != before {
			t.Fatalf("Builder.Vector shares memory with the builder: %v became %v", before, snap)
		}
	})
}

func TestIncrement(t *testing.T) {
	proof.Check(t, proof.Histories(t, 100), func(t *rapid.T) {
		v, id := genVector().Draw(t, "v"), genID().Draw(t, "id")
		w, d, err := v.Increment(id)
		if err != nil {
			t.Fatalf("Increment: %v", err)
		}
		if d != (version.Dot{ID: id, Counter: v.Get(id) + 1}) || v.Contains(d) || !w.Contains(d) {
			t.Fatalf("%v.Increment(%v) = %v, %v", v, id, w, d)
		}
		if w.Compare(v) != version.After || w.Len() != v.Join(w).Len() {
			t.Fatalf("%v.Increment(%v) = %v does not strictly descend", v, id, w)
		}
	})
}

// genWrites draws the versions of writes made through sibling clocks on a
// few replicas, each with a context read earlier, and the model history of
// each (its context's dots plus its own).
func genWrites(t *rapid.T) []write {
	ids := []version.ID{version.MustID("x"), version.MustID("y"), version.MustID("z")}
	clocks := make([]version.Clock[int], len(ids))
	var ctxs []version.Vector
	var out []write
	steps := rapid.IntRange(1, 24).Draw(t, "steps")
	for i := range steps {
		r := rapid.IntRange(0, len(ids)-1).Draw(t, "replica")
		switch rapid.IntRange(0, 2).Draw(t, "op") {
		case 0: // read
			ctxs = append(ctxs, clocks[r].Join())
		case 1: // write with a context read earlier, or none
			var ctx version.Vector
			if len(ctxs) > 0 && rapid.Bool().Draw(t, "withCtx") {
				ctx = ctxs[rapid.IntRange(0, len(ctxs)-1).Draw(t, "ctx")]
			}
			c, d, err := clocks[r].Update(ctx, i, ids[r])
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			clocks[r] = c
			ver, err := dvv.New(d, ctx)
			if err != nil {
				t.Fatalf("dvv.New: %v", err)
			}
			h := dotmodel.FromVector(ctx)
			h[d] = struct{}{}
			out = append(out, write{ver, h})
		default: // sync
			o := rapid.IntRange(0, len(ids)-1).Draw(t, "other")
			clocks[r] = clocks[r].Sync(clocks[o])
		}
	}
	return out
}

func TestDVVPartialOrder(t *testing.T) {
	proof.Check(t, proof.Histories(t, 200), func(t *rapid.T) {
		ws := genWrites(t)
		for _, a := range ws {
			for _, b := range ws {
				ab := a.dvv.Compare(b.dvv)
				if want := a.hist.Compare(b.hist); ab != want {
					t.Fatalf("%v Compare %v = %v, model %v", a.dvv, b.dvv, ab, want)
				}
				if b.dvv.Compare(a.dvv) != mirror(ab) {
					t.Fatalf("Compare not mirrored for %v, %v", a.dvv, b.dvv)
				}
				if (ab == version.Equal) != (a.dvv.Dot() == b.dvv.Dot()) {
					t.Fatalf("%v, %v: Compare %v (antisymmetry)", a.dvv, b.dvv, ab)
				}
				if a.dvv.Descends(b.dvv) != ab.Descends() {
					t.Fatalf("%v Descends %v = %v, Compare %v", a.dvv, b.dvv, a.dvv.Descends(b.dvv), ab)
				}
				if !a.dvv.Vector().Descends(a.dvv.Past()) || !a.dvv.Vector().Contains(a.dvv.Dot()) {
					t.Fatalf("%v.Vector() = %v", a.dvv, a.dvv.Vector())
				}
				for _, c := range ws {
					if a.dvv.Descends(b.dvv) && b.dvv.Descends(c.dvv) && !a.dvv.Descends(c.dvv) {
						t.Fatalf("not transitive: %v ≥ %v ≥ %v", a.dvv, b.dvv, c.dvv)
					}
				}
			}
		}
	})
}

func TestNewDVVRejects(t *testing.T) {
	lis := version.MustID("lisbon")
	if _, err := dvv.New(version.Dot{ID: lis, Counter: 3}, version.MustVector("{lisbon:3}")); err == nil {
		t.Error("dvv.New accepted a dot its own context covers")
	}
	if _, err := dvv.New(version.Dot{ID: lis}, version.Vector{}); err == nil {
		t.Error("dvv.New accepted a zero counter")
	}
	if _, err := dvv.New(version.Dot{Counter: 1}, version.Vector{}); err == nil {
		t.Error("dvv.New accepted a zero ID")
	}
}

// TestDVVLookup checks DVV.Descends against Vector.Get on pasts of every size,
// small ones (scanned) and large ones (hash indexed), for present and absent
// replicas.
func TestDVVLookup(t *testing.T) {
	proof.Check(t, proof.Histories(t, 60), func(t *rapid.T) {
		v := genAnyVector().Draw(t, "past")
		n := rapid.IntRange(0, 40).Draw(t, "extra")
		dots := make([]version.Dot, 0, v.Len()+n)
		for id, c := range v.All() {
			dots = append(dots, version.Dot{ID: id, Counter: c})
		}
		for i := range n {
			id, err := version.NewID(fmt.Sprintf("r%d", i), uint64(i%3))
			if err != nil || v.Get(id) != 0 {
				continue
			}
			dots = append(dots, version.Dot{ID: id, Counter: uint64(i + 1)})
		}
		past, err := version.NewVector(dots...)
		if err != nil {
			t.Fatalf("NewVector: %v", err)
		}
		me := version.MustID("me")
		d, err := dvv.New(version.Dot{ID: me, Counter: past.Get(me) + 1}, past)
		if err != nil {
			t.Fatalf("dvv.New: %v", err)
		}
		probe := append(slices.Clone(dots), version.Dot{ID: version.MustID("absent"), Counter: 1},
			version.Dot{ID: version.MustID("r1#7"), Counter: 1})
		for _, p := range probe {
			for _, c := range []uint64{1, p.Counter, min(p.Counter+1, version.MaxCounter)} {
				w, err := dvv.New(version.Dot{ID: p.ID, Counter: c}, version.Vector{})
				if err != nil {
					t.Fatalf("dvv.New: %v", err)
				}
				if got, want := d.Descends(w), c <= past.Get(p.ID); got != want {
					t.Fatalf("past %v (%d entries): Descends(%v) = %v, want %v", past, past.Len(), w.Dot(), got, want)
				}
			}
		}
	})
}
