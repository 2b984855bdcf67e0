package policy

import (
	"maps"
	"slices"
	"testing"

	"github.com/harborpoint/concord/version"
	"pgregory.net/rapid"
)

var builderIDs = []version.ID{version.MustID("baltimore"), version.MustID("faro"), version.MustID("lisbon")}

// awCall is one call on a set or a builder.
type awCall struct {
	kind string // "add", "remove", "join"
	elem int
	dot  version.Dot    // add
	vec  version.Vector // join
}

func drawDot(t *rapid.T, label string) version.Dot {
	return version.Dot{
		ID:      rapid.SampledFrom(builderIDs).Draw(t, label+" id"),
		Counter: rapid.Uint64Range(1, 12).Draw(t, label+" counter"),
	}
}

// drawCalls draws a sequence of calls over a few elements and dots, with
// repeated elements, repeated and out-of-order dots, removes of absent
// elements and joins of vectors that cover some dots and leave gaps.
func drawCalls(t *rapid.T, label string) []awCall {
	n := rapid.IntRange(0, 40).Draw(t, label+" length")
	// Mostly ascending adds, the builder's fast path (starting above or
	// below the set's elements), now and then broken by a repeated or lower
	// element, a remove or a join; or elements in any order.
	ascending := rapid.Bool().Draw(t, label+" ascending")
	kinds := []string{"add", "add", "add", "remove", "join"}
	if ascending {
		kinds = []string{"add", "add", "add", "add", "add", "add", "add", "add", "add", "add", "remove", "join"}
	}
	elem := rapid.IntRange(0, 200).Draw(t, label+" first elem")
	calls := make([]awCall, n)
	for i := range calls {
		c := awCall{kind: rapid.SampledFrom(kinds).Draw(t, label+" kind")}
		if ascending {
			elem += rapid.SampledFrom([]int{1, 1, 1, 1, 2, 3, 3, 3, 0, -3}).Draw(t, label+" step")
			c.elem = elem
		} else {
			c.elem = rapid.IntRange(0, 9).Draw(t, label+" elem")
		}
		switch c.kind {
		case "add":
			c.dot = drawDot(t, label)
		case "join":
			d := drawDot(t, label)
			v, err := version.NewVector(d)
			if err != nil {
				t.Fatal(err)
			}
			c.vec = v
		}
		calls[i] = c
	}
	return calls
}

// applyCalls is the reference: the calls on the immutable AWSet, one by one.
func applyCalls(s AWSet[int], calls []awCall) AWSet[int] {
	for _, c := range calls {
		switch c.kind {
		case "add":
			s = s.Add(c.elem, c.dot)
		case "remove":
			s = s.Remove(c.elem)
		case "join":
			s = s.JoinContext(c.vec)
		}
	}
	return s
}

func recordCalls(b *AWSetBuilder[int], calls []awCall) {
	for _, c := range calls {
		switch c.kind {
		case "add":
			b.Add(c.elem, c.dot)
		case "remove":
			b.Remove(c.elem)
		case "join":
			b.JoinContext(c.vec)
		}
	}
}

// builderModel is a plain model of what the calls leave: each present
// element with the dot of its last add, and the set of every dot seen.
type builderModel struct {
	elems map[int]version.Dot
	seen  map[version.Dot]bool
}

func (m builderModel) apply(calls []awCall) {
	for _, c := range calls {
		switch c.kind {
		case "add":
			m.elems[c.elem] = c.dot
			m.seen[c.dot] = true
		case "remove":
			delete(m.elems, c.elem)
		case "join":
			for id, n := range c.vec.All() {
				for k := uint64(1); k <= n; k++ {
					m.seen[version.Dot{ID: id, Counter: k}] = true
				}
			}
		}
	}
}

