package resolve

import (
	"github.com/harborpoint/concord/internal/inplace"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
)

// Field binds one field of record type T to the policy that merges it. Build
// one with [Bind].
type Field[T any] struct {
	name        string
	policy      string
	replaceable bool
	merge       mergeFn[T]
	equal       func(a, b *T) bool
	copy        func(dst, src *T)
	normalize   func(*T) // nil unless the policy is a policy.Normalizer
}

// Name returns the field's name, as used in decisions and metrics.
func (f Field[T]) Name() string { return f.name }

// Policy returns the name of the field's policy.
func (f Field[T]) Policy() string { return f.policy }

// Replaceable reports whether the field's policy implements
// [policy.Replaceable] and says it is: a write replaces the field's value
// and the later stamp wins, so the field may be written blind.
func (f Field[T]) Replaceable() bool { return f.replaceable }

// Copy sets the field in dst to its value in src, leaving dst's other fields
// alone. It is how a replica applies a blind write of one field.
func (f Field[T]) Copy(dst, src *T) {
	if f.copy != nil {
		f.copy(dst, src)
	}
}

// Equal reports whether a and b hold equal values of the field, by the
// binding's equality (see [Bind]): a write whose value and base are Equal in
// a field did not change that field.
func (f Field[T]) Equal(a, b *T) bool { return f.equal != nil && f.equal(a, b) }

// Bind binds the field that get points to in a T to policy p. The accessor is
// an ordinary function, checked by the compiler:
//
//	resolve.Bind("note", func(h *Hold) *string { return &h.Note }, policy.LWW[string]())
//
// get must return a pointer into the record it is given and nothing else.
//
// The binding compares values of the field to tell whether a write changed
// it (see [Branch]), and equal values merge as [policy.Same], keeping the
// later stamp. The equality is, in order: the policy's, when it implements
// [policy.Equaler] (every built-in but LWW does; such a policy merges equal
// values as Same itself); F's own method Equal(F) bool, such as
// time.Time's; == when F is comparable and holds no interface, whose ==
// could panic. Without the policy's own, the binding merges equal values
// before asking the policy. For any other F, [New] refuses the binding:
// give the policy an Equal method.
func Bind[T, F any](name string, get func(*T) *F, p policy.Policy[F]) Field[T] {
	f := Field[T]{name: name}
	if get == nil || p == nil {
		return f // New reports the missing parts
	}
	f.policy = p.Name()
	if rp, ok := p.(policy.Replaceable); ok {
		f.replaceable = rp.Replaceable()
	}
	f.copy = func(dst, src *T) { *get(dst) = *get(src) }
	if n, ok := p.(policy.Normalizer[F]); ok {
		f.normalize = func(v *T) { x := get(v); *x = n.Normalize(*x) }
	}
	eq := equality(p)
	if eq == nil {
		return f // New reports the missing equality
	}
	f.equal = func(a, b *T) bool { return eq(*get(a), *get(b)) }
	first := eq // equal values merge before the policy is asked
	if _, own := p.(policy.Equaler[F]); own {
		first = nil // the policy merges equal values as Same itself
	}
	f.merge = bindMerge(get, p, first, f.replaceable)
	return f
}

// verdict is how a field merge settled its field, as the fold records it:
// the winner's and the loser's stamps, nil for none (the zero stamp), the
// policy's reason and the outcome. The stamps point into the accumulator or
// the branch merged in, so that a field merge returns a few words in
// registers rather than writing a 144-byte [policy.Decision] that the fold
// must read and clear. A policy's skew flag is not among them: only a
// policy's MergeInto sets one, in fieldState.d with its reason. (Four
// fields at most, so that the compiler keeps a verdict in registers: a
// fifth made it a struct in memory, written a byte at a time and read back
// sixteen bytes at a time, and each such load waits for the stores: about
// 10% of a six-field merge's time.)
type verdict struct {
	winner, loser *version.Stamp
	reason        uint32 // see reasonTable; reasonOfPolicy: fieldState.d's, with its skew flag
	outcome       policy.Verdict
}

