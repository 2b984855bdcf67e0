package policy

import (
	"cmp"
	"fmt"

	"github.com/harborpoint/concord/version"
)

// Max returns the policy named "max": the greater value wins. It suits
// fields that only move one way, such as a hold's expiry when every branch
// extends the same hold; see the package documentation for when that is
// safe.
//
// Values are compared with [cmp.Compare]. Values that compare equal merge as
// [Same], keeping the value of the branch with the later stamp; otherwise the
// greater value is [Picked] and the result carries its branch's stamp.
func Max[F cmp.Ordered]() Policy[F] { return orderPolicy[F]{name: "max", sign: 1} }

// Min returns the policy named "min": the smaller value wins, with the same
// rules as [Max] in the other direction.
func Min[F cmp.Ordered]() Policy[F] { return orderPolicy[F]{name: "min", sign: -1} }

type orderPolicy[F cmp.Ordered] struct {
	name string
	sign int // +1: greater wins; -1: smaller wins
}

func (p orderPolicy[F]) Name() string { return p.name }

// Equal implements [Equaler] with [cmp.Compare], as the merge compares.
func (orderPolicy[F]) Equal(a, b F) bool { return cmp.Compare(a, b) == 0 }

// MergeInto implements [Policy].
func (p orderPolicy[F]) MergeInto(out *Branch[F], d *Decision, a, b *Branch[F]) error {
	c := cmp.Compare(a.Value, b.Value) * p.sign
	if c == 0 {
		sameInto(out, d, p.name, a, b, reasons[rEqualValues])
		return nil
	}
	reason := reasons[rGreaterValue]
	if p.sign < 0 {
		reason = reasons[rSmallerValue]
	}
	if c > 0 {
		pickInto(out, d, p.name, a, b, reason)
	} else {
		pickInto(out, d, p.name, b, a, reason)
	}
	return nil
}

// EnableWins returns the policy named "enable-wins" for a flag: when one
// branch says true and the other false, true wins. Use it for flags whose
// enabling must not be lost to a concurrent disabling, such as "needs
// review"; to let the disabling win, store the negated flag.
func EnableWins() Policy[bool] { return enableWins{} }

type enableWins struct{}

func (enableWins) Name() string { return "enable-wins" }

// Equal implements [Equaler].
func (enableWins) Equal(a, b bool) bool { return a == b }

// MergeInto implements [Policy].
func (p enableWins) MergeInto(out *Branch[bool], d *Decision, a, b *Branch[bool]) error {
	switch {
	case a.Value == b.Value:
		sameInto(out, d, p.Name(), a, b, reasons[rEqualFlags])
	case a.Value:
		pickInto(out, d, p.Name(), a, b, reasons[rEnableWins])
	default:
		pickInto(out, d, p.Name(), b, a, reasons[rEnableWins])
	}
	return nil
}

// Once returns the write-once register policy named "once": a field that is
// set at most once, such as a hold's booking ID.
//
// The zero value of F means "not set" and merges with anything to the other
// value ([Picked]). Two equal values merge as [Same]. Two different values
// that are both set cannot both be right — two bookings for one hold — so the
// merge is refused with a [*Rejection] and the caller must surface the
// conflict; the policy never picks one.
//
// F's == must not panic: an interface type holding an incomparable dynamic
// type is not allowed.
func Once[F comparable]() Policy[F] { return once[F]{} }

type once[F comparable] struct{}

func (once[F]) Name() string { return "once" }

// Equal implements [Equaler].
func (once[F]) Equal(a, b F) bool { return a == b }

// MergeInto implements [Policy].
func (p once[F]) MergeInto(out *Branch[F], d *Decision, a, b *Branch[F]) error {
	var zero F
	switch {
	case a.Value == b.Value:
		sameInto(out, d, p.Name(), a, b, reasons[rEqualValues])
		return nil
	case b.Value == zero:
		pickInto(out, d, p.Name(), a, b, reasons[rOtherUnset])
		return nil
	case a.Value == zero:
		pickInto(out, d, p.Name(), b, a, reasons[rOtherUnset])
		return nil
	}
	r := p.rejection(a.Value, b.Value, &a.Stamp, &b.Stamp)
	*out, *d = Branch[F]{}, Decision{Policy: p.Name(), Outcome: Rejected, Reason: r.Reason}
	return r
}

// rejection is the refusal of two set values a and b, stamped sa and sb.
func (p once[F]) rejection(a, b F, sa, sb *version.Stamp) *Rejection {
	// Name the values in stamp order so that both argument orders give the
	// same reason.
	if compareStamps(sa, sb) > 0 {
		a, b = b, a
	}
	return &Rejection{
		Policy: p.Name(),
		Reason: fmt.Sprintf("write-once field set to %v and to %v", a, b),
	}
}

// sameInto sets *out and *d to the result of merging two branches whose
// values are equal: the later branch (value and stamp), so that the result
// does not depend on the order of the arguments even when equal values
// differ in representation.
func sameInto[F any](out *Branch[F], d *Decision, name string, a, b *Branch[F], reason string) {
	r := a
	if compareStamps(&b.Stamp, &a.Stamp) > 0 {
		r = b
	}
	*out = *r
	*d = Decision{Policy: name, Outcome: Same, Reason: reason}
}

// compareStamps is [version.Stamp.Compare] through pointers, for the hot
// path of a field merge: passing two stamps by value copies them into the
// call.
func compareStamps(a, b *version.Stamp) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	return a.Dot.Compare(b.Dot)
}

// pickInto sets *out to winner with a Picked decision in *d.
func pickInto[F any](out *Branch[F], d *Decision, name string, winner, loser *Branch[F], reason string) {
	*out = *winner
	// Field by field: a composite literal is built aside and copied whole,
	// twice the stores of this 144-byte struct on the merge's hot path.
	d.Policy, d.Outcome, d.Reason, d.InSkewWindow = name, Picked, reason, false
	d.Winner, d.Loser = winner.Stamp, loser.Stamp
}
