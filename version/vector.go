package version

import (
	"fmt"
	"iter"
	"slices"
	"strings"
)

// entry is one replica's counter, as the decoders read it. Counters are
// always >= 1: a replica with nothing seen is absent.
type entry struct {
	id ID
	n  uint64
}

// Vector is a version vector: for each replica, how many of its writes are
// covered. Entries are kept sorted by ID with counters >= 1.
//
// A Vector is an immutable value: methods never change it, and the zero Vector
// is the empty vector (nothing seen). Copying a Vector is cheap and safe; it
// is safe for concurrent use. To join many vectors without allocating, use a
// [Builder].
//
// The replicas are kept apart from the counters, and vectors over the same
// replicas share them: a join or an increment of such vectors writes only
// counters, eight bytes a replica where an entry is thirty-two, and a compare
// of two vectors sharing their replicas reads only counters.
type Vector struct {
	ids []ID     // sorted, distinct; never written once the vector is made, so shared freely
	n   []uint64 // n[i] is ids[i]'s counter, >= 1; len(n) == len(ids)
}

// makeVector returns a vector of k replicas and counters to fill in.
func makeVector(k int) Vector {
	return Vector{make([]ID, k), make([]uint64, k)}
}

// sameIDs reports whether a and b are the same backing array of replicas, as
// vectors derived from one another share: then their counters line up
// without comparing a single ID.
func sameIDs(a, b []ID) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// NewVector returns the vector holding the given dots' counters. Each dot must
// be valid and each replica may appear once; the order does not matter.
func NewVector(dots ...Dot) (Vector, error) {
	if len(dots) == 0 {
		return Vector{}, nil
	}
	for _, d := range dots {
		if !d.Valid() {
			return Vector{}, fmt.Errorf("%w: %v", ErrInvalidDot, d)
		}
	}
	sorted := slices.SortedFunc(slices.Values(dots), func(a, b Dot) int { return a.ID.Compare(b.ID) })
	v := makeVector(len(sorted))
	for i, d := range sorted {
		if i > 0 && d.ID == sorted[i-1].ID {
			return Vector{}, fmt.Errorf("%w: %v", ErrDuplicateReplica, d.ID)
		}
		v.ids[i], v.n[i] = d.ID, d.Counter
	}
	return v, nil
}

// parseVector parses the display form printed by [Vector.String].
func parseVector(s string) (Vector, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "{")
	s = strings.TrimSuffix(s, "}")
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	dots := make([]Dot, 0, len(fields))
	for _, f := range fields {
		d, err := ParseDot(f)
		if err != nil {
			return Vector{}, err
		}
		dots = append(dots, d)
	}
	return NewVector(dots...)
}

