// Package fieldmodel is the plain model of per-field last-writer-wins that
// package resolve and package replica are checked against.
//
// A record has a fixed number of fields. Every write is kept with its causal
// history (an explicit set of dots, see package dotmodel), its stamp, and the
// fields it changed: the fields whose new value differs from the value of
// that field in the record the write read. A write that read nothing changes
// every field. The value of field k in the record whose causal history is h
// is the value of one write: among the writes in h that changed k and that
// no other write in h changing k had seen (not causally overwritten), the
// one with the greatest stamp. Nothing is compact or incremental; every
// read follows the definition.
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
	// them the write changed.
	Values  []V
	Changed []bool
}

// Model holds every write made to one record. The zero Model has no fields
// and no writes; make one with [New].
type Model[V comparable] struct {
	fields int
	writes []Write[V]
}

// New returns a model of a record with the given number of fields.
func New[V comparable](fields int) *Model[V] { return &Model[V]{fields: fields} }

// Write records a write with dot and stamp that read the record whose
// history is read and wrote values, one per field, and returns it. The
// fields it changed are those whose value differs from the value read;
// with nothing read (read has no write of this record), every field.
func (m *Model[V]) Write(read dotmodel.History, dot version.Dot, stamp version.Stamp, values []V) Write[V] {
	base, found := m.Read(read)
	w := Write[V]{Dot: dot, Stamp: stamp, History: read.Clone(), Values: append([]V(nil), values...), Changed: make([]bool, m.fields)}
	w.History[dot] = struct{}{}
	for k := range w.Changed {
		w.Changed[k] = !found[k] || values[k] != base[k]
	}
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
// history is h: the greatest stamp among the writes in h that changed k and
// that no other write in h changing k had seen.
func (m *Model[V]) Winner(h dotmodel.History, k int) (Write[V], bool) {
	var (
		best  Write[V]
		found bool
	)
	for _, w := range m.writes {
		if !h.Contains(w.Dot) || !w.Changed[k] || m.overwritten(h, w.Dot, k) {
			continue
		}
		if !found || w.Stamp.Compare(best.Stamp) > 0 {
			best, found = w, true
		}
	}
	return best, found
}

// overwritten reports whether a write in h other than d changed field k
// having seen d.
func (m *Model[V]) overwritten(h dotmodel.History, d version.Dot, k int) bool {
	for _, o := range m.writes {
		if o.Dot != d && h.Contains(o.Dot) && o.Changed[k] && o.History.Contains(d) {
			return true
		}
	}
	return false
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
