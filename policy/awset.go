package policy

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/harborpoint/concord/version"
)

// AWSet is an add-wins set with removals (an observed-remove set in the
// dot-based, delta-state form of Akka's ORSet): an element is present while
// some add of it has not been observed by a remove, so a remove concurrent
// with an add of the same element leaves the element present.
//
// Each present element keeps the dots of the adds that put it there — one per
// concurrent adder, not one per add. A causal context records every dot the
// set has seen: a [version.Vector] plus a small sorted "cloud" of dots that
// are not yet contiguous with it, folded into the vector as soon as they are.
// A remove drops the element's dots from the set and leaves them only in the
// context, so removals leave no tombstones: the state is bounded by the live
// elements, their concurrent adds, and the context (one entry per replica
// plus the cloud). Dots that never reach the set — a replica's writes to
// other fields — would leave gaps that keep the cloud growing; callers fold
// the record's version in with [AWSet.JoinContext] to fill them.
//
// AWSet is an immutable value: methods return new sets and never change the
// receiver, so sets are safe for concurrent use. The zero AWSet is the empty
// set with an empty context. Compare sets with [AWSet.Equal], which compares
// the context as well as the elements.
type AWSet[E cmp.Ordered] struct {
	entries []awEntry[E]   // sorted by elem; every dots slice sorted and non-empty
	known   version.Vector // contiguous part of the causal context
	cloud   []version.Dot  // the rest: sorted, none covered by known, none contiguous with it
}

type awEntry[E cmp.Ordered] struct {
	elem E
	dots []version.Dot
}

func (s AWSet[E]) search(e E) (int, bool) {
	return slices.BinarySearchFunc(s.entries, e, func(x awEntry[E], e E) int { return cmp.Compare(x.elem, e) })
}

// seen reports whether the causal context of s contains d.
func (s AWSet[E]) seen(d version.Dot) bool {
	if s.known.Contains(d) {
		return true
	}
	_, ok := slices.BinarySearchFunc(s.cloud, d, version.Dot.Compare)
	return ok
}

// Add returns s with e added by the write whose dot is d. The dot must be
// unique to the write — the record write's dot, issued by the replica's
// version layer — and not yet in the set's context; an add with a reused dot
// may be ignored by replicas that saw the dot removed. The adds of e that s
// had observed are superseded by this one.
//
// Add copies the set: to add many elements, use an [AWSetBuilder], which
// returns the same set in linear time.
//
// Add panics if d is not valid (a zero ID or counter): that is a programming
// error, not bad input.
func (s AWSet[E]) Add(e E, d version.Dot) AWSet[E] {
	if !d.Valid() {
		panic(fmt.Sprintf("policy: AWSet.Add with invalid dot %v", d))
	}
	out := AWSet[E]{known: s.known, cloud: s.cloud}
	i, ok := s.search(e)
	entry := awEntry[E]{elem: e, dots: []version.Dot{d}}
	out.entries = make([]awEntry[E], 0, len(s.entries)+1)
	out.entries = append(out.entries, s.entries[:i]...)
	out.entries = append(out.entries, entry)
	if ok {
		i++
	}
	out.entries = append(out.entries, s.entries[i:]...)
	if !s.seen(d) {
		cloud := slices.Clone(s.cloud)
		j, _ := slices.BinarySearchFunc(cloud, d, version.Dot.Compare)
		cloud = slices.Insert(cloud, j, d)
		out.known, out.cloud = compact(s.known, cloud)
	}
	return out
}

// JoinContext returns s with every write that v covers added to its causal
// context. Call it with the version of the record the set belongs to (or any
// vector whose writes the set's state reflects): a replica's writes that
// did not add to this set — writes to other fields of the record — leave gaps
// in the set's own dots, and those gaps would keep later dots in the cloud
// forever. Joining the record's version fills them, so the context stays one
// entry per replica.
//
// It is sound only if s really reflects every write v covers: a dot in the
// context tells merges that this side saw that write and, if the dot is not
// among its adds, removed or superseded it.
func (s AWSet[E]) JoinContext(v version.Vector) AWSet[E] {
	known := s.known.Join(v)
	if known.Equal(s.known) {
		return s
	}
	out := AWSet[E]{entries: s.entries}
	out.known, out.cloud = compact(known, s.cloud)
	return out
}

