package policy

import (
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
// greater [version.Stamp] wins — hybrid logical clock time first, then the
// write's dot, so every replica picks the same branch even for equal times.
// In a record, the stamp is the field's own: that of the write that last
// changed the field, so a concurrent write that left the field alone cannot
// win it with a stale copy.
//
// Use LWW only for fields that are genuinely replaceable, such as an agent's
// draft note: it discards the losing branch's value silently, and timestamp
// order says nothing about which writer saw the other. Never use it for
// payment or lifecycle state; see the package documentation.
//
// The decision is [Picked] with reason "later stamp" (or "equal time, dot
// tiebreak" when only the dots differ), or [Same] for equal stamps, which
// name the same write. LWW never compares values, so it works for any F;
// bound in a record (package resolve), equal values merge as [Same] before
// LWW runs — nothing was overwritten, so no decision is reported and none
// counts against the skew window.
func LWW[F any](opts LWWOptions) Policy[F] {
	return lww[F]{skew: opts.SkewWindow}
}

type lww[F any] struct {
	skew time.Duration
}

func (lww[F]) Name() string { return "lww" }

// Replaceable implements [Replaceable]: the later stamp's value wins.
func (lww[F]) Replaceable() bool { return true }

// MergeInto implements [Policy].
func (p lww[F]) MergeInto(out *Branch[F], d *Decision, a, b *Branch[F]) error {
	c := a.Stamp.Compare(b.Stamp)
	if c == 0 {
		// Equal stamps name the same write, hence the same value.
		*out, *d = *a, Decision{Policy: p.Name(), Outcome: Same, Reason: "same write"}
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
