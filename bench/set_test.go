package bench

import (
	"testing"

	"github.com/aalpar/crdt/awset"
	"github.com/aalpar/crdt/lwwregister"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
	grove "github.com/xraph/grove/crdt"
)

// Add-wins (observed-remove) sets and last-writer-wins registers.

var setImpls = []string{implConcord, implAalpar, implGrove}

var (
	lisbonID    = version.MustID(Lisbon)
	baltimoreID = version.MustID(Baltimore)
)

// concordSets builds the merge shape as concord add-wins sets: the shared
// adds at lisbon:1..500, then lisbon:501..1000 on one side and
// baltimore:1..500 on the other.
func concordSets(s SetShape) (x, y policy.AWSet[string]) {
	var base policy.AWSet[string]
	for i, e := range s.Shared {
		base = base.Add(e, version.Dot{ID: lisbonID, Counter: uint64(i + 1)})
	}
	x, y = base, base
	for i, e := range s.Left {
		x = x.Add(e, version.Dot{ID: lisbonID, Counter: uint64(len(s.Shared) + i + 1)})
	}
	for i, e := range s.Right {
		y = y.Add(e, version.Dot{ID: baltimoreID, Counter: uint64(i + 1)})
	}
	return x, y
}

// aalparSets builds the same shape with aalpar's sets, which issue their own
// dots: the same dots as concordSets.
func aalparSets(s SetShape) (x, y *awset.AWSet[string]) {
	base := awset.New[string](Lisbon)
	for _, e := range s.Shared {
		base.Add(e)
	}
	x, y = awset.New[string](Lisbon), awset.New[string](Baltimore)
	x.Merge(base)
	y.Merge(base)
	for _, e := range s.Left {
		x.Add(e)
	}
	for _, e := range s.Right {
		y.Add(e)
	}
	return x, y
}

// groveHLC is the clock of the i-th write (from 1) at node.
func groveHLC(node string, i int) grove.HLC {
	return grove.HLC{Timestamp: int64(i), NodeID: node}
}

// groveSets builds the same shape with grove's OR-sets, tagged by node and
// the clock of the same writes.
func groveSets(s SetShape) (x, y *grove.ORSetState) {
	x, y = grove.NewORSetState(), grove.NewORSetState()
	for i, e := range s.Shared {
		mustGrove(x.Add(e, Lisbon, groveHLC(Lisbon, i+1)))
		mustGrove(y.Add(e, Lisbon, groveHLC(Lisbon, i+1)))
	}
	for i, e := range s.Left {
		mustGrove(x.Add(e, Lisbon, groveHLC(Lisbon, len(s.Shared)+i+1)))
	}
	for i, e := range s.Right {
		mustGrove(y.Add(e, Baltimore, groveHLC(Baltimore, i+1)))
	}
	return x, y
}

func mustGrove(err error) {
	if err != nil {
		panic(err)
	}
}

// BenchmarkAWSetAdd adds 1,000 elements one write at a time at one replica,
// starting from the empty set. concord's sets are immutable values, so it
// builds them with a policy.AWSetBuilder, which records the adds and returns
// the set (each AWSet.Add would copy the set; policy's BenchmarkAddWinsBuild
// measures both); aalpar's and grove's change the set in place (aalpar's also
// returns a delta for replication).
func BenchmarkAWSetAdd(b *testing.B) {
	elems := AddElements()
	matrix(b, setImpls, nil, nil, func(b *testing.B, impl, _ string, _ int) {
		var n int
		switch impl {
		case implConcord:
			for b.Loop() {
				var bl policy.AWSetBuilder[string]
				for i, e := range elems {
					bl.Add(e, version.Dot{ID: lisbonID, Counter: uint64(i + 1)})
				}
				n = bl.AWSet().Len()
			}
		case implAalpar:
			for b.Loop() {
				s := awset.New[string](Lisbon)
				for _, e := range elems {
					s.Add(e)
				}
				n = s.Len()
			}
		case implGrove:
			for b.Loop() {
				s := grove.NewORSetState()
				for i, e := range elems {
					if err := s.Add(e, Lisbon, groveHLC(Lisbon, i+1)); err != nil {
						b.Fatal(err)
					}
				}
				n = len(s.Entries)
			}
		}
		if n != len(elems) {
			b.Fatalf("%s: %d elements, want %d", impl, n, len(elems))
		}
	})
}

