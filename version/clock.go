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
	// ctx is the causal context, every write the clock covers: what Join
	// returns, shared, so that a reader's context costs nothing.
	ctx Vector
	// vals[i] are the current values of replica ctx.ids[i], newest first:
	// vals[i][k] has dot (ctx.ids[i], ctx.n[i]-k). len(vals) == ctx.Len().
	vals [][]V
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
	// The replicas are c's when seen and r add none, the common case (a
	// writer read the clock and writes at a replica that wrote before): the
	// new clock shares them.
	ids := unionIDs(c.ctx.ids, seen.ids)
	at, found := searchIDs(ids, r)
	if !found {
		ids = slices.Insert(slices.Clip(ids), at, r)
	}
	out := Clock[V]{ctx: Vector{ids, make([]uint64, len(ids))}, vals: make([][]V, len(ids))}
	i, j := 0, 0
	for k, id := range ids {
		var cn, sn uint64
		var cvals []V
		if i < len(c.ctx.ids) && c.ctx.ids[i] == id {
			cn, cvals = c.ctx.n[i], c.vals[i]
			i++
		}
		if j < len(seen.ids) && seen.ids[j] == id {
			sn = seen.n[j]
			j++
		}
		// Drop the values the context covers.
		keep := 0
		if cn > sn {
			keep = int(min(cn-sn, uint64(len(cvals))))
		}
		out.ctx.n[k], out.vals[k] = max(cn, sn), cvals[:keep:keep]
	}
	n := out.ctx.n[at]
	if n >= MaxCounter {
		return c, Dot{}, fmt.Errorf("%w: %v at %d", ErrCounterOverflow, r, n)
	}
	n++
	out.ctx.n[at] = n
	vals := append(make([]V, 0, len(out.vals[at])+1), value(Dot{r, n}))
	out.vals[at] = append(vals, out.vals[at]...)
	return out, Dot{r, n}, nil
}

// unionIDs returns the union of the sorted replica lists a and b: a itself
// when b adds none, b when a adds none, else a new list.
func unionIDs(a, b []ID) []ID {
	if sameIDs(a, b) {
		return a
	}
	n, aMore, bMore := 0, false, false
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
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
	aMore = aMore || i < len(a)
	bMore = bMore || j < len(b)
	switch {
	case !bMore:
		return a
	case !aMore:
		return b
	}
	out := make([]ID, 0, n+len(a)-i+len(b)-j)
	i, j = 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i++
			j++
		case a[i].less(b[j]):
			out = append(out, a[i])
			i++
		default:
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// Sync returns the merge of two replicas' clocks of the same key: every value
// either clock holds that the other has not superseded. Sync is commutative,
// associative and idempotent, so replicas converge whatever the order,
// grouping or duplication of the clocks they exchange.
func (c Clock[V]) Sync(o Clock[V]) Clock[V] {
	if o.IsZero() {
		return c
	}
	if c.IsZero() {
		return o
	}
	ids := unionIDs(c.ctx.ids, o.ctx.ids)
	out := Clock[V]{ctx: Vector{ids, make([]uint64, len(ids))}, vals: make([][]V, len(ids))}
	i, j := 0, 0
	for k, id := range ids {
		inC := i < len(c.ctx.ids) && c.ctx.ids[i] == id
		inO := j < len(o.ctx.ids) && o.ctx.ids[j] == id
		switch {
		case inC && inO:
			out.ctx.n[k], out.vals[k] = syncEntry(c.ctx.n[i], c.vals[i], o.ctx.n[j], o.vals[j])
			i++
			j++
		case inC:
			out.ctx.n[k], out.vals[k] = c.ctx.n[i], c.vals[i]
			i++
		default:
			out.ctx.n[k], out.vals[k] = o.ctx.n[j], o.vals[j]
			j++
		}
	}
	return out
}

// syncEntry merges one replica's entry from two clocks: counter xn with
// values xv and counter yn with values yv. A value survives if both sides
// hold it or the other side has not seen its dot. The survivors of the side
// with the larger counter form a prefix of its list: the dots from
// max(n1-l1, n2-l2)+1 up to its counter.
func syncEntry[V any](xn uint64, xv []V, yn uint64, yv []V) (uint64, []V) {
	if xn == yn {
		// Both saw the same dots; the survivors are the shorter list,
		// which both hold.
		if len(yv) < len(xv) {
			return yn, yv
		}
		return xn, xv
	}
	if yn > xn {
		xn, xv, yn, yv = yn, yv, xn, xv
	}
	floor := max(xn-uint64(len(xv)), yn-uint64(len(yv)))
	keep := int(xn - floor)
	return xn, xv[:keep:keep]
}

// Join returns the clock's causal context: the vector of every write it
// covers, current siblings included. It is what a reader passes back to
// [Clock.Update] so that its write supersedes what it read, and what
// concord's tokens encode. It does not allocate: the clock holds it.
func (c Clock[V]) Join() Vector { return c.ctx }

// Len returns the number of siblings (concurrent values).
func (c Clock[V]) Len() int {
	n := 0
	for _, vals := range c.vals {
		n += len(vals)
	}
	return n
}

// IsZero reports whether c is the empty clock.
func (c Clock[V]) IsZero() bool { return c.ctx.IsZero() }

// Values returns the siblings' values in dot order (replica, then newest
// first), in a new slice.
func (c Clock[V]) Values() []V {
	out := make([]V, 0, c.Len())
	for _, vals := range c.vals {
		out = append(out, vals...)
	}
	return out
}

// Siblings returns an iterator over the siblings in dot order.
func (c Clock[V]) Siblings() iter.Seq[Sibling[V]] {
	return func(yield func(Sibling[V]) bool) {
		for i, vals := range c.vals {
			id, n := c.ctx.ids[i], c.ctx.n[i]
			for k, v := range vals {
				if !yield(Sibling[V]{Dot{id, n - uint64(k)}, v}) {
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
	i, ok := c.ctx.search(d.ID)
	if !ok {
		return zero, false
	}
	n, vals := c.ctx.n[i], c.vals[i]
	if d.Counter > n || d.Counter == 0 || n-d.Counter >= uint64(len(vals)) {
		return zero, false
	}
	return vals[n-d.Counter], true
}

// Covers reports whether the write d is in the clock's causal history,
// as a current sibling or superseded.
func (c Clock[V]) Covers(d Dot) bool {
	return d.Counter >= 1 && c.ctx.Contains(d)
}

// IDs returns the replicas that appear in the clock, in order.
func (c Clock[V]) IDs() []ID { return c.ctx.IDs() }

// Compare returns the causal order of c relative to o. Clocks whose joins
// are equal but whose siblings differ (one side has seen fewer siblings
// superseded) compare by which holds a subset of the other's siblings.
func (c Clock[V]) Compare(o Clock[V]) Order {
	if ord := c.ctx.Compare(o.ctx); ord != Equal {
		return ord
	}
	// Equal joins: the side with fewer siblings per replica has seen more
	// supersessions (its list is a prefix of the other's).
	cLess, oLess := false, false
	for i := range c.vals {
		switch l, m := len(c.vals[i]), len(o.vals[i]); {
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
	out := Clock[W]{ctx: c.ctx, vals: make([][]W, len(c.vals))}
	for i, vals := range c.vals {
		w := make([]W, len(vals))
		for k, v := range vals {
			w[k] = f(v)
		}
		out.vals[i] = w
	}
	return out
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
	for i, vals := range c.vals {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%v:%d(%d)", c.ctx.ids[i], c.ctx.n[i], len(vals))
	}
	return s + "]"
}