// Remove returns s without e. The adds of e that s observed are removed;
// their dots stay in the context only, so a concurrent add of e elsewhere,
// which s has not observed, survives the merge. Remove returns s itself when
// e is absent.
func (s AWSet[E]) Remove(e E) AWSet[E] {
	i, ok := s.search(e)
	if !ok {
		return s
	}
	out := AWSet[E]{known: s.known, cloud: s.cloud}
	if len(s.entries) > 1 {
		out.entries = slices.Delete(slices.Clone(s.entries), i, i+1)
	}
	return out
}

// Has reports whether e is in s.
func (s AWSet[E]) Has(e E) bool {
	_, ok := s.search(e)
	return ok
}

// Len returns the number of elements in s.
func (s AWSet[E]) Len() int { return len(s.entries) }

// All returns an iterator over the elements of s in ascending order.
func (s AWSet[E]) All() iter.Seq[E] {
	return func(yield func(E) bool) {
		for _, x := range s.entries {
			if !yield(x.elem) {
				return
			}
		}
	}
}

// Elements returns the elements of s in ascending order, in a new slice; nil
// for the empty set.
func (s AWSet[E]) Elements() []E {
	if len(s.entries) == 0 {
		return nil
	}
	out := make([]E, len(s.entries))
	for i, x := range s.entries {
		out[i] = x.elem
	}
	return out
}

// Set returns the elements of s as a [Set].
func (s AWSet[E]) Set() Set[E] { return Set[E]{s: s.Elements()} }

// Equal reports whether s and o are the same state: the same elements with
// the same add dots, and the same causal context. Two replicas that merged
// the same writes hold equal sets.
func (s AWSet[E]) Equal(o AWSet[E]) bool {
	return slices.EqualFunc(s.entries, o.entries, func(x, y awEntry[E]) bool {
		return cmp.Compare(x.elem, y.elem) == 0 && slices.Equal(x.dots, y.dots)
	}) && s.known.Equal(o.known) && slices.Equal(s.cloud, o.cloud)
}

// String returns the elements and the causal context, such as
// "{Lisbon-Desk} seen={baltimore:1 lisbon:2}", with any cloud dots after a
// '+', such as "seen={lisbon:2}+[baltimore:4]".
func (s AWSet[E]) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, x := range s.entries {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, x.elem)
	}
	b.WriteString("} seen=")
	b.WriteString(s.known.String())
	if len(s.cloud) > 0 {
		b.WriteString("+[")
		for i, d := range s.cloud {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(d.String())
		}
		b.WriteByte(']')
	}
	return b.String()
}

// merge returns the join of s and o: an (element, dot) pair survives if both
// sides hold it, or one side holds it and the other side's context has not
// seen the dot (so the other side cannot have removed it); contexts join.
func (s AWSet[E]) merge(o AWSet[E]) AWSet[E] {
	var out AWSet[E]
	out.known, out.cloud = compact(s.known.Join(o.known), mergeDots(s.cloud, o.cloud, nil))
	out.entries = make([]awEntry[E], 0, max(len(s.entries), len(o.entries)))
	i, j := 0, 0
	for i < len(s.entries) || j < len(o.entries) {
		var c int
		switch {
		case i == len(s.entries):
			c = 1
		case j == len(o.entries):
			c = -1
		default:
			c = cmp.Compare(s.entries[i].elem, o.entries[j].elem)
		}
		var x awEntry[E]
		switch {
		case c < 0:
			x = awEntry[E]{elem: s.entries[i].elem, dots: unseen(s.entries[i].dots, o)}
			i++
		case c > 0:
			x = awEntry[E]{elem: o.entries[j].elem, dots: unseen(o.entries[j].dots, s)}
			j++
		case slices.Equal(s.entries[i].dots, o.entries[j].dots):
			// The same adds on both sides: kept, and shared (dot slices are
			// never modified).
			x = s.entries[i]
			i++
			j++
		default:
			x = awEntry[E]{elem: s.entries[i].elem, dots: mergeDots(s.entries[i].dots, o.entries[j].dots, func(d version.Dot, inS, inO bool) bool {
				return inS && inO || inS && !o.seen(d) || inO && !s.seen(d)
			})}
			i++
			j++
		}
		if len(x.dots) > 0 {
			out.entries = append(out.entries, x)
		}
	}
	return out
}