// BenchmarkAWSetMerge merges two sets of 1,000 elements, 500 of them shared,
// into a new set of 1,500, leaving both inputs unchanged. concord merges
// through its add-wins policy; aalpar's Merge replaces its receiver's state
// (its inputs are not changed, so it merges into a shallow copy); grove's
// MergeSet returns a new set.
func BenchmarkAWSetMerge(b *testing.B) {
	shape := NewSetShape()
	want := len(shape.Shared) + len(shape.Left) + len(shape.Right)
	matrix(b, setImpls, nil, nil, func(b *testing.B, impl, _ string, _ int) {
		var n int
		switch impl {
		case implConcord:
			x, y := concordSets(shape)
			p := policy.AddWins[string]()
			bx := policy.Branch[policy.AWSet[string]]{Value: x, Stamp: version.Stamp{Dot: version.Dot{ID: lisbonID, Counter: 1000}}}
			by := policy.Branch[policy.AWSet[string]]{Value: y, Stamp: version.Stamp{Dot: version.Dot{ID: baltimoreID, Counter: 500}}}
			var (
				m policy.Branch[policy.AWSet[string]]
				d policy.Decision
			)
			for b.Loop() {
				if err := p.MergeInto(&m, &d, &bx, &by); err != nil {
					b.Fatal(err)
				}
				n = m.Value.Len()
			}
		case implAalpar:
			x, y := aalparSets(shape)
			for b.Loop() {
				m := *x
				m.Merge(y)
				n = m.Len()
			}
		case implGrove:
			x, y := groveSets(shape)
			for b.Loop() {
				n = len(grove.MergeSet(x, y).Entries)
			}
		}
		if n != want {
			b.Fatalf("%s: %d elements, want %d", impl, n, want)
		}
	})
}

// lwwValue is the plain baseline of a last-writer-wins register.
type lwwValue struct {
	Value string
	Time  int64
	Node  uint64
}

func (a lwwValue) merge(b lwwValue) lwwValue {
	if b.Time > a.Time || b.Time == a.Time && b.Node > a.Node {
		return b
	}
	return a
}

// BenchmarkLWWMerge merges two concurrent writes of a string register: "a"
// written at lisbon at time 1 and "b" at baltimore at time 2; "b" wins.
// concord's LWW policy also reports its decision; aalpar keeps both writes'
// dots until Value picks one (the merge is measured, Value is not); grove's
// MergeLWW compares two clocks.
func BenchmarkLWWMerge(b *testing.B) {
	matrix(b, append(setImpls, implBaseline), nil, nil, func(b *testing.B, impl, _ string, _ int) {
		var got string
		switch impl {
		case implConcord:
			p := policy.LWW[string]()
			x := policy.Branch[string]{Value: "a", Stamp: version.Stamp{Time: version.Timestamp{Wall: 1}, Dot: version.Dot{ID: lisbonID, Counter: 1}}}
			y := policy.Branch[string]{Value: "b", Stamp: version.Stamp{Time: version.Timestamp{Wall: 2}, Dot: version.Dot{ID: baltimoreID, Counter: 1}}}
			var (
				m policy.Branch[string]
				d policy.Decision
			)
			for b.Loop() {
				_ = p.MergeInto(&m, &d, &x, &y)
			}
			got = m.Value
		case implAalpar:
			x, y := lwwregister.New[string](Lisbon), lwwregister.New[string](Baltimore)
			x.Set("a", 1)
			y.Set("b", 2)
			var m lwwregister.LWWRegister[string]
			for b.Loop() {
				m = *x
				m.Merge(y)
			}
			got, _, _ = m.Value()
		case implGrove:
			x, err := grove.NewLWWRegister("a", grove.HLC{Timestamp: 1, NodeID: Lisbon}, Lisbon)
			mustGrove(err)
			y, err := grove.NewLWWRegister("b", grove.HLC{Timestamp: 2, NodeID: Baltimore}, Baltimore)
			mustGrove(err)
			var m *grove.LWWRegister
			for b.Loop() {
				m = grove.MergeLWW(x, y)
			}
			mustGrove(m.Decode(&got))
		case implBaseline:
			x := lwwValue{"a", 1, 1}
			y := lwwValue{"b", 2, 2}
			var m lwwValue
			for b.Loop() {
				m = x.merge(y)
			}
			got = m.Value
		}
		if got != "b" {
			b.Fatalf("%s: merged %q, want \"b\"", impl, got)
		}
	})
}
