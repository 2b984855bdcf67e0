package version

import (
	"fmt"
	"iter"
	"slices"
	"strings"
)

// entry is one replica's counter in a vector. Counters are always >= 1: a
// replica with nothing seen is absent.
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
type Vector struct {
	e []entry
}

// NewVector returns the vector holding the given dots' counters. Each dot must
// be valid and each replica may appear once; the order does not matter.
func NewVector(dots ...Dot) (Vector, error) {
	if len(dots) == 0 {
		return Vector{}, nil
	}
	e := make([]entry, len(dots))
	for i, d := range dots {
		if !d.Valid() {
			return Vector{}, fmt.Errorf("%w: %v", ErrInvalidDot, d)
		}
		e[i] = entry{d.ID, d.Counter}
	}
	slices.SortFunc(e, func(a, b entry) int { return a.id.Compare(b.id) })
	for i := 1; i < len(e); i++ {
		if e[i].id == e[i-1].id {
			return Vector{}, fmt.Errorf("%w: %v", ErrDuplicateReplica, e[i].id)
		}
	}
	return Vector{e}, nil
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
func (v Vector) Len() int { return len(v.e) }

// IsZero reports whether v is the empty vector.
func (v Vector) IsZero() bool { return len(v.e) == 0 }

// search returns the index of id in v, or where it would be inserted.
func (v Vector) search(id ID) (int, bool) {
	lo, hi := 0, len(v.e)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if v.e[m].id.less(id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(v.e) && v.e[lo].id == id
}

// Get returns the counter of replica id, 0 if v has none.
func (v Vector) Get(id ID) uint64 {
	if i, ok := v.search(id); ok {
		return v.e[i].n
	}
	return 0
}

// Contains reports whether the write d is covered by v.
func (v Vector) Contains(d Dot) bool { return d.Counter <= v.Get(d.ID) }

// All returns an iterator over the replicas and counters of v, in ID order.
func (v Vector) All() iter.Seq2[ID, uint64] {
	return func(yield func(ID, uint64) bool) {
		for _, x := range v.e {
			if !yield(x.id, x.n) {
				return
			}
		}
	}
}

// IDs returns the replicas of v in order, in a new slice.
func (v Vector) IDs() []ID {
	ids := make([]ID, len(v.e))
	for i, x := range v.e {
		ids[i] = x.id
	}
	return ids
}

// Equal reports whether v and w hold the same counters.
func (v Vector) Equal(w Vector) bool {
	return slices.Equal(v.e, w.e)
}

// Compare returns the causal order of v relative to w: [Before] if w descends
// from v, [After] if v descends from w, [Equal] or [Concurrent]. It does not
// allocate.
func (v Vector) Compare(w Vector) Order {
	a, b := v.e, w.e
	// Fast path: the same replicas in the same order, the common case.
	if len(a) == len(b) {
		var aMore, bMore bool
		i := 0
		for ; i < len(a); i++ {
			x, y := a[i], b[i]
			if x.id != y.id {
				break
			}
			if x.n > y.n {
				aMore = true
			} else if x.n < y.n {
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
		x, y := a[i], b[j]
		switch {
		case x.id == y.id:
			if x.n > y.n {
				aMore = true
			} else if x.n < y.n {
				bMore = true
			}
			i++
			j++
		case x.id.less(y.id):
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
	if len(w.e) > len(v.e) {
		return false
	}
	i := 0
	for _, y := range w.e {
		for i < len(v.e) && v.e[i].id.less(y.id) {
			i++
		}
		if i == len(v.e) || v.e[i].id != y.id || v.e[i].n < y.n {
			return false
		}
		i++
	}
	return true
}

// Join returns the least upper bound of v and w: for each replica, the larger
// counter. It allocates at most once, and not at all when one side already
// descends from the other.
func (v Vector) Join(w Vector) Vector {
	a, b := v.e, w.e
	if len(a) == len(b) {
		if out, ok := joinSameIDs(v, w); ok {
			return out
		}
	}
	// Count the union and note whether either side already covers the other.
	n, aMore, bMore := 0, false, false
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].id == b[j].id:
			if a[i].n > b[j].n {
				aMore = true
			} else if a[i].n < b[j].n {
				bMore = true
			}
			i++
			j++
		case a[i].id.less(b[j].id):
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
	out := make([]entry, 0, n)
	return Vector{mergeEntries(out, a, b)}
}

// joinSameIDs is Join's fast path for the common case, two vectors over the
// same replicas (a and b of equal length): one compare pass, then a copy of
// v raised in place where w is ahead — the shape of a copy-and-merge, which
// writes each entry once where a merge by append writes it field by field.
// It reports false, having allocated nothing, when the replicas differ.
func joinSameIDs(v, w Vector) (Vector, bool) {
	a, b := v.e, w.e
	b = b[:len(a)]
	aMore, bMore := false, false
	for i := range a {
		if a[i].id != b[i].id {
			return Vector{}, false
		}
		aMore = aMore || a[i].n > b[i].n
		bMore = bMore || a[i].n < b[i].n
	}
	switch {
	case !bMore:
		return v, true
	case !aMore:
		return w, true
	}
	out := make([]entry, len(a))
	copy(out, a)
	for i := range out {
		if b[i].n > out[i].n {
			out[i].n = b[i].n
		}
	}
	return Vector{out}, true
}

// mergeEntries appends the join of the sorted entry lists a and b to dst.
func mergeEntries(dst, a, b []entry) []entry {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].id == b[j].id:
			dst = append(dst, entry{a[i].id, max(a[i].n, b[j].n)})
			i++
			j++
		case a[i].id.less(b[j].id):
			dst = append(dst, a[i])
			i++
		default:
			dst = append(dst, b[j])
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

// Increment returns v with replica id's counter advanced by one, and the dot
// of the new event. It fails with [ErrCounterOverflow] rather than wrap.
func (v Vector) Increment(id ID) (Vector, Dot, error) {
	if id.IsZero() {
		return v, Dot{}, fmt.Errorf("%w: zero ID", ErrInvalidID)
	}
	i, ok := v.search(id)
	if ok {
		if v.e[i].n >= MaxCounter {
			return v, Dot{}, fmt.Errorf("%w: %v at %d", ErrCounterOverflow, id, v.e[i].n)
		}
		e := slices.Clone(v.e)
		e[i].n++
		return Vector{e}, Dot{id, e[i].n}, nil
	}
	e := make([]entry, 0, len(v.e)+1)
	e = append(e, v.e[:i]...)
	e = append(e, entry{id, 1})
	e = append(e, v.e[i:]...)
	return Vector{e}, Dot{id, 1}, nil
}

// String returns the display form, such as "{baltimore:2 lisbon:3}".
func (v Vector) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, x := range v.e {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(x.id.AppendText(nil))
		fmt.Fprintf(&b, ":%d", x.n)
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
	e []entry
}

// Join sets b to the least upper bound of b and v.
func (b *Builder) Join(v Vector) {
	a, w := b.e, v.e
	// Fastest path, the common case: the same replicas in the same order.
	// Raising counters before a mismatch is found is harmless: the slower
	// paths below take the maximum again.
	if len(a) == len(w) {
		i := 0
		for ; i < len(w); i++ {
			x, y := &a[i], &w[i]
			if x.id != y.id {
				break
			}
			if y.n > x.n {
				x.n = y.n
			}
		}
		if i == len(w) {
			return
		}
	}
	// Fast path: every replica of v is already in b; update counters in place.
	i := 0
	for _, y := range v.e {
		for i < len(a) && a[i].id.less(y.id) {
			i++
		}
		if i == len(a) || a[i].id != y.id {
			b.joinSlow(v)
			return
		}
		if y.n > a[i].n {
			a[i].n = y.n
		}
		i++
	}
}

// joinSlow merges v into b when v has replicas b lacks: it grows b.e and
// merges from the back so that no scratch slice is needed.
func (b *Builder) joinSlow(v Vector) {
	extra := 0
	i := 0
	for _, y := range v.e {
		for i < len(b.e) && b.e[i].id.less(y.id) {
			i++
		}
		if i == len(b.e) || b.e[i].id != y.id {
			extra++
		}
	}
	na := len(b.e)
	b.e = slices.Grow(b.e, extra)[:na+extra]
	// Merge from the back: k is the write position.
	i, j, k := na-1, len(v.e)-1, na+extra-1
	for j >= 0 {
		switch {
		case i >= 0 && b.e[i].id == v.e[j].id:
			b.e[k] = entry{v.e[j].id, max(b.e[i].n, v.e[j].n)}
			i--
			j--
		case i >= 0 && v.e[j].id.less(b.e[i].id):
			b.e[k] = b.e[i]
			i--
		default:
			b.e[k] = v.e[j]
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
	b.Join(Vector{[]entry{{d.ID, d.Counter}}})
}

// Vector returns the accumulated join as an immutable vector (a copy).
func (b *Builder) Vector() Vector {
	if len(b.e) == 0 {
		return Vector{}
	}
	return Vector{slices.Clone(b.e)}
}

// Reset empties b, keeping its capacity.
func (b *Builder) Reset() { b.e = b.e[:0] }