// MustVector returns the vector written in the display form printed by
// [Vector.String], such as "{lisbon:3 baltimore#1:2}" (braces optional,
// entries separated by spaces or commas), and panics if s is not one. It is
// for tests and examples, like [net/netip.MustParseAddr]; a token from
// outside the process is read with [ParseToken].
func MustVector(s string) Vector {
	v, err := parseVector(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Len returns the number of replicas with a non-zero counter.
func (v Vector) Len() int { return len(v.ids) }

// IsZero reports whether v is the empty vector.
func (v Vector) IsZero() bool { return len(v.ids) == 0 }

// search returns the index of id in v, or where it would be inserted.
func (v Vector) search(id ID) (int, bool) { return searchIDs(v.ids, id) }

// searchIDs returns the index of id in the sorted replicas ids, or where it
// would be inserted.
func searchIDs(ids []ID, id ID) (int, bool) {
	lo, hi := 0, len(ids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ids[m].less(id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(ids) && ids[lo] == id
}

// Get returns the counter of replica id, 0 if v has none.
func (v Vector) Get(id ID) uint64 {
	if i, ok := v.search(id); ok {
		return v.n[i]
	}
	return 0
}

// Contains reports whether the write d is covered by v.
func (v Vector) Contains(d Dot) bool { return d.Counter <= v.Get(d.ID) }

// All returns an iterator over the replicas and counters of v, in ID order.
func (v Vector) All() iter.Seq2[ID, uint64] {
	return func(yield func(ID, uint64) bool) {
		for i, id := range v.ids {
			if !yield(id, v.n[i]) {
				return
			}
		}
	}
}

// IDs returns the replicas of v in order, in a new slice.
func (v Vector) IDs() []ID {
	ids := make([]ID, len(v.ids))
	copy(ids, v.ids)
	return ids
}

// Equal reports whether v and w hold the same counters.
func (v Vector) Equal(w Vector) bool {
	return (sameIDs(v.ids, w.ids) || slices.Equal(v.ids, w.ids)) && slices.Equal(v.n, w.n)
}

// Compare returns the causal order of v relative to w: [Before] if w descends
// from v, [After] if v descends from w, [Equal] or [Concurrent]. It does not
// allocate.
func (v Vector) Compare(w Vector) Order {
	a, b := v.ids, w.ids
	an, bn := v.n[:len(a)], w.n[:len(b)]
	// Fast paths: the same replicas in the same order, the common case; if
	// the two share them, the counters alone.
	if len(a) == len(b) {
		if sameIDs(a, b) {
			return compareCounters(an, bn)
		}
		var aMore, bMore bool
		i := 0
		for ; i < len(a); i++ {
			if a[i] != b[i] {
				break
			}
			if x, y := an[i], bn[i]; x > y {
				aMore = true
			} else if x < y {
				bMore = true
			}
		}
		if i == len(a) {
			return order(aMore, bMore)
		}
	}
	aMore, bMore := false, false
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			if x, y := an[i], bn[j]; x > y {
				aMore = true
			} else if x < y {
				bMore = true
			}
			i++
			j++
		case a[i].less(b[j]):
			aMore = true
			i++
		default:
			bMore = true
			j++
		}
		if aMore && bMore {
			return Concurrent
		}
	}
	if i < len(a) {
		aMore = true
	}
	if j < len(b) {
		bMore = true
	}
	return order(aMore, bMore)
}

// compareCounters is Compare over two vectors sharing their replicas: the
// counters a and b line up and are of equal length.
func compareCounters(a, b []uint64) Order {
	b = b[:len(a)]
	var aMore, bMore bool
	for i, x := range a {
		aMore = aMore || x > b[i]
		bMore = bMore || x < b[i]
	}
	return order(aMore, bMore)
}

func order(aMore, bMore bool) Order {
	switch {
	case aMore && bMore:
		return Concurrent
	case aMore:
		return After
	case bMore:
		return Before
	default:
		return Equal
	}
}

// Descends reports whether v descends from (or equals) w: every write w
// covers, v covers.
func (v Vector) Descends(w Vector) bool {
	a, b := v.ids, w.ids
	an, bn := v.n[:len(a)], w.n[:len(b)]
	if len(b) > len(a) {
		return false
	}
	if sameIDs(a, b) {
		for i, x := range an {
			if x < bn[i] {
				return false
			}
		}
		return true
	}
	i := 0
	for j, y := range b {
		for i < len(a) && a[i].less(y) {
			i++
		}
		if i == len(a) || a[i] != y || an[i] < bn[j] {
			return false
		}
		i++
	}
	return true
}

// Join returns the least upper bound of v and w: for each replica, the larger
// counter. It does not allocate when one side already descends from the
// other; otherwise it allocates the result's counters, and, unless v and w
// are over the same replicas, its replicas.
//
// The common case, two vectors over the same replicas, is written out here:
// one compare pass, then new counters, the larger of each pair, beside v's
// replicas, which the result shares. (A helper returning the result would
// pass the six-word vector back through memory, stalling on the copy.)
func (v Vector) Join(w Vector) Vector {
	a, b := v.ids, w.ids
	if len(a) != len(b) {
		return joinUnion(v, w)
	}
	b = b[:len(a)]
	an, bn := v.n[:len(a)], w.n[:len(a)]
	aMore, bMore := false, false
	if sameIDs(a, b) {
		for i, x := range an {
			aMore = aMore || x > bn[i]
			bMore = bMore || x < bn[i]
		}
	} else {
		for i := range a {
			if a[i] != b[i] {
				return joinUnion(v, w)
			}
			aMore = aMore || an[i] > bn[i]
			bMore = bMore || an[i] < bn[i]
		}
	}
	switch {
	case !bMore:
		return v
	case !aMore:
		return w
	}
	// A copy raised in place: make and copy together allocate without
	// clearing the memory first.
	out := make([]uint64, len(an))
	copy(out, an)
	for i, y := range bn {
		out[i] = max(out[i], y)
	}
	return Vector{a, out}
}

// joinUnion is Join of two vectors over different replicas.
func joinUnion(v, w Vector) Vector {
	a, b := v.ids, w.ids
	an, bn := v.n[:len(a)], w.n[:len(b)]
	// Count the union and note whether either side already covers the other.
	n, aMore, bMore := 0, false, false
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			if an[i] > bn[j] {
				aMore = true
			} else if an[i] < bn[j] {
				bMore = true
			}
			i++
			j++
		case a[i].less(b[j]):
			aMore = true
			i++
		default:
			bMore = true
			j++
		}
		n++
	}
	if i < len(a) {
		aMore = true
	}
	if j < len(b) {
		bMore = true
	}
	n += len(a) - i + len(b) - j
	if !bMore {
		return v
	}
	if !aMore {
		return w
	}
	return mergeVectors(makeVector(n), v, w)
}