// unseen returns the dots of ds that o's context has not seen: ds itself
// when o has seen none of them, the common case of a concurrent add.
func unseen[E cmp.Ordered](ds []version.Dot, o AWSet[E]) []version.Dot {
	k := 0
	for k < len(ds) && !o.seen(ds[k]) {
		k++
	}
	if k == len(ds) {
		return ds
	}
	out := slices.Clone(ds[:k])
	for _, d := range ds[k+1:] {
		if !o.seen(d) {
			out = append(out, d)
		}
	}
	return out
}

// mergeDots returns the sorted union of the sorted dot lists a and b, keeping
// a dot only if keep (when not nil) accepts it, told which lists hold it.
func mergeDots(a, b []version.Dot, keep func(d version.Dot, inA, inB bool) bool) []version.Dot {
	var out []version.Dot
	add := func(d version.Dot, inA, inB bool) {
		if keep == nil || keep(d, inA, inB) {
			out = append(out, d)
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := a[i].Compare(b[j]); {
		case c < 0:
			add(a[i], true, false)
			i++
		case c > 0:
			add(b[j], false, true)
			j++
		default:
			add(a[i], true, true)
			i++
			j++
		}
	}
	for ; i < len(a); i++ {
		add(a[i], true, false)
	}
	for ; j < len(b); j++ {
		add(b[j], false, true)
	}
	return out
}

// compact folds into known the dots of the sorted cloud that are contiguous
// with it, drops the ones it covers, and returns the new vector and the dots
// that remain. The result is canonical: the same set of dots always yields
// the same vector and cloud.
func compact(known version.Vector, cloud []version.Dot) (version.Vector, []version.Dot) {
	if len(cloud) == 0 {
		return known, nil
	}
	var rest, raised []version.Dot
	for i := 0; i < len(cloud); {
		id := cloud[i].ID
		n := known.Get(id)
		start := n
		for ; i < len(cloud) && cloud[i].ID == id; i++ {
			switch d := cloud[i]; {
			case d.Counter <= n:
				// covered: drop
			case d.Counter == n+1:
				n++
			default:
				rest = append(rest, d)
			}
		}
		if n > start {
			raised = append(raised, version.Dot{ID: id, Counter: n})
		}
	}
	if len(raised) > 0 {
		v, err := version.NewVector(raised...)
		if err != nil {
			// raised holds valid dots of distinct replicas.
			panic("policy: impossible: " + err.Error())
		}
		known = known.Join(v)
	}
	return known, rest
}

// AddWins returns the add-wins set policy, named "add-wins", over [AWSet]:
// the merge keeps an element if either branch holds an add of it that the
// other branch has not removed, so a remove concurrent with an add of the
// same element leaves it present; contexts join. Use it for sets that need
// removals; for sets that only grow, [Union] is smaller.
//
// Equal sets merge as [Same]; different ones as [Combined], carrying the
// later stamp.
func AddWins[E cmp.Ordered]() Policy[AWSet[E]] { return addWins[E]{} }

type addWins[E cmp.Ordered] struct{}

func (addWins[E]) Name() string { return "add-wins" }

// Equal implements [Equaler].
func (addWins[E]) Equal(a, b AWSet[E]) bool { return a.Equal(b) }

// MergeInto implements [Policy].
func (p addWins[E]) MergeInto(out *Branch[AWSet[E]], d *Decision, a, b *Branch[AWSet[E]]) error {
	if a.Value.Equal(b.Value) {
		sameInto(out, d, p.Name(), a, b, "equal sets")
		return nil
	}
	*out = Branch[AWSet[E]]{Value: a.Value.merge(b.Value), Stamp: later(a.Stamp, b.Stamp)}
	*d = Decision{Policy: p.Name(), Outcome: Combined, Reason: "add wins over concurrent remove"}
	return nil
}