// checkModel checks s against the model: the same elements, each with the
// one dot of its last add, and a context holding exactly the model's dots.
func checkModel(t *rapid.T, s AWSet[int], m builderModel) {
	t.Helper()
	if got, want := s.Elements(), slices.Sorted(maps.Keys(m.elems)); !slices.Equal(got, want) {
		t.Fatalf("elements %v, model says %v", got, want)
	}
	for _, x := range s.entries {
		if len(x.dots) != 1 || x.dots[0] != m.elems[x.elem] || cap(x.dots) != 1 {
			t.Fatalf("element %d has dots %v (cap %d), model says %v", x.elem, x.dots, cap(x.dots), m.elems[x.elem])
		}
	}
	for _, id := range builderIDs {
		for k := uint64(1); k <= 14; k++ {
			d := version.Dot{ID: id, Counter: k}
			if s.seen(d) != m.seen[d] {
				t.Fatalf("context %v: seen(%v) = %v, model says %v", s, d, s.seen(d), m.seen[d])
			}
		}
	}
}

// TestAWSetBuilderMatchesAdd checks that a builder, started from any set
// and given any calls, returns exactly the set the same calls on AWSet
// return (Equal: elements, dots and context), that both agree with a plain
// model, that a builder keeps building after AWSet, and that the sets it
// returned are not changed by its later calls.
func TestAWSetBuilderMatchesAdd(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := builderModel{elems: map[int]version.Dot{}, seen: map[version.Dot]bool{}}
		baseCalls := drawCalls(t, "base")
		base := applyCalls(AWSet[int]{}, baseCalls)
		m.apply(baseCalls)

		var b AWSetBuilder[int]
		if rapid.Bool().Draw(t, "reuse") {
			// A used builder, Reset, must not remember its past.
			recordCalls(&b, drawCalls(t, "past"))
			_ = b.AWSet()
		}
		b.Reset(base)
		want := base
		var built []AWSet[int]
		var shown []string
		for round := range rapid.IntRange(1, 3).Draw(t, "rounds") {
			calls := drawCalls(t, "calls")
			want = applyCalls(want, calls)
			m.apply(calls)
			recordCalls(&b, calls)
			got := b.AWSet()
			if !got.Equal(want) {
				t.Fatalf("round %d: builder gives %v dots %s, Add/Remove/JoinContext give %v dots %s", round, got, dotsString(got), want, dotsString(want))
			}
			checkModel(t, got, m)
			built = append(built, got)
			shown = append(shown, got.String()+dotsString(got))
		}
		for i, s := range built {
			if s.String()+dotsString(s) != shown[i] {
				t.Fatalf("set %d changed after later calls: %v, was %s", i, s, shown[i])
			}
		}
	})
}

func dotsString(s AWSet[int]) string {
	var out []byte
	for _, x := range s.entries {
		for _, d := range x.dots {
			out = append(out, d.String()...)
			out = append(out, ' ')
		}
	}
	return string(out)
}

// TestAWSetBuilderEmpty checks the zero builder and a builder with nothing
// recorded: both return the set they build on.
func TestAWSetBuilderEmpty(t *testing.T) {
	var b AWSetBuilder[string]
	if s := b.AWSet(); !s.Equal(AWSet[string]{}) || s.Len() != 0 {
		t.Fatalf("zero builder: %v", s)
	}
	s := AWSet[string]{}.Add("x", version.Dot{ID: builderIDs[0], Counter: 1})
	b.Reset(s)
	if got := b.AWSet(); !got.Equal(s) {
		t.Fatalf("nothing recorded: %v, want %v", got, s)
	}
	b.Remove("x")
	if got := b.AWSet(); got.Len() != 0 || !got.seen(version.Dot{ID: builderIDs[0], Counter: 1}) {
		t.Fatalf("after removing the only element: %v", got)
	}
}

// TestAWSetBuilderInvalidDot checks that Add, like AWSet.Add, refuses an
// invalid dot.
func TestAWSetBuilderInvalidDot(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Add with the zero dot did not panic")
		}
	}()
	var b AWSetBuilder[string]
	b.Add("x", version.Dot{})
}
