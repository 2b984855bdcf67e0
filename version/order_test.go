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

// drawVectors draws k vectors, each drawn apart (genVector), or the root
// vector's counters over other replicas, or derived from the root by
// increments of its replicas. Derived vectors share the root's replicas,
// which takes the paths of vectors over shared replicas (counters compared
// and joined without comparing IDs); vectors drawn apart over the same
// replicas take the paths that compare them, and the root's counters over
// other replicas check that those paths compare the replicas at all.
func drawVectors(t *rapid.T, k int) []version.Vector {
	root := genVector().Draw(t, "root")
	out := make([]version.Vector, k)
	for i := range out {
		kind := rapid.IntRange(0, 2).Draw(t, "kind")
		if root.IsZero() || kind == 0 {
			out[i] = genVector().Draw(t, "vector")
			continue
		}
		if kind == 1 {
			ids := rapid.Permutation(idPool).Draw(t, "replicas")[:root.Len()]
			slices.SortFunc(ids, version.ID.Compare)
			var dots []version.Dot
			k := 0
			for _, n := range root.All() {
				dots = append(dots, version.Dot{ID: ids[k], Counter: n})
				k++
			}
			v, err := version.NewVector(dots...)
			if err != nil {
				t.Fatalf("NewVector(%v): %v", dots, err)
			}
			out[i] = v
			continue
		}
		v, ids := root, root.IDs()
		for range rapid.IntRange(0, 3).Draw(t, "increments") {
			var err error
			if v, _, err = v.Increment(rapid.SampledFrom(ids).Draw(t, "id")); err != nil {
				t.Fatalf("Increment: %v", err)
			}
		}
		out[i] = v
	}
	return out
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
		vs := drawVectors(t, 3)
		a, b, c := vs[0], vs[1], vs[2]
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
		vs := drawVectors(t, 3)
		a, b, c := vs[0], vs[1], vs[2]
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
		vs := drawVectors(t, rapid.IntRange(0, 8).Draw(t, "n"))
		var b version.Builder
		var want version.Vector
		// Every vector the builder returned, and its display form then: it
		// shares its replicas with the builder until the builder gains one,
		// and no later join may change it.
		var snaps []version.Vector
		var forms []string
		for i, v := range vs {
			if rapid.Bool().Draw(t, "fromSnapshot") && len(snaps) > 0 {
				// A vector the builder returned, or one step ahead of it:
				// it shares the builder's replicas unless the builder has
				// gained one since, and it is behind the builder or ahead
				// of it — the builder's path over shared replicas.
				s := snaps[rapid.IntRange(0, len(snaps)-1).Draw(t, "snapshot")]
				v = s
				if ids := s.IDs(); len(ids) > 0 && rapid.Bool().Draw(t, "ahead") {
					var err error
					if v, _, err = s.Increment(rapid.SampledFrom(ids).Draw(t, "id")); err != nil {
						t.Fatalf("Increment: %v", err)
					}
				}
			}
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
			got := b.Vector()
			if !got.Equal(want) {
				t.Fatalf("after %d: Builder %v, Vector.Join %v", i, got, want)
			}
			snaps, forms = append(snaps, got), append(forms, got.String())
		}
		for i, v := range snaps {
			if v.String() != forms[i] {
				t.Fatalf("Builder.Vector's result %d changed from %v to %v", i, forms[i], v)
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

// TestVectorsShareReplicas pins what the layout shares: vectors derived from
// one another over the same replicas share them, so that their joins,
// increments and compares touch counters only, and nothing is shared that
// a later change could reach.
func TestVectorsShareReplicas(t *testing.T) {
	x := version.MustVector("{lisbon:3 osaka:1 bristol:2}")
	y, _, err := x.Increment(version.MustID("osaka"))
	if err != nil {
		t.Fatal(err)
	}
	if !version.SharesReplicas(x, y) {
		t.Errorf("Increment of a present replica copied the replicas")
	}
	z := version.MustVector("{lisbon:1 osaka:1 bristol:5}") // the same replicas, drawn apart
	if j := x.Join(z); !version.SharesReplicas(j, x) || !j.Equal(version.MustVector("{lisbon:3 osaka:1 bristol:5}")) {
		t.Errorf("Join over the same replicas: %v, shares x's replicas %v", j, version.SharesReplicas(j, x))
	}
	if n := testing.AllocsPerRun(100, func() { _ = x.Join(z) }); n != 1 {
		t.Errorf("Join over the same replicas allocates %v times, want 1 (the counters)", n)
	}
	w, _, err := x.Increment(version.MustID("zurich"))
	if err != nil || version.SharesReplicas(w, x) || w.Len() != 4 {
		t.Errorf("Increment of a new replica: %v, %v; shares %v", w, err, version.SharesReplicas(w, x))
	}

	c, _, err := version.NewClock(x, "v", version.MustID("osaka"))
	if err != nil {
		t.Fatal(err)
	}
	if !version.SharesReplicas(c.Join(), x) || !version.SharesReplicas(c.Join(), c.Join()) {
		t.Errorf("a clock written with context x does not share x's replicas")
	}
	if n := testing.AllocsPerRun(100, func() { _ = c.Join() }); n != 0 {
		t.Errorf("Clock.Join allocates %v times, want 0", n)
	}

	var b version.Builder
	b.Join(x)
	v := b.Vector()
	b.Join(y)
	if u := b.Vector(); !version.SharesReplicas(u, v) || !u.Equal(y) || !v.Equal(x) {
		t.Errorf("Builder: %v then %v; share %v", v, u, version.SharesReplicas(u, v))
	}
	b.Join(w) // gains zurich: copies the replicas it lent
	if !v.Equal(x) || version.SharesReplicas(b.Vector(), v) {
		t.Errorf("Builder changed a vector it returned: %v", v)
	}
}