// reasonOfPolicy says that a verdict's reason is the text a policy's
// MergeInto wrote in fieldState.d, to be numbered if it is recorded.
const reasonOfPolicy = ^uint32(0)

// mergeFn is the type of a binding's field merge (see bindMerge): it merges
// field i of cur, the accumulator acc's record so far, and of branch b into
// out.
type mergeFn[T any] = func(out, cur *T, acc *fieldState[T], b *Branch[T], i int) (verdict, error)

// inPlace is the in-place merge that package policy's built-in policies
// implement beside MergeInto (see package internal/inplace, which seals it):
// from pointers to the two values and their stamps, returning the verdict,
// whether the result's stamp (and, but for Combined, its value) is b's, and
// the reason; the result's value is written to *out only for Combined.
type inPlace[F any] interface {
	MergeField(_ inplace.Key, out, a, b *F, sa, sb *version.Stamp) (policy.Verdict, bool, inplace.Reason, error)
}

// fieldStamp returns a pointer to b's stamp of field i (see
// Branch.FieldStamp).
func (b *Branch[T]) fieldStamp(i int) *version.Stamp {
	if i < len(b.Fields) {
		return &b.Fields[i]
	}
	return &b.Stamp
}

// bindMerge returns the function that merges field i of branch b into the
// accumulator, setting it in out and its stamp in acc.next[i]: equal values
// (by eq, unless it is nil) merge as Same — the later stamp — and the
// others by p. For a replaceable policy, a value that is live loses to none
// that is not (see fieldState.live): it wins, Picked, or is the one kept of
// equal values. A built-in policy merges in place (see inPlace); any other
// through its MergeInto.
func bindMerge[T, F any](get func(*T) *F, p policy.Policy[F], eq func(a, b F) bool, replaceable bool) mergeFn[T] {
	// takeB says whether field i of the merge takes b's value: the live
	// one, or of two alike the later stamp.
	takeB := func(a *fieldState[T], b *Branch[T], i int, sb version.Stamp, causal bool) bool {
		if causal {
			if la, lb := a.live(i, a.stamps[i].Dot), a.live(i, sb.Dot); la != lb {
				return lb
			}
		}
		return compareStamps(&sb, &a.stamps[i]) > 0
	}
	same := func(out, cur *T, a *fieldState[T], b *Branch[T], i int) verdict {
		if sb := b.FieldStamp(i); takeB(a, b, i, sb, replaceable && a.causal) {
			*get(out) = *get(&b.Value)
			a.next[i] = sb
		} else {
			*get(out) = *get(cur)
			a.next[i] = a.stamps[i]
		}
		return verdict{outcome: policy.Same}
	}
	// replaced settles field i when exactly one of the two values is live.
	replaced := func(out, cur *T, a *fieldState[T], b *Branch[T], i int) (verdict, bool) {
		sa, sb := &a.stamps[i], b.fieldStamp(i)
		if sa.Dot == sb.Dot {
			return verdict{}, false
		}
		la, lb := a.live(i, sa.Dot), a.live(i, sb.Dot)
		if la == lb {
			return verdict{}, false
		}
		if lb {
			*get(out) = *get(&b.Value)
			a.next[i] = *sb
			return verdict{outcome: policy.Picked, reason: reasonReplaced, winner: sb, loser: sa}, true
		}
		*get(out) = *get(cur)
		a.next[i] = *sa
		return verdict{outcome: policy.Picked, reason: reasonReplaced, winner: sa, loser: sb}, true
	}
	var policyMerge mergeFn[T]
	if ip, ok := p.(inPlace[F]); ok {
		policyMerge = inPlaceMerge(get, ip)
	} else {
		policyMerge = mergeInto(get, p)
	}
	if eq == nil && !replaceable {
		return policyMerge // nothing to settle before the policy: no wrapper to call through
	}
	return func(out, cur *T, a *fieldState[T], b *Branch[T], i int) (verdict, error) {
		if eq != nil && eq(*get(cur), *get(&b.Value)) {
			return same(out, cur, a, b, i), nil
		}
		if replaceable && a.causal {
			if v, ok := replaced(out, cur, a, b, i); ok {
				return v, nil
			}
		}
		return policyMerge(out, cur, a, b, i)
	}
}

