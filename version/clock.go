package version

import (
	"fmt"
	"iter"
	"slices"
)

// Clock is a sibling clock: the causally maximal values of one key with the
// compact causal metadata of all of them (a dotted version vector set, after
// Riak's dvvset). For each replica it keeps one counter and the values of
// that replica's writes that no other known write has superseded; the k-th
// value (from 0) of replica r with counter n carries the dot (r, n-k).
//
// Its size is bounded: the vector has at most one entry per replica
// incarnation that wrote the key (never one per client), and the values are
// exactly the concurrent writes not yet covered by a later write.
//
// A Clock is an immutable value: every method returns a new Clock and leaves
// the receiver unchanged (values are shared, not copied, so do not mutate a V
// that holds references). The zero Clock is empty. It is safe for concurrent
// use by readers.
type Clock[V any] struct {
	e []centry[V]
}

type centry[V any] struct {
	id   ID
	n    uint64
	vals []V // newest first: vals[k] has dot (id, n-k)
}

// Sibling is one value of a [Clock] with the dot of the write that made it.
type Sibling[V any] struct {
	Dot   Dot
	Value V
}

// NewClock returns a clock holding one write of v at replica r made with
// context seen. It is the same as Clock[V]{}.Update(seen, v, r).
func NewClock[V any](seen Vector, v V, r ID) (Clock[V], Dot, error) {
	return Clock[V]{}.Update(seen, v, r)
}

// Update records a write of v made at replica r by a client whose read
// context was seen, typically the [Clock.Join] it was handed on read. It
// returns the new clock and the write's dot.
//
// The new value supersedes exactly the values seen covers; values seen did not
// cover stay as siblings. The new dot is fresh: above every counter of r in
// the clock and in seen, so nothing already present descends from it. Update
// fails with [ErrCounterOverflow] rather than wrap, and with [ErrInvalidID]
// for a zero ID.
func (c Clock[V]) Update(seen Vector, v V, r ID) (Clock[V], Dot, error) {
	return c.UpdateWith(seen, r, func(Dot) V { return v })
}

// UpdateWith is like [Clock.Update] but builds the value from the new
// write's dot, for values that record their own dot (a write stamp, the dots
// of an add-wins set). value is called once, and only if the update succeeds.
func (c Clock[V]) UpdateWith(seen Vector, r ID, value func(Dot) V) (Clock[V], Dot, error) {
	if r.IsZero() {
		return c, Dot{}, fmt.Errorf("%w: zero ID", ErrInvalidID)
	}
	out := make([]centry[V], 0, len(c.e)+seen.Len()+1)
	a, b := c.e, seen.e
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].id.less(b[j].id):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].id.less(a[i].id):
			out = append(out, centry[V]{id: b[j].id, n: b[j].n})
			j++
		default: // same replica: drop the values the context covers
			x, cn := a[i], b[j].n
			keep := 0
			if x.n > cn {
				keep = int(min(x.n-cn, uint64(len(x.vals))))
			}
			out = append(out, centry[V]{id: x.id, n: max(x.n, cn), vals: x.vals[:keep:keep]})
			i++
			j++
		}
	}
	k, found := slices.BinarySearchFunc(out, r, func(x centry[V], id ID) int { return x.id.Compare(id) })
	if !found {
		out = slices.Insert(out, k, centry[V]{id: r})
	}
	x := &out[k]
	if x.n >= MaxCounter {
		return c, Dot{}, fmt.Errorf("%w: %v at %d", ErrCounterOverflow, r, x.n)
	}
	x.n++
	vals := append(make([]V, 0, len(x.vals)+1), value(Dot{r, x.n}))
	x.vals = append(vals, x.vals...)
	return Clock[V]{out}, Dot{r, x.n}, nil
}

// Sync returns the merge of two replicas' clocks of the same key: every value
// either clock holds that the other has not superseded. Sync is commutative,
// associative and idempotent, so replicas converge whatever the order,
// grouping or duplication of the clocks they exchange.
func (c Clock[V]) Sync(o Clock[V]) Clock[V] {
	if len(o.e) == 0 {
		return c
	}
	if len(c.e) == 0 {
		return o
	}
	out := make([]centry[V], 0, len(c.e)+len(o.e))
	a, b := c.e, o.e
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].id.less(b[j].id):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].id.less(a[i].id):
			out = append(out, b[j])
			j++
		default:
			out = append(out, syncEntry(a[i], b[j]))
			i++
			j++
		}
	}
	return Clock[V]{out}
}

// syncEntry merges one replica's entry from two clocks. A value survives if
// both sides hold it or the other side has not seen its dot. The survivors of
// the side with the larger counter form a prefix of its list: the dots from
// max(n1-l1, n2-l2)+1 up to its counter.
func syncEntry[V any](x, y centry[V]) centry[V] {
	if x.n == y.n {
		// Both saw the same dots; the survivors are the shorter list,
		// which both hold.
		if len(y.vals) < len(x.vals) {
			return y
		}
		return x
	}
	if y.n > x.n {
		x, y = y, x
	}
	floor := max(x.n-uint64(len(x.vals)), y.n-uint64(len(y.vals)))
	keep := int(x.n - floor)
	return centry[V]{id: x.id, n: x.n, vals: x.vals[:keep:keep]}
}

