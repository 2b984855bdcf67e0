package resolve

import (
	"fmt"
	"slices"

	"github.com/harborpoint/concord/internal/resolvehook"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// fieldState is the accumulator of a merge: the record so far and the stamp
// each field's value came from.
type fieldState[T any] struct {
	// vals[cur] is the record so far and vals[1-cur] the merge in
	// progress, kept here so that they are not allocated per pair; a merged
	// pair flips cur rather than copying records (or swapping pointers,
	// whose stores in this pooled, heap-allocated state cost write
	// barriers while the collector runs).
	cur  int
	vals [2]T
	pre  T               // out before the record rules ran, to see what they changed
	in   Branch[T]       // the branch being merged in, copied here so the caller's branches stay on its stack
	d    policy.Decision // the decision of a field a policy merges through MergeInto
	tab  []version.Stamp // the stamps the decisions name (see decided), copied out at the end
	// tr holds the decisions of the fold in progress, copied into the
	// result at the end.
	tr     trail
	more   *trailMore      // tr's overflow (see trail), handed to the result
	stamp  version.Stamp   // greatest stamp merged so far
	stamps []version.Stamp // per field
	next   []version.Stamp // per field, written in full by the merge in progress
	// causal says that a branch of the fold knows what its writer had seen
	// (Branch.Seen), so that a field value some branch's writer saw and
	// replaced may be superseded (see live); all are then the branches of
	// the fold, copied here (a buffer the pool keeps) rather than
	// referenced, so that the caller's branches never escape to the heap
	// with the accumulator.
	all    []Branch[T]
	causal bool
	// The refs (see ref) of in.Stamp and, while every field's stamp is
	// the same (the fold's first branch has no stamps per field), of the
	// accumulator's stamps, in the merge in progress; 0 until asked.
	inRef, accRef uint32
	uniform       bool // every field's stamp in stamps is the same
	// scratch holds, per field, the branches a policy's MergeInto reads
	// and writes, reused across merges.
	scratch []any
	inline  [16]version.Stamp
}

// merge merges concurrent branches of one record into one, or returns a
// [*ConflictRequiresRetry] when a policy or rule refuses. Branches with the
// same stamp are the same write and count once. The result does not depend
// on the order of branches. Users merge siblings with [Resolver.Resolve];
// concord's tests reach this through internal/merge.
func (r *Resolver[T]) merge(branches []Branch[T]) (res Resolution[T], err error) {
	// Small enough to be inlined where the hook calls it, so that the
	// resolution, a few hundred bytes, is written in place and copied out
	// once fewer.
	err = r.mergeInto(branches, &res)
	return res, err
}

// mergeInto is merge, into *res, which must be the zero Resolution.
func (r *Resolver[T]) mergeInto(branches []Branch[T], res *Resolution[T]) error {
	switch n := len(branches); {
	case n == 0:
		return fmt.Errorf("resolve: %s: no branches to merge", r.entity)
	case n == 1:
		return r.fold(branches, res)
	case n == 2:
		// The common merge: in canonical order (see canonical) as it is,
		// or as one write, or the other way round (merge must not reorder
		// the caller's slice).
		switch c := compareStamps(&branches[0].Stamp, &branches[1].Stamp); {
		case c < 0:
			return r.fold(branches, res)
		case c == 0:
			return r.fold(branches[:1], res)
		}
		return r.foldFrom(&branches[1], branches[:1], res)
	case n <= 4:
		// Sort a copy on the stack.
		var small [4]Branch[T]
		return r.fold(canonical(small[:copy(small[:], branches)], true), res)
	default:
		return r.fold(canonical(branches, false), res)
	}
}

// inOrder folds branches in exactly the order given (no sorting, no
// removal of repeats), for the hook of internal/resolvehook.
func (r *Resolver[T]) inOrder(branches []Branch[T]) (Resolution[T], error) {
	if len(branches) == 0 {
		return Resolution[T]{}, fmt.Errorf("resolve: %s: no branches to merge", r.entity)
	}
	var res Resolution[T]
	err := r.fold(branches, &res)
	return res, err
}

// mergeTo is merge, into *res, whatever *res held: for the hook of
// internal/resolvehook, whose callers that merge in a loop (benchmarks)
// keep one resolution rather than copy a new one out of every merge.
func (r *Resolver[T]) mergeTo(branches []Branch[T], res *Resolution[T]) error {
	*res = Resolution[T]{}
	return r.mergeInto(branches, res)
}

// hooks returns the merges internal/resolvehook hands out, as typed func
// values made once by New, so that a merge through the hook boxes nothing.
func (r *Resolver[T]) hooks() (merge, inOrder, into any) {
	return r.hook[0], r.hook[1], r.hook[2]
}

// hooked is what the hook sees of a *Resolver[T].
type hooked interface {
	hooks() (merge, inOrder, into any)
}

func init() {
	resolvehook.Merges = func(r any) (any, any, any) { return r.(hooked).hooks() }
}

// fold merges bs, in the order given, into *res, which must be the zero
// Resolution; on an error it leaves *res zero. (A Resolution is a few
// hundred bytes: written in place, it is not copied out through every
// caller.) The decisions go to the accumulator's trail and are copied into
// res's at the end: a merge allocates nothing for them.
func (r *Resolver[T]) fold(bs []Branch[T], res *Resolution[T]) error {
	return r.foldFrom(&bs[0], bs[1:], res)
}

// foldFrom is fold of first and then rest, so that a pair out of order is
// merged without copying it into order.
func (r *Resolver[T]) foldFrom(first *Branch[T], rest []Branch[T], res *Resolution[T]) error {
	acc := r.state(first)
	defer r.release(acc)
	causal := !first.Seen.IsZero()
	for i := 0; i < len(rest) && !causal; i++ {
		causal = !rest[i].Seen.IsZero()
	}
	if causal {
		acc.causal = true
		acc.all = append(append(acc.all[:0], *first), rest...)
	}
	// Decisions cost what they record: only fields that decided something
	// add one, to the trail; nothing is formatted here.
	acc.tab = acc.tab[:0]
	// A pair that is refused may still merge once a third branch has been
	// merged in (an absorbing state settles a pair that would be refused on
	// its own), so refused branches wait for another pass; the merge fails
	// only when a whole pass makes no progress.
	pending := rest
	for len(pending) > 0 {
		var (
			deferred []Branch[T]
			firstErr error
		)
		for i := range pending {
			// merge2 changes acc and the trail only when it succeeds.
			if err := r.merge2(acc, &pending[i]); err != nil {
				deferred = append(deferred, pending[i])
				if firstErr == nil {
					firstErr = err
				}
			}
		}
		if len(deferred) == len(pending) {
			return r.conflict(append([]Branch[T]{*first}, rest...), firstErr)
		}
		pending = deferred
	}
	res.Value, res.Stamp, res.Merged, res.by = *acc.val(), acc.stamp, 1+len(rest), r
	if acc.tr.n > 0 {
		// The stamps are set in the copy: set in acc.tr, the copy's first
		// load would wait for the store of their count.
		res.trail, res.more = acc.tr, acc.more
		res.trail.setStamps(acc.tab, &res.more)
	}
	res.Fields = compactStamps(acc.stamp, acc.stamps)
	return nil
}

// canonical returns branches sorted by stamp without repeated writes. It
// copies only when the input is not already in that order, unless owned says
// the caller's slice may be sorted in place.
func canonical[T any](branches []Branch[T], owned bool) []Branch[T] {
	ordered := true
	for i := 1; i < len(branches); i++ {
		if branches[i-1].Stamp.Compare(branches[i].Stamp) >= 0 {
			ordered = false
			break
		}
	}
	if ordered {
		return branches
	}
	bs := branches
	if !owned {
		bs = slices.Clone(branches)
	}
	if len(bs) == 2 {
		// The common merge, a pair out of order: swap it (the sort's
		// generic path costs several times the swap of two branches).
		if bs[0].Stamp == bs[1].Stamp {
			return bs[:1]
		}
		bs[0], bs[1] = bs[1], bs[0]
		return bs
	}
	slices.SortFunc(bs, func(a, b Branch[T]) int { return a.Stamp.Compare(b.Stamp) })
	return slices.CompactFunc(bs, func(a, b Branch[T]) bool { return a.Stamp == b.Stamp })
}

// state returns a pooled accumulator holding branch b, each field with its
// own stamp.
func (r *Resolver[T]) state(b *Branch[T]) *fieldState[T] {
	s, _ := r.states.Get().(*fieldState[T])
	if s == nil {
		s = new(fieldState[T])
	}
	s.cur = 0
	*s.val(), s.stamp = b.Value, b.Stamp
	n := len(r.fields)
	if len(s.stamps) != n {
		// Once per state: a resolver's states all have n fields.
		buf := s.inline[:]
		if 2*n > len(buf) {
			buf = make([]version.Stamp, 2*n)
		}
		s.stamps, s.next = buf[:n:n], buf[n:2*n:2*n]
	}
	if len(s.scratch) != n {
		s.scratch = make([]any, n)
	}
	// b.FieldStamp(i) for every field: its own stamps, then its stamp.
	k := copy(s.stamps, b.Fields)
	for i := k; i < n; i++ {
		s.stamps[i] = b.Stamp
	}
	s.uniform = k == 0
	return s
}

// release returns an accumulator to the pool, dropping its references so
// that pooled states keep no record values alive.
func (r *Resolver[T]) release(s *fieldState[T]) {
	var zero T
	s.vals, s.pre = [2]T{}, zero
	s.in, s.d = Branch[T]{}, policy.Decision{}
	clear(s.all) // keep no record values alive in the pool
	s.all, s.causal = s.all[:0], false
	s.tr, s.more = trail{}, nil
	r.states.Put(s)
}

// merge2 merges branch into the accumulator a, adding the decisions that
// decided something to a's trail. On a refusal it changes neither a nor
// the decisions.
func (r *Resolver[T]) merge2(a *fieldState[T], branch *Branch[T]) error {
	// The field accessors are function values, so whatever they are handed
	// escapes: hand them the accumulator's copy of the branch, which lives
	// on the heap already, rather than the caller's.
	b := &a.in
	*b = *branch
	a.inRef, a.accRef = 0, 0
	// Fields not bound follow the branch with the greater stamp.
	out, cur := a.res(), a.val()
	bLater := compareStamps(&b.Stamp, &a.stamp) > 0
	if bLater {
		*out = b.Value
	} else {
		*out = *cur
	}
	start, tab := a.decided(), len(a.tab)
	for i := range r.fields {
		f := &r.fields[i]
		v, err := f.merge(out, cur, a, b, i)
		if err != nil {
			a.tab = a.tab[:tab]
			a.truncate(start)
			return &fieldError{field: f.name, policy: f.policy, err: err}
		}
		if v.outcome != policy.Same {
			reason, skew := v.reason, false
			if reason == reasonOfPolicy {
				reason, skew = r.reasons.code(a.d.Reason, &a.more), a.d.InSkewWindow
			}
			if v.outcome == policy.Picked && f.replaceable && reason != reasonReplaced {
				skew = r.inSkewWindow(v.winner.Time, v.loser.Time)
			}
			a.trail().addField(int32(i), a.ref(v.winner, i), a.ref(v.loser, i), reason, v.outcome, skew, &a.more)
		}
	}
	if err := r.applyRules(a, b); err != nil {
		a.tab = a.tab[:tab]
		a.truncate(start)
		return err
	}
	a.cur ^= 1
	if bLater { // later(a.stamp, b.Stamp)
		a.stamp = b.Stamp
	}
	// Every field merge wrote its next stamp: swap the buffers rather
	// than copy the stamps.
	a.stamps, a.next = a.next, a.stamps
	a.uniform = false
	return nil
}

// trail returns the fold's trail.
func (a *fieldState[T]) trail() *trail { return &a.tr }

// val returns the record merged so far.
func (a *fieldState[T]) val() *T { return &a.vals[a.cur] }

// res returns the record the merge in progress writes.
func (a *fieldState[T]) res() *T { return &a.vals[a.cur^1] }

// add records d in the fold's trail.
func (a *fieldState[T]) add(d decided) { a.trail().add(d, &a.more) }

// decided returns the number of decisions the fold has recorded.
func (a *fieldState[T]) decided() int { return int(a.tr.n) }

// truncate drops the decisions after the first n.
func (a *fieldState[T]) truncate(n int) {
	a.tr.truncate(n, a.more)
}

// ref returns the reference of a decided to stamp s (see decided): 0 for nil or
// the zero stamp, else 1 + its index in a.tab, where it is added unless one
// of the last few entries holds it. A merge names few stamps and names them
// again and again (the two branches' stamps, for a pair without per-field
// stamps), so the search looks back only a few entries; a stamp it misses
// is kept twice, which costs room, not correctness.
//
// s is usually a stamp of field i (its verdict's winner or loser): the
// accumulator's or the branch's, which merge2 looks up once each when it
// can.
func (a *fieldState[T]) ref(s *version.Stamp, i int) uint32 {
	switch {
	case s == nil:
		return 0
	case s == &a.in.Stamp:
		// The branch merged in, named by every field it has no stamp of
		// its own for: looked up once a merge.
		if a.inRef == 0 {
			a.inRef = a.lookup(s)
		}
		return a.inRef
	case a.uniform && s == &a.stamps[i]:
		if a.accRef == 0 {
			a.accRef = a.lookup(s)
		}
		return a.accRef
	}
	return a.lookup(s)
}

// lookup returns the reference of a decided to stamp *s (see ref).
func (a *fieldState[T]) lookup(s *version.Stamp) uint32 {
	if sameStamp(s, &zeroStamp) {
		return 0
	}
	n := len(a.tab)
	for j := n - 1; j >= max(0, n-4); j-- {
		if sameStamp(&a.tab[j], s) {
			return uint32(j) + 1
		}
	}
	a.tab = append(a.tab, *s)
	return uint32(n) + 1
}

// live reports whether the value of field i that the write d made is still
// live among the branches of the fold: no branch whose writer saw d holds
// another value of the field (one that branch's history put in its place).
// A value that is not live loses to one that is, whatever their stamps:
// stamps order only writes that did not see each other, and a clock beyond
// the drift bound can stamp a write earlier than the value it replaced.
// Liveness depends on d and the set of branches only, so the merge stays a
// join whatever the order of the fold.
func (a *fieldState[T]) live(i int, d version.Dot) bool { return live(a.all, i, d) }

// live reports whether the value of field i written by d is live among bs
// (see fieldState.live).
func live[T any](bs []Branch[T], i int, d version.Dot) bool {
	for j := range bs {
		o := &bs[j]
		if o.Deleted {
			continue
		}
		if od := o.FieldStamp(i).Dot; od != d && o.saw(d) {
			return false
		}
	}
	return true
}

// zeroStamp is the zero stamp, for sameStamp.
var zeroStamp version.Stamp

// inSkewWindow reports whether the wall times of a Picked decision's winner
// and loser are closer than the skew window.
func (r *Resolver[T]) inSkewWindow(w, l version.Timestamp) bool {
	if r.skew <= 0 {
		return false
	}
	// Unsigned arithmetic gives the exact distance even where the signed
	// subtraction would overflow.
	d := uint64(w.Wall) - uint64(l.Wall)
	if l.Wall > w.Wall {
		d = uint64(l.Wall) - uint64(w.Wall)
	}
	return d < uint64(r.skew)
}

// applyRules runs the record rules over a.res(), the field merge of the
// accumulator and b, and gives every field a rule changed the stamp its new
// value came from, adding their decisions to t.
func (r *Resolver[T]) applyRules(a *fieldState[T], b *Branch[T]) error {
	if len(r.rules) == 0 {
		return nil
	}
	out := a.res()
	a.pre = *out
	changed := false
	for k, rule := range r.rules {
		reason, err := rule.Apply(out, Branch[T]{Value: *a.val(), Stamp: a.stamp, Fields: a.stamps}, *b)
		if err != nil {
			return &fieldError{rule: rule.Name, policy: "rule", err: err}
		}
		if reason != "" {
			changed = true
			a.add(decided{at: ^int32(k), outcome: policy.Combined, reason: r.reasons.code(reason, &a.more)})
		}
	}
	if changed {
		for i, f := range r.fields {
			if !f.equal(&a.pre, out) {
				a.next[i] = ruleStamp(f, out, a, b, i)
			}
		}
	}
	return nil
}

// ruleStamp returns the stamp of field i after a rule set it in out: the
// stamp of the branch whose value it took, or the later of the two.
func ruleStamp[T any](f Field[T], out *T, a *fieldState[T], b *Branch[T], i int) version.Stamp {
	inA, inB := f.equal(out, a.val()), f.equal(out, &b.Value)
	switch {
	case inA && !inB:
		return a.stamps[i]
	case inB && !inA:
		return b.FieldStamp(i)
	}
	return later(a.stamps[i], b.FieldStamp(i))
}

// fieldError says which field or rule refused a merge.
type fieldError struct {
	field, rule, policy string
	err                 error
}

func (e *fieldError) Error() string {
	if e.rule != "" {
		return fmt.Sprintf("rule %s: %v", e.rule, e.err)
	}
	return fmt.Sprintf("field %s (%s): %v", e.field, e.policy, e.err)
}

func (e *fieldError) Unwrap() error { return e.err }
