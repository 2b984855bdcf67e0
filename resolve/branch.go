package resolve

import (
	"slices"

	"github.com/harborpoint/concord/version"
)

// Branch is one concurrent branch of a record: a record value, the stamp of
// the write that made it, and the stamp of each bound field.
//
// A field's stamp is the stamp of the write that last changed that field.
// A write changes a field when the field's new value is not equal — by the
// binding's equality, see [Bind] — to its value in the record the write was
// built from; the fields one write changes all take its stamp, so a record is
// never torn within a write, and a field it leaves equal keeps its older
// stamp, so that a concurrent write that never touched the field cannot win
// it with a stale copy. A merged record carries, per field, the stamp its
// merged value came from (see [Resolution]).
//
// A field's stamp also names, by its dot, the write whose value the field
// holds; with Seen, what the branch's writer had read, the resolver tells a
// field value that a concurrent branch's writer saw and replaced from one it
// never saw. The first loses whatever the stamps say (see [Resolver]): a
// write never loses a last-writer-wins field to the value it replaced, even
// when its clock was behind and its stamp earlier than that value's.
//
// Fields holds the field stamps in the order of the resolver's fields. A nil
// Fields means that every field carries Stamp, the common case of a write
// that created the record or changed every field; [Branch.FieldStamp] reads
// either form. A Branch is a value; the resolver never changes the slices
// of a Branch it is given.
type Branch[T any] struct {
	Value T
	// Stamp is the stamp of the write that made this branch: its dot is
	// the branch's sibling dot. For a merged [Resolution] it is the
	// greatest stamp of the merged branches.
	Stamp version.Stamp
	// Fields are the field stamps, by binding order, or nil when they all
	// equal Stamp.
	Fields []version.Stamp
	// Seen is the causal context of the write that made this branch: what
	// its writer had read. The write's history is Seen and the write's own
	// dot (never in Seen). It is zero for a write that read nothing, and for
	// a merged [Resolution] of several branches (whose Version holds the
	// merged history). A branch whose Seen is unknown (a state stored
	// before concord kept it) supersedes nothing by causality; its fields
	// are merged by their policies alone.
	Seen version.Vector
	// Deleted marks a tombstone: the branch of a delete, a causal write
	// with no value (Value is the zero T, Fields nil). A record whose
	// branches are all tombstones is deleted; a tombstone concurrent with a
	// live branch is settled by [Options.OnDelete].
	Deleted bool
}

// FieldStamp returns the stamp of the i-th bound field (in the order the
// fields were given to [New]): the stamp of the write that last changed it.
func (b *Branch[T]) FieldStamp(i int) version.Stamp {
	if i < len(b.Fields) {
		return b.Fields[i]
	}
	return b.Stamp
}

// saw reports whether the writer of b had seen the write d: d is in Seen
// or is b's own write.
func (b *Branch[T]) saw(d version.Dot) bool {
	return d == b.Stamp.Dot || b.Seen.Contains(d)
}

// compactStamps returns fields, or nil when every entry equals stamp, so
// that the common branch carries no per-field stamps at all.
func compactStamps(stamp version.Stamp, fields []version.Stamp) []version.Stamp {
	for i := range fields {
		if !sameStamp(&fields[i], &stamp) {
			return slices.Clone(fields)
		}
	}
	return nil
}

// sameStamp reports whether *a and *b are the same stamp. It is ==, written
// out so that it compiles to a few inline compares, the counters first
// (where two stamps of a merge usually differ): a stamp is six words, and
// == on it calls the runtime's memory compare, the most frequent call of a
// merge (the fold compares stamps to name them in decisions and to compact
// the merged field stamps).
func sameStamp(a, b *version.Stamp) bool {
	return a.Dot.Counter == b.Dot.Counter && a.Time.Wall == b.Time.Wall &&
		a.Time.Logical == b.Time.Logical && a.Dot.ID == b.Dot.ID
}

// compareStamps is a.Compare(*b) through pointers (as policy's is).
// Stamp.Compare takes two six-word stamps by value, copied through the
// stack on every call; the merge compares stamps it holds in place.
func compareStamps(a, b *version.Stamp) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return a.Dot.Compare(b.Dot)
}

// later returns the greater of two stamps.
func later(a, b version.Stamp) version.Stamp {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}