// inPlaceMerge returns the merge of field i by a built-in policy, in place:
// the values and stamps it reads are the accumulator's and the branch's, the
// value it takes is copied from the side it names.
func inPlaceMerge[T, F any](get func(*T) *F, p inPlace[F]) mergeFn[T] {
	return func(out, cur *T, a *fieldState[T], b *Branch[T], i int) (verdict, error) {
		sa, sb := &a.stamps[i], b.fieldStamp(i)
		po, pa, pb := get(out), get(cur), get(&b.Value)
		o, fromB, reason, err := p.MergeField(inplace.Key{}, po, pa, pb, sa, sb)
		if err != nil {
			return verdict{}, err
		}
		win, lose := sa, sb
		if fromB {
			win, lose = sb, sa
		}
		a.next[i] = *win
		if o == policy.Combined {
			return verdict{outcome: o, reason: uint32(reason)}, nil
		}
		if fromB {
			*po = *pb
		} else {
			*po = *pa
		}
		if o == policy.Same {
			return verdict{outcome: o}, nil
		}
		return verdict{outcome: o, winner: win, loser: lose, reason: uint32(reason)}, nil
	}
}

// mergeInto returns the merge of field i by p's MergeInto, the way for
// every policy that is not a built-in.
func mergeInto[T, F any](get func(*T) *F, p policy.Policy[F]) mergeFn[T] {
	// The policy merges through pointers: hand it three branches that live
	// in the (pooled) accumulator, so nothing escapes per call and nothing
	// large is copied through the interface.
	return func(out, cur *T, a *fieldState[T], b *Branch[T], i int) (verdict, error) {
		sc, _ := a.scratch[i].(*[3]policy.Branch[F])
		if sc == nil {
			sc = new([3]policy.Branch[F])
			a.scratch[i] = sc
		}
		// Field by field: a composite literal is built aside and copied
		// whole, twice the stores (and, for a value with pointers, a
		// bulk write barrier) on the merge's hot path.
		sc[0].Value, sc[0].Stamp = *get(cur), a.stamps[i]
		sc[1].Value, sc[1].Stamp = *get(&b.Value), *b.fieldStamp(i)
		// A policy need not write every part of the decision.
		d := &a.d
		*d = policy.Decision{}
		err := p.MergeInto(&sc[2], d, &sc[0], &sc[1])
		if err == nil {
			*get(out) = sc[2].Value
		}
		a.next[i] = sc[2].Stamp
		// Keep no values alive in the pool; the stamps hold no pointers.
		var zero F
		sc[0].Value, sc[1].Value, sc[2].Value = zero, zero, zero
		if err != nil {
			return verdict{}, err
		}
		return verdict{outcome: d.Outcome, winner: &d.Winner, loser: &d.Loser, reason: reasonOfPolicy}, nil
	}
}

// RecordRule is a record-level rule: it sees two whole branches and the
// record their fields merged into, and may adjust that record (return a
// reason) or refuse the merge (return an error, usually a
// [*policy.Rejection]). Rules run after the field policies, in the order
// given, so they can enforce invariants that live across fields, like "a
// confirmed hold keeps its own expiry". (A state machine's rules for pairs
// of states are policy.Rule.)
//
// The branches carry their field stamps (see [Branch.FieldStamp]); a rule
// must not keep them. When a rule changes a field, the merged field takes the
// stamp of the branch whose value it took (the later one if both hold it),
// or the later of the two branches' stamps of that field when the rule
// combined them into a value neither holds.
//
// Like a field policy, a rule must keep the merge a join: the same result
// whatever the order and grouping of the branches.
type RecordRule[T any] struct {
	// Name identifies the rule in decisions and metrics.
	Name string
	// Apply adjusts out, the field-merged record of branches a and b. It
	// returns a reason when it changed something, "" when it did not.
	Apply func(out *T, a, b Branch[T]) (reason string, err error)
}
