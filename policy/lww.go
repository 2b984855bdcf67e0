package policy

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
//
// Decisions between stamps closer in time than the clock skew the
// deployment tolerates are flagged by the resolver (resolve.Options.SkewWindow,
// the one place the window is configured), not here.
func LWW[F any]() Policy[F] { return lww[F]{} }

type lww[F any] struct{}

func (lww[F]) Name() string { return "lww" }

// Replaceable implements [Replaceable]: the later stamp's value wins.
func (lww[F]) Replaceable() bool { return true }

// MergeInto implements [Policy].
func (p lww[F]) MergeInto(out *Branch[F], d *Decision, a, b *Branch[F]) error {
	c := compareStamps(&a.Stamp, &b.Stamp)
	if c == 0 {
		// Equal stamps name the same write, hence the same value.
		*out, *d = *a, Decision{Policy: p.Name(), Outcome: Same, Reason: reasons[rSameWrite]}
		return nil
	}
	winner, loser := a, b
	if c < 0 {
		winner, loser = b, a
	}
	reason := reasons[rLaterStamp]
	if winner.Stamp.Time == loser.Stamp.Time {
		reason = reasons[rDotTiebreak]
	}
	pickInto(out, d, p.Name(), winner, loser, reason)
	return nil
}
