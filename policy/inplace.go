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
// reason is MergeInto's Decision.Reason, by index into reasons; the
// Decision's Policy is the policy's Name and InSkewWindow is false. *out is
// written only for Combined.

// The reasons of the built-in policies that merge in place, by the index
// MergeField returns; MergeInto writes the same texts.
const (
	_ inplace.Reason = iota
	rSameWrite
	rLaterStamp
	rDotTiebreak
	rEqualValues
	rGreaterValue
	rSmallerValue
	rEqualFlags
	rEnableWins
	rOtherUnset
	rEqualSets
	rSetUnion
	numReasons
)

// reasons holds the text of each reason.
var reasons = [numReasons]string{
	rSameWrite:    "same write",
	rLaterStamp:   "later stamp",
	rDotTiebreak:  "equal time, dot tiebreak",
	rEqualValues:  "equal values",
	rGreaterValue: "greater value",
	rSmallerValue: "smaller value",
	rEqualFlags:   "equal flags",
	rEnableWins:   "enable wins",
	rOtherUnset:   "write-once: the other branch is unset",
	rEqualSets:    "equal sets",
	rSetUnion:     "set union",
}

func init() { inplace.Reasons = reasons[:] }

// laterB reports whether sb is the later of two stamps, as [later] chooses.
func laterB(sa, sb *version.Stamp) bool { return compareStamps(sa, sb) < 0 }

// MergeField is the in-place form of MergeInto.
func (lww[F]) MergeField(_ inplace.Key, _, _, _ *F, sa, sb *version.Stamp) (Verdict, bool, inplace.Reason, error) {
	c := compareStamps(sa, sb)
	if c == 0 {
		return Same, false, rSameWrite, nil
	}
	if sa.Time == sb.Time {
		return Picked, c < 0, rDotTiebreak, nil
	}
	return Picked, c < 0, rLaterStamp, nil
}

// MergeField is the in-place form of MergeInto.
func (p orderPolicy[F]) MergeField(_ inplace.Key, _, a, b *F, sa, sb *version.Stamp) (Verdict, bool, inplace.Reason, error) {
	c := cmp.Compare(*a, *b) * p.sign
	switch {
	case c == 0:
		return Same, laterB(sa, sb), rEqualValues, nil
	case p.sign < 0:
		return Picked, c < 0, rSmallerValue, nil
	default:
		return Picked, c < 0, rGreaterValue, nil
	}
}

// MergeField is the in-place form of MergeInto.
func (enableWins) MergeField(_ inplace.Key, _, a, b *bool, sa, sb *version.Stamp) (Verdict, bool, inplace.Reason, error) {
	if *a == *b {
		return Same, laterB(sa, sb), rEqualFlags, nil
	}
	return Picked, *b, rEnableWins, nil
}

// MergeField is the in-place form of MergeInto.
func (p once[F]) MergeField(_ inplace.Key, _, a, b *F, sa, sb *version.Stamp) (Verdict, bool, inplace.Reason, error) {
	var zero F
	switch {
	case *a == *b:
		return Same, laterB(sa, sb), rEqualValues, nil
	case *b == zero:
		return Picked, false, rOtherUnset, nil
	case *a == zero:
		return Picked, true, rOtherUnset, nil
	}
	return Rejected, false, 0, p.rejection(*a, *b, sa, sb)
}

// MergeField is the in-place form of MergeInto.
func (unionPolicy[E]) MergeField(_ inplace.Key, out, a, b *Set[E], sa, sb *version.Stamp) (Verdict, bool, inplace.Reason, error) {
	if a.Equal(*b) {
		return Same, laterB(sa, sb), rEqualSets, nil
	}
	*out = a.Union(*b)
	return Combined, laterB(sa, sb), rSetUnion, nil
}