// Join returns the clock's causal context: the vector of every write it
// covers, current siblings included. It is what a reader passes back to
// [Clock.Update] so that its write supersedes what it read, and what
// concord's tokens encode.
func (c Clock[V]) Join() Vector {
	if len(c.e) == 0 {
		return Vector{}
	}
	e := make([]entry, len(c.e))
	for i, x := range c.e {
		e[i] = entry{x.id, x.n}
	}
	return Vector{e}
}

// Len returns the number of siblings (concurrent values).
func (c Clock[V]) Len() int {
	n := 0
	for _, x := range c.e {
		n += len(x.vals)
	}
	return n
}

// IsZero reports whether c is the empty clock.
func (c Clock[V]) IsZero() bool { return len(c.e) == 0 }

// Values returns the siblings' values in dot order (replica, then newest
// first), in a new slice.
func (c Clock[V]) Values() []V {
	out := make([]V, 0, c.Len())
	for _, x := range c.e {
		out = append(out, x.vals...)
	}
	return out
}

// Siblings returns an iterator over the siblings in dot order.
func (c Clock[V]) Siblings() iter.Seq[Sibling[V]] {
	return func(yield func(Sibling[V]) bool) {
		for _, x := range c.e {
			for k, v := range x.vals {
				if !yield(Sibling[V]{Dot{x.id, x.n - uint64(k)}, v}) {
					return
				}
			}
		}
	}
}

// Dots returns the dots of the siblings in dot order, in a new slice.
func (c Clock[V]) Dots() []Dot {
	out := make([]Dot, 0, c.Len())
	for s := range c.Siblings() {
		out = append(out, s.Dot)
	}
	return out
}

// Get returns the value of the sibling with dot d, if it is one.
func (c Clock[V]) Get(d Dot) (V, bool) {
	var zero V
	i, ok := slices.BinarySearchFunc(c.e, d.ID, func(x centry[V], id ID) int { return x.id.Compare(id) })
	if !ok {
		return zero, false
	}
	x := c.e[i]
	if d.Counter > x.n || d.Counter == 0 || x.n-d.Counter >= uint64(len(x.vals)) {
		return zero, false
	}
	return x.vals[x.n-d.Counter], true
}

// Covers reports whether the write d is in the clock's causal history,
// as a current sibling or superseded.
func (c Clock[V]) Covers(d Dot) bool {
	i, ok := slices.BinarySearchFunc(c.e, d.ID, func(x centry[V], id ID) int { return x.id.Compare(id) })
	return ok && d.Counter >= 1 && d.Counter <= c.e[i].n
}

// IDs returns the replicas that appear in the clock, in order.
func (c Clock[V]) IDs() []ID {
	ids := make([]ID, len(c.e))
	for i, x := range c.e {
		ids[i] = x.id
	}
	return ids
}

// Compare returns the causal order of c relative to o. Clocks whose joins
// are equal but whose siblings differ (one side has seen fewer siblings
// superseded) compare by which holds a subset of the other's siblings.
func (c Clock[V]) Compare(o Clock[V]) Order {
	if ord := c.Join().Compare(o.Join()); ord != Equal {
		return ord
	}
	// Equal joins: the side with fewer siblings per replica has seen more
	// supersessions (its list is a prefix of the other's).
	cLess, oLess := false, false
	for i := range c.e {
		switch l, m := len(c.e[i].vals), len(o.e[i].vals); {
		case l < m:
			cLess = true
		case l > m:
			oLess = true
		}
	}
	return order(cLess, oLess)
}

// Equal reports whether c and o hold the same causal history and the same
// siblings (by dot; values are not compared).
func (c Clock[V]) Equal(o Clock[V]) bool { return c.Compare(o) == Equal }

// Less reports whether o strictly descends from c.
func (c Clock[V]) Less(o Clock[V]) bool { return c.Compare(o) == Before }

// Map returns a clock with the same causal metadata whose values are f
// applied to c's values.
func Map[V, W any](c Clock[V], f func(V) W) Clock[W] {
	out := make([]centry[W], len(c.e))
	for i, x := range c.e {
		vals := make([]W, len(x.vals))
		for k, v := range x.vals {
			vals[k] = f(v)
		}
		out[i] = centry[W]{x.id, x.n, vals}
	}
	return Clock[W]{out}
}

// Reconcile resolves the siblings to one value with f, which receives them in
// dot order, and returns it with the unchanged join. Writing the pair back
// with [Clock.Update] replaces every sibling with the reconciled value.
func (c Clock[V]) Reconcile(f func([]V) V) (V, Vector) {
	return f(c.Values()), c.Join()
}

// LWW picks the greatest sibling by cmp (a negative result means a orders
// before b) and returns it with the unchanged join. Ties go to the sibling
// with the greater dot, so every replica picks the same value.
func (c Clock[V]) LWW(cmp func(a, b V) int) (V, Vector) {
	var best Sibling[V]
	first := true
	for s := range c.Siblings() {
		if first {
			best, first = s, false
			continue
		}
		if r := cmp(s.Value, best.Value); r > 0 || r == 0 && s.Dot.Compare(best.Dot) > 0 {
			best = s
		}
	}
	return best.Value, c.Join()
}

// String returns a display form listing each replica's counter and dots.
func (c Clock[V]) String() string {
	s := "["
	for i, x := range c.e {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%v:%d(%d)", x.id, x.n, len(x.vals))
	}
	return s + "]"
}
