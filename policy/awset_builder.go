package policy

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/harborpoint/concord/version"
)

// AWSetBuilder builds an [AWSet] from many adds, removes and context joins
// in time and space linear in their number (plus one sort of the elements
// and one of the dots). The same calls on an AWSet copy the set each time,
// which is right for the one element a record write adds, and quadratic when
// a set is built from scratch or a batch is applied to it.
//
// A builder records the calls and applies them all at once in
// [AWSetBuilder.AWSet]; the set it returns is exactly the one the same calls
// on AWSet, in the same order, would have returned ([AWSet.Equal] holds).
//
// The zero AWSetBuilder builds on the empty set and is ready to use;
// [AWSetBuilder.Reset] starts it from another set. A builder is not safe for
// concurrent use and must not be copied after first use.
type AWSetBuilder[E cmp.Ordered] struct {
	base AWSet[E] // the set the calls apply to

	// While every add is of an element above all the set holds, and nothing
	// else was called, the adds are kept as finished entries, ents[i] with
	// its dot in dots[i] (its dots field is filled in by AWSet), so that a
	// set built in order costs no sort and no log.
	ents []awEntry[E]
	dots []version.Dot

	// Otherwise the adds and removes are logged, in call order.
	ops  []awOp[E]
	adds int // how many of ops are adds

	known  version.Builder // the vectors joined by JoinContext
	joined bool            // whether known holds anything
}

// awOp is one recorded Add (a valid dot) or Remove (the zero dot).
type awOp[E cmp.Ordered] struct {
	elem E
	dot  version.Dot
}

// Reset empties b and starts it from s, keeping its capacity.
func (b *AWSetBuilder[E]) Reset(s AWSet[E]) {
	b.base = s
	clear(b.ops) // drop references to elements before reusing the space
	b.ops = b.ops[:0]
	b.adds = 0
	clear(b.ents)
	b.ents = b.ents[:0]
	b.dots = b.dots[:0]
	b.known.Reset()
	b.joined = false
}

// Grow makes room for n more adds without reallocating, for a caller that
// knows how many are coming.
func (b *AWSetBuilder[E]) Grow(n int) {
	if len(b.ops) == 0 {
		b.ents = slices.Grow(b.ents, n)
		b.dots = slices.Grow(b.dots, n)
		return
	}
	b.ops = slices.Grow(b.ops, n)
}

// Add records [AWSet.Add] of e by the write whose dot is d. Like
// AWSet.Add, it panics if d is not valid: that is a programming error, not
// bad input.
func (b *AWSetBuilder[E]) Add(e E, d version.Dot) {
	if !d.Valid() {
		panic(fmt.Sprintf("policy: AWSetBuilder.Add with invalid dot %v", d))
	}
	if len(b.ops) == 0 && b.above(e) {
		b.ents = append(b.ents, awEntry[E]{elem: e})
		b.dots = append(b.dots, d)
		return
	}
	b.toLog()
	b.ops = append(b.ops, awOp[E]{elem: e, dot: d})
	b.adds++
}

// above reports whether e orders after every element of the set so far.
func (b *AWSetBuilder[E]) above(e E) bool {
	switch {
	case len(b.ents) > 0:
		return cmp.Less(b.ents[len(b.ents)-1].elem, e)
	case len(b.base.entries) > 0:
		return cmp.Less(b.base.entries[len(b.base.entries)-1].elem, e)
	default:
		return true
	}
}

// toLog moves the adds kept as entries into the log, where the calls that
// follow go.
func (b *AWSetBuilder[E]) toLog() {
	for i, x := range b.ents {
		b.ops = append(b.ops, awOp[E]{elem: x.elem, dot: b.dots[i]})
	}
	b.adds += len(b.ents)
	clear(b.ents)
	b.ents = b.ents[:0]
	b.dots = b.dots[:0]
}

// Remove records [AWSet.Remove] of e.
func (b *AWSetBuilder[E]) Remove(e E) {
	b.toLog()
	b.ops = append(b.ops, awOp[E]{elem: e})
}

// JoinContext records [AWSet.JoinContext] with v.
func (b *AWSetBuilder[E]) JoinContext(v version.Vector) {
	if !v.IsZero() {
		b.known.Join(v)
		b.joined = true
	}
}