// mergeVectors writes the join of v and w, whose union of replicas is
// exactly len(dst.ids), into dst and returns it.
func mergeVectors(dst, v, w Vector) Vector {
	a, b := v.ids, w.ids
	an, bn := v.n[:len(a)], w.n[:len(b)]
	i, j, k := 0, 0, 0
	for ; i < len(a) && j < len(b); k++ {
		switch {
		case a[i] == b[j]:
			dst.ids[k], dst.n[k] = a[i], max(an[i], bn[j])
			i++
			j++
		case a[i].less(b[j]):
			dst.ids[k], dst.n[k] = a[i], an[i]
			i++
		default:
			dst.ids[k], dst.n[k] = b[j], bn[j]
			j++
		}
	}
	// One of the two has entries left, in order after all the others.
	if i < len(a) {
		copy(dst.ids[k:], a[i:])
		copy(dst.n[k:], an[i:])
	} else {
		copy(dst.ids[k:], b[j:])
		copy(dst.n[k:], bn[j:])
	}
	return dst
}

// Increment returns v with replica id's counter advanced by one, and the dot
// of the new event. It fails with [ErrCounterOverflow] rather than wrap.
func (v Vector) Increment(id ID) (Vector, Dot, error) {
	if id.IsZero() {
		return v, Dot{}, fmt.Errorf("%w: zero ID", ErrInvalidID)
	}
	i, ok := v.search(id)
	if ok {
		if v.n[i] >= MaxCounter {
			return v, Dot{}, fmt.Errorf("%w: %v at %d", ErrCounterOverflow, id, v.n[i])
		}
		n := slices.Clone(v.n)
		n[i]++
		return Vector{v.ids, n}, Dot{id, n[i]}, nil
	}
	out := makeVector(len(v.ids) + 1)
	copy(out.ids, v.ids[:i])
	copy(out.n, v.n[:i])
	out.ids[i], out.n[i] = id, 1
	copy(out.ids[i+1:], v.ids[i:])
	copy(out.n[i+1:], v.n[i:])
	return out, Dot{id, 1}, nil
}

// String returns the display form, such as "{baltimore:2 lisbon:3}".
func (v Vector) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range v.ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(id.AppendText(nil))
		fmt.Fprintf(&b, ":%d", v.n[i])
	}
	b.WriteByte('}')
	return b.String()
}

