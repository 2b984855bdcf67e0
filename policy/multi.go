package policy

import (
	"cmp"
	"iter"
)

// Multi is a multi-value register: the value of a single-valued field
// together with every concurrent value it conflicted with. One value means no
// conflict; several mean concurrent writes that [MultiValue] kept rather
// than chose between, for a person or a later write to settle.
//
// A write sets the field to [Single]: the version layer replaces the branches
// the write's context covered, so a write made after reading a conflict
// resolves it. Multi never shrinks by merging.
//
// Multi is an immutable value, safe for concurrent use. The zero Multi holds
// no value (a field never written). It encodes to JSON as a sorted array.
type Multi[V cmp.Ordered] struct {
	set Set[V]
}

// Single returns the register holding the one value v.
func Single[V cmp.Ordered](v V) Multi[V] { return Multi[V]{set: NewSet(v)} }

// NewMulti returns the register holding the given values, as a merge of
// concurrent writes of each would; duplicates are dropped. It is for tests,
// decoding and migrations; a write sets the field with [Single].
func NewMulti[V cmp.Ordered](values ...V) Multi[V] { return Multi[V]{set: NewSet(values...)} }

// Values returns the values held, in ascending order, in a new slice.
func (m Multi[V]) Values() []V { return m.set.Elements() }

// All returns an iterator over the values held, in ascending order.
func (m Multi[V]) All() iter.Seq[V] { return m.set.All() }

// Len returns the number of values held.
func (m Multi[V]) Len() int { return m.set.Len() }

// Value returns the value held and true when there is exactly one;
// otherwise (no value, or a conflict) the zero V and false.
func (m Multi[V]) Value() (V, bool) {
	if m.set.Len() != 1 {
		var zero V
		return zero, false
	}
	return m.set.s[0], true
}

// Conflicted reports whether m holds more than one value.
func (m Multi[V]) Conflicted() bool { return m.set.Len() > 1 }

// Equal reports whether m and o hold the same values.
func (m Multi[V]) Equal(o Multi[V]) bool { return m.set.Equal(o.set) }

// String returns the values in braces, such as "{B-3107 B-3112}".
func (m Multi[V]) String() string { return m.set.String() }

// MarshalJSON encodes m as a JSON array of its values in ascending order.
func (m Multi[V]) MarshalJSON() ([]byte, error) { return m.set.MarshalJSON() }

// UnmarshalJSON decodes a JSON array (or null) into m.
func (m *Multi[V]) UnmarshalJSON(data []byte) error { return m.set.UnmarshalJSON(data) }

// MultiValue returns the policy named "multi-value": the merge keeps every
// value of both branches, so a conflict on a single-valued field is surfaced
// instead of decided. Use it where no rule can choose and losing a value is
// unacceptable, and read [Multi.Conflicted] to route the record for review.
//
// Equal registers merge as [Same]; different ones as [Combined], carrying
// the later stamp.
func MultiValue[V cmp.Ordered]() Policy[Multi[V]] { return multiValue[V]{} }

type multiValue[V cmp.Ordered] struct{}

func (multiValue[V]) Name() string { return "multi-value" }

// Equal implements [Equaler].
func (multiValue[V]) Equal(a, b Multi[V]) bool { return a.Equal(b) }

// MergeInto implements [Policy].
func (p multiValue[V]) MergeInto(out *Branch[Multi[V]], d *Decision, a, b *Branch[Multi[V]]) error {
	if a.Value.Equal(b.Value) {
		sameInto(out, d, p.Name(), a, b, "equal values")
		return nil
	}
	*out = Branch[Multi[V]]{Value: Multi[V]{set: a.Value.set.Union(b.Value.set)}, Stamp: later(a.Stamp, b.Stamp)}
	*d = Decision{Policy: p.Name(), Outcome: Combined, Reason: "kept concurrent values"}
	return nil
}
