package policy

import (
	"cmp"

	"github.com/harborpoint/concord/internal/inplace"
	"github.com/harborpoint/concord/version"
)

// The in-place merges of the built-in policies (see package
// internal/inplace): package resolve merges a field of a record through
// MergeField instead of MergeInto, from pointers to the two values and
// their stamps, with the decision returned in registers, not written as a
// 144-byte Decision the caller must then read and clear. Each MergeField
// must agree with its policy's MergeInto, which stays the definition
// (TestMergeFieldAgrees checks every built-in against it):
//
//   - Same: the values are equal; the result is the value and stamp of the
//     branch with the later stamp, fromB when that is b.
//   - Picked: the value and stamp of the winner, fromB when b won; the
//     loser is the other branch.
//   - Combined: the result's value is written to *out, its stamp is the
//     later of the two (fromB when that is b's); MergeInto's Decision names
//     no winner and no loser.
//   - an error: MergeInto's error; nothing else is meaningful.
//
// reason is MergeInto's Decision.Reason; the Decision's Policy is the
// policy's Name and InSkewWindow is false. *out is written only for
// Combined.

// laterB reports whether sb is the later of two stamps, as [later] chooses.
func laterB(sa, sb *version.Stamp) bool { return compareStamps(sa, sb) < 0 }

// MergeField is the in-place form of MergeInto.
func (lww[F]) MergeField(_ inplace.Key, _, _, _ *F, sa, sb *version.Stamp) (Verdict, bool, string, error) {
	c := compareStamps(sa, sb)
	if c == 0 {
		return Same, false, "same write", nil
	}
	if sa.Time == sb.Time {
		return Picked, c < 0, "equal time, dot tiebreak", nil
	}
	return Picked, c < 0, "later stamp", nil
}

// MergeField is the in-place form of MergeInto.
func (p orderPolicy[F]) MergeField(_ inplace.Key, _, a, b *F, sa, sb *version.Stamp) (Verdict, bool, string, error) {
	c := cmp.Compare(*a, *b) * p.sign
	switch {
	case c == 0:
		return Same, laterB(sa, sb), "equal values", nil
	case p.sign < 0:
		return Picked, c < 0, "smaller value", nil
	default:
		return Picked, c < 0, "greater value", nil
	}
}

// MergeField is the in-place form of MergeInto.
func (enableWins) MergeField(_ inplace.Key, _, a, b *bool, sa, sb *version.Stamp) (Verdict, bool, string, error) {
	if *a == *b {
		return Same, laterB(sa, sb), "equal flags", nil
	}
	return Picked, *b, "enable wins", nil
}

// MergeField is the in-place form of MergeInto.
func (p once[F]) MergeField(_ inplace.Key, _, a, b *F, sa, sb *version.Stamp) (Verdict, bool, string, error) {
	var zero F
	switch {
	case *a == *b:
		return Same, laterB(sa, sb), "equal values", nil
	case *b == zero:
		return Picked, false, "write-once: the other branch is unset", nil
	case *a == zero:
		return Picked, true, "write-once: the other branch is unset", nil
	}
	return Rejected, false, "", p.rejection(*a, *b, sa, sb)
}

// MergeField is the in-place form of MergeInto.
func (unionPolicy[E]) MergeField(_ inplace.Key, out, a, b *Set[E], sa, sb *version.Stamp) (Verdict, bool, string, error) {
	if a.Equal(*b) {
		return Same, laterB(sa, sb), "equal sets", nil
	}
	*out = a.Union(*b)
	return Combined, laterB(sa, sb), "set union", nil
}