// ParseDot parses "id:counter", such as "lisbon#1:7": the form [Dot.String]
// prints, with a decimal counter in 1..[MaxCounter] without sign or leading
// zeros.
func ParseDot(s string) (Dot, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Dot{}, fmt.Errorf("%w: %q has no ':'", ErrInvalidDot, s)
	}
	id, err := ParseID(s[:i])
	if err != nil {
		return Dot{}, err
	}
	n, err := parseCounter(s[i+1:])
	if err != nil {
		return Dot{}, fmt.Errorf("%w: counter in %q", ErrInvalidDot, s)
	}
	return Dot{id, n}, nil
}

// Builder accumulates the join of many vectors in place. Joining into a
// Builder does not allocate once its capacity covers the replicas seen.
//
// The zero Builder is empty and ready to use. A Builder must not be copied
// after first use and is not safe for concurrent use.
type Builder struct {
	ids []ID
	n   []uint64 // len(n) == len(ids); never shared
	// lent reports that ids is shared with a vector [Builder.Vector]
	// returned: the next change of the replicas copies them first.
	lent bool
}

// Join sets b to the least upper bound of b and v.
func (b *Builder) Join(v Vector) {
	a, w := b.ids, v.ids
	an, wn := b.n[:len(a)], v.n[:len(w)]
	// Fastest paths, the common case: the same replicas in the same order,
	// shared or equal. Raising counters before a mismatch is found is
	// harmless: the slower paths below take the maximum again.
	if len(a) == len(w) {
		if sameIDs(a, w) {
			for i, y := range wn {
				an[i] = max(an[i], y)
			}
			return
		}
		i := 0
		for ; i < len(w); i++ {
			if a[i] != w[i] {
				break
			}
			if wn[i] > an[i] {
				an[i] = wn[i]
			}
		}
		if i == len(w) {
			return
		}
	}
	// Fast path: every replica of v is already in b; update counters in place.
	i := 0
	for j, y := range w {
		for i < len(a) && a[i].less(y) {
			i++
		}
		if i == len(a) || a[i] != y {
			b.joinSlow(v)
			return
		}
		if wn[j] > an[i] {
			an[i] = wn[j]
		}
		i++
	}
}

// joinSlow merges v into b when v has replicas b lacks: it grows b's
// replicas and counters and merges from the back so that no scratch slice is
// needed.
func (b *Builder) joinSlow(v Vector) {
	w, wn := v.ids, v.n[:len(v.ids)]
	extra := 0
	i := 0
	for _, y := range w {
		for i < len(b.ids) && b.ids[i].less(y) {
			i++
		}
		if i == len(b.ids) || b.ids[i] != y {
			extra++
		}
	}
	na := len(b.ids)
	if b.lent {
		// A full slice makes Grow copy: the lent replicas stay as they are.
		b.ids, b.lent = b.ids[:na:na], false
	}
	b.ids = slices.Grow(b.ids, extra)[:na+extra]
	b.n = slices.Grow(b.n, extra)[:na+extra]
	ids, n := b.ids, b.n
	// Merge from the back: k is the write position.
	i, j, k := na-1, len(w)-1, na+extra-1
	for j >= 0 {
		switch {
		case i >= 0 && ids[i] == w[j]:
			ids[k], n[k] = w[j], max(n[i], wn[j])
			i--
			j--
		case i >= 0 && w[j].less(ids[i]):
			ids[k], n[k] = ids[i], n[i]
			i--
		default:
			ids[k], n[k] = w[j], wn[j]
			j--
		}
		k--
	}
}

// Add raises replica d.ID's counter to at least d.Counter. Invalid dots are
// ignored.
func (b *Builder) Add(d Dot) {
	if !d.Valid() {
		return
	}
	b.Join(Vector{[]ID{d.ID}, []uint64{d.Counter}})
}

// Vector returns the accumulated join as an immutable vector. Its counters
// are a copy; its replicas are shared with b until b next gains one.
func (b *Builder) Vector() Vector {
	if len(b.ids) == 0 {
		return Vector{}
	}
	b.lent = true
	return Vector{b.ids[:len(b.ids):len(b.ids)], slices.Clone(b.n)}
}

// Reset empties b, keeping its capacity.
func (b *Builder) Reset() {
	b.ids, b.n = b.ids[:0], b.n[:0]
}
