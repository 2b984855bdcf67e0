// Package fieldmodel is the plain model of per-field last-writer-wins that
// package resolve and package replica are checked against.
//
// A record has a fixed number of fields. Every write is kept with its causal
// history (an explicit set of dots, see package dotmodel: what it read, and
// its own dot), its stamp, the values it wrote, and per field its source:
// the write whose value the field holds in the record it left. A write
// changes a field when the value it writes differs from the value of that
// field in the record it read (every field, when it read nothing); a field
// it changes has the write itself as its source, a field it leaves equal
// keeps the source it had in the record read.
//
// The record whose causal history is h is read from the maximal writes of h
// (those no other write of h had seen: the siblings a replica holds). For
// field k, each maximal write offers its source of k as a candidate. A
// candidate is replaced when a maximal write whose writer had seen it offers
// another one: that writer saw the value and something else took its place
// in its record. A candidate that is not replaced wins over every one that
// is, whatever the stamps; among candidates alike in that, the greatest
// stamp wins. So stamps order only values whose writers did not see each
// other, and a write never loses a field to the very value it replaced, even
// when its clock was behind and stamped it earlier than that value. (When
// stamps follow causality, as a hybrid logical clock within its drift bound
// makes them, this is the field's latest change among those no later change
// of it had seen.)
//
// Nothing is compact or incremental: every read follows the definition over
// explicit histories.
package fieldmodel

import (
	"github.com/harborpoint/concord/internal/dotmodel"
	"github.com/harborpoint/concord/version"
)

// Write is one write of the model.
type Write[V comparable] struct {
	Dot   version.Dot
	Stamp version.Stamp
	// History is the write's causal history: what it read, and its dot.
	History dotmodel.History
	// Values are the record's fields as written; Changed says which of
	// them the write changed, Source which write's value each field holds
	// in the record the write left (the write itself where it changed it).
	Values  []V
	Changed []bool
	Source  []version.Dot
	// Tombstone marks a delete: it hides the writes it had seen from the
	// maximal writes, and offers no value (see [Model.Delete]).
	Tombstone bool
}

// Model holds every write made to one record. The zero Model has no fields
// and no writes; make one with [New].
type Model[V comparable] struct {
	fields int
	writes []Write[V]
	byDot  map[version.Dot]int
}

// New returns a model of a record with the given number of fields.
func New[V comparable](fields int) *Model[V] {
	return &Model[V]{fields: fields, byDot: map[version.Dot]int{}}
}

// Write records a write with dot and stamp that read the record whose
// history is read and wrote values, one per field, and returns it. The
// fields it changed are those whose value differs from the value read;
// with nothing read (read has no write of this record), every field.
func (m *Model[V]) Write(read dotmodel.History, dot version.Dot, stamp version.Stamp, values []V) Write[V] {
	w := Write[V]{Dot: dot, Stamp: stamp, History: read.Clone(), Values: append([]V(nil), values...),
		Changed: make([]bool, m.fields), Source: make([]version.Dot, m.fields)}
	w.History[dot] = struct{}{}
	for k := range w.Changed {
		base, found := m.Winner(read, k)
		w.Changed[k] = !found || values[k] != base.Values[k]
		w.Source[k] = dot
		if !w.Changed[k] {
			w.Source[k] = base.Dot
		}
	}
	m.byDot[dot] = len(m.writes)
	m.writes = append(m.writes, w)
	return w
}

// WriteOver records a write with dot and stamp made over a conflict or a
// deletion: it read the record whose history is read, whose live branches
// (the histories given; a tombstone is none) could not be merged, and
// wrote values. What the branches agree on is its base, and nothing else
// is (resolve's Change.Base): a field it changed is one the branches do not
// all hold with one value, or whose value it changed — every field, with no
// branch; a field it left equal keeps the source with the latest stamp
// among the branches'.
func (m *Model[V]) WriteOver(read dotmodel.History, branches []dotmodel.History, dot version.Dot, stamp version.Stamp, values []V) Write[V] {
	w := Write[V]{Dot: dot, Stamp: stamp, History: read.Clone(), Values: append([]V(nil), values...),
		Changed: make([]bool, m.fields), Source: make([]version.Dot, m.fields)}
	w.History[dot] = struct{}{}
	for k := range w.Changed {
		var src Write[V]
		w.Changed[k] = len(branches) == 0
		for _, b := range branches {
			base, found := m.Winner(b, k)
			w.Changed[k] = w.Changed[k] || !found || values[k] != base.Values[k]
			if found && base.Stamp.Compare(src.Stamp) > 0 {
				src = base
			}
		}
		w.Source[k] = dot
		if !w.Changed[k] {
			w.Source[k] = src.Dot
		}
	}
	m.byDot[dot] = len(m.writes)
	m.writes = append(m.writes, w)
	return w
}

// Delete records a delete with dot and stamp that read the record whose
// history is read: a tombstone. It hides the writes it had seen, but a
// tombstone offers no candidate for any field and replaces none: where a
// write concurrent with it survives, the record is that write's.
func (m *Model[V]) Delete(read dotmodel.History, dot version.Dot, stamp version.Stamp) Write[V] {
	w := Write[V]{Dot: dot, Stamp: stamp, History: read.Clone(), Values: make([]V, m.fields),
		Changed: make([]bool, m.fields), Source: make([]version.Dot, m.fields), Tombstone: true}
	w.History[dot] = struct{}{}
	m.byDot[dot] = len(m.writes)
	m.writes = append(m.writes, w)
	return w
}

// Read returns the fields of the record whose history is h, and for each
// whether some write in h set it.
func (m *Model[V]) Read(h dotmodel.History) ([]V, []bool) {
	vals, found := make([]V, m.fields), make([]bool, m.fields)
	for k := range vals {
		if w, ok := m.Winner(h, k); ok {
			vals[k], found[k] = w.Values[k], true
		}
	}
	return vals, found
}

// Winner returns the write whose value field k holds in the record whose
// history is h (see the package documentation).
func (m *Model[V]) Winner(h dotmodel.History, k int) (Write[V], bool) {
	top := m.maximal(h)
	var (
		best     Write[V]
		bestLive bool
		found    bool
	)
	for _, w := range top {
		if w.Tombstone {
			continue
		}
		c := m.writes[m.byDot[w.Source[k]]]
		live := !replaced(top, c.Dot, k)
		if !found || live && !bestLive || live == bestLive && c.Stamp.Compare(best.Stamp) > 0 {
			best, bestLive, found = c, live, true
		}
	}
	return best, found
}

// replaced reports whether a write of top had seen the write d and holds
// another source of field k.
func replaced[V comparable](top []Write[V], d version.Dot, k int) bool {
	for _, o := range top {
		if !o.Tombstone && o.Source[k] != d && o.History.Contains(d) {
			return true
		}
	}
	return false
}

// maximal returns the writes in h that no other write in h had seen.
func (m *Model[V]) maximal(h dotmodel.History) []Write[V] {
	var out []Write[V]
	for _, w := range m.writes {
		if !h.Contains(w.Dot) {
			continue
		}
		seen := false
		for _, o := range m.writes {
			if o.Dot != w.Dot && h.Contains(o.Dot) && o.History.Contains(w.Dot) {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, w)
		}
	}
	return out
}

// Writes returns the writes in h, in the order they were made.
func (m *Model[V]) Writes(h dotmodel.History) []Write[V] {
	var out []Write[V]
	for _, w := range m.writes {
		if h.Contains(w.Dot) {
			out = append(out, w)
		}
	}
	return out
}