// AWSet applies the recorded calls and returns the set. The builder then
// builds on that set, as if Reset with it, so calls may continue. The set
// shares no memory that the builder will change.
func (b *AWSetBuilder[E]) AWSet() AWSet[E] {
	var out AWSet[E]
	switch {
	case len(b.ops) > 0:
		// Every add's dot, in one slice: sorted first to fold into the
		// context, then reused for the surviving entries' dots.
		dots := make([]version.Dot, 0, b.adds)
		for _, op := range b.ops {
			if op.dot.Valid() {
				dots = append(dots, op.dot)
			}
		}
		out.known, out.cloud = b.context(dots)
		out.entries = b.entries(dots[:0])
	case len(b.ents) > 0:
		out = b.ascending()
	case b.joined:
		out.known, out.cloud = b.context(nil)
		out.entries = b.base.entries
	default:
		return b.base
	}
	b.Reset(out)
	return out
}

// ascending returns the set built from adds kept as entries, and hands
// their memory over to it.
func (b *AWSetBuilder[E]) ascending() AWSet[E] {
	var out AWSet[E]
	for i := range b.ents {
		b.ents[i].dots = b.dots[i : i+1 : i+1]
	}
	out.entries = b.ents
	if len(b.base.entries) > 0 {
		out.entries = slices.Concat(b.base.entries, b.ents)
	}
	dots := b.dots
	if !strictlySorted(dots) {
		// context sorts and compacts; the entries keep their own dots.
		dots = slices.Clone(dots)
	}
	out.known, out.cloud = b.context(dots)
	b.ents, b.dots = nil, nil // now the set's
	return out
}

// strictlySorted reports whether ds is sorted without repeats.
func strictlySorted(ds []version.Dot) bool {
	for i := 1; i < len(ds); i++ {
		if ds[i-1].Compare(ds[i]) >= 0 {
			return false
		}
	}
	return true
}

// context returns the causal context of the built set: the base's, every
// add's dot and every joined vector, in the canonical form compact gives.
// It sorts dots, and the cloud it returns does not share dots' memory
// (compact builds its own).
func (b *AWSetBuilder[E]) context(dots []version.Dot) (version.Vector, []version.Dot) {
	if !slices.IsSortedFunc(dots, version.Dot.Compare) {
		slices.SortFunc(dots, version.Dot.Compare)
	}
	cloud := slices.Compact(dots)
	if len(b.base.cloud) > 0 {
		cloud = mergeDots(b.base.cloud, cloud, nil)
	}
	known := b.base.known
	if b.joined {
		known = known.Join(b.known.Vector())
	}
	return compact(known, cloud)
}

// entries returns the built set's entries: the base's, with each element
// the calls touched replaced by its last add (or dropped by its last
// remove). Each new entry's one dot is appended to dots, whose capacity
// holds every add, so that the entries share one allocation; an entry's dot
// slice is capped at its length, so nothing can append into a neighbour's.
func (b *AWSetBuilder[E]) entries(dots []version.Dot) []awEntry[E] {
	ops := b.ops
	// Stable, so that each element's calls stay in call order; the last
	// decides. Already-sorted input, the common bulk build, costs one pass.
	if !slices.IsSortedFunc(ops, compareOps[E]) {
		slices.SortStableFunc(ops, compareOps[E])
	}
	base := b.base.entries
	out := make([]awEntry[E], 0, len(base)+len(ops))
	i := 0
	for k := 0; k < len(ops); k++ {
		e := ops[k].elem
		for k+1 < len(ops) && cmp.Compare(ops[k+1].elem, e) == 0 {
			k++
		}
		for i < len(base) && cmp.Less(base[i].elem, e) {
			out = append(out, base[i])
			i++
		}
		if i < len(base) && cmp.Compare(base[i].elem, e) == 0 {
			i++ // replaced or removed
		}
		if d := ops[k].dot; d.Valid() {
			dots = append(dots, d)
			out = append(out, awEntry[E]{elem: e, dots: dots[len(dots)-1 : len(dots) : len(dots)]})
		}
	}
	out = append(out, base[i:]...)
	if len(out) == 0 {
		return nil
	}
	return out
}

func compareOps[E cmp.Ordered](x, y awOp[E]) int { return cmp.Compare(x.elem, y.elem) }
