package policy

import (
	"reflect"
	"time"

	"github.com/harborpoint/concord/version"
)

// LWWOptions configures [LWW]. The zero LWWOptions is valid: no skew window.
type LWWOptions struct {
	// SkewWindow is the clock skew the deployment tolerates between
	// replicas. A decision between stamps whose wall times are closer than
	// SkewWindow is flagged with Decision.InSkewWindow: skew could have
	// inverted their order, so an observer can count such decisions and
	// correlate them with clock alarms. Zero or negative disables the flag.
	// [version.HLC.SkewWindow] returns a clock's configured window.
	SkewWindow time.Duration
}

// LWW returns the last-writer-wins policy, named "lww": the branch with the
// greater [version.Stamp] wins — hybrid logical clock time first, then the write's
// dot, so every replica picks the same branch even for equal times.
//
// Use LWW only for fields that are genuinely replaceable, such as an agent's
// draft note: it discards the losing branch's value silently, and timestamp
// order says nothing about which writer saw the other. Never use it for
// payment or lifecycle state; see the package documentation.
//
// The decision is [Picked] with reason "later stamp" (or "equal time, dot
// tiebreak" when only the dots differ), or [Same] for equal stamps, which
// name the same write. For strings, booleans and numbers, equal values are
// also [Same] — nothing was overwritten, so no decision is reported and none
// counts against the skew window. Other types are never compared, so LWW
// works for any F.
func LWW[F any](opts LWWOptions) Policy[F] {
	return lww[F]{skew: opts.SkewWindow, basic: basicKind(reflect.TypeFor[F]().Kind())}
}

type lww[F any] struct {
	skew  time.Duration
	basic bool // F is a string, bool or number type: equal values are Same
}

// basicKind reports whether values of kind k compare with == without
// panicking and without surprises (no pointers, no interfaces, no structs
// whose == means less than equal values, like time.Time's).
func basicKind(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func (lww[F]) Name() string { return "lww" }

func (p lww[F]) Merge(a, b Branch[F]) (Branch[F], Decision, error) {
	var (
		out Branch[F]
		d   Decision
	)
	err := p.MergeInto(&out, &d, &a, &b)
	return out, d, err
}

// MergeInto implements [Merger].
func (p lww[F]) MergeInto(out *Branch[F], d *Decision, a, b *Branch[F]) error {
	c := a.Stamp.Compare(b.Stamp)
	if c == 0 {
		// Equal stamps name the same write, hence the same value.
		*out, *d = *a, Decision{Policy: p.Name(), Outcome: Same, Reason: "same write"}
		return nil
	}
	if p.basic && any(a.Value) == any(b.Value) {
		// Both branches hold the same value: nothing was overwritten, so
		// there is no decision for an operator to weigh.
		sameInto(out, d, p.Name(), a, b, "equal values")
		return nil
	}
	winner, loser := a, b
	if c < 0 {
		winner, loser = b, a
	}
	reason := "later stamp"
	if winner.Stamp.Time == loser.Stamp.Time {
		reason = "equal time, dot tiebreak"
	}
	pickInto(out, d, p.Name(), winner, loser, reason)
	d.InSkewWindow = p.inSkewWindow(winner.Stamp.Time, loser.Stamp.Time)
	return nil
}

// inSkewWindow reports whether the wall times of the winner w and the loser
// l (w.Wall >= l.Wall) are closer than the skew window.
func (p lww[F]) inSkewWindow(w, l version.Timestamp) bool {
	if p.skew <= 0 {
		return false
	}
	// Unsigned arithmetic gives the exact distance even where the signed
	// subtraction would overflow.
	return uint64(w.Wall)-uint64(l.Wall) < uint64(p.skew)
}
