package resolve

import (
	"testing"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
	"pgregory.net/rapid"
)

// TestBuiltinsMergeInPlace checks that the built-in policies that offer an
// in-place merge still match the interface package resolve asks for: a
// change of the method's signature in package policy would otherwise send
// them through MergeInto unnoticed, slower but with the same results.
func TestBuiltinsMergeInPlace(t *testing.T) {
	for _, p := range []any{policy.LWW[string](), policy.Max[int](), policy.Min[int](), policy.Once[string](), policy.EnableWins(), policy.Union[string]()} {
		ok := false
		switch p := p.(type) {
		case policy.Policy[string]:
			_, ok = p.(inPlace[string])
		case policy.Policy[int]:
			_, ok = p.(inPlace[int])
		case policy.Policy[bool]:
			_, ok = p.(inPlace[bool])
		case policy.Policy[policy.Set[string]]:
			_, ok = p.(inPlace[policy.Set[string]])
		}
		if !ok {
			t.Errorf("%T does not merge in place", p)
		}
	}
}

// TestTrailKeepsWhatDoesNotPack adds to a trail decisions that pack and
// decisions that do not (a field index beyond 15 bits, a rule, OnDelete,
// stamp references beyond 255, a reason kept in the trail), more than fit
// inline, and reads every one back as it was added.
func TestTrailKeepsWhatDoesNotPack(t *testing.T) {
	var (
		tr   trail
		more *trailMore
		want []decided
	)
	for k := range 3 * inlineDecisions {
		d := decided{at: int32(k), winner: 1, loser: 2, reason: uint32(k), outcome: policy.Picked, skew: k%2 == 0}
		switch k % 6 {
		case 1:
			d.at = 40_000
		case 2:
			d.winner, d.loser = 300, 70_000
		case 3:
			d.reason = reasonInTrail | uint32(k)
		case 4:
			d.at = atDelete
		case 5:
			d.at = ^int32(k)
		}
		if k%2 == 0 {
			tr.addField(d.at, d.winner, d.loser, d.reason, d.outcome, d.skew, &more)
		} else {
			tr.add(d, &more)
		}
		want = append(want, d)
	}
	for i, d := range want {
		if got := tr.at(i, more); got != d {
			t.Errorf("decision %d: %+v, want %+v", i, got, d)
		}
	}
}

// TestSameStampIsEquality checks sameStamp against == on stamps drawn from a
// few values of each part, so that most pairs differ in one part only: the
// pairs a compare that skipped a part would get wrong. (Two stamps of valid
// writes that differ only in their time have the same dot, which no valid
// history holds, so the merges' own tests cannot tell.)
func TestSameStampIsEquality(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		draw := func(label string) version.Stamp {
			id, err := version.NewID(rapid.SampledFrom([]string{"lisbon", "porto"}).Draw(rt, label+" name"),
				rapid.Uint64Range(0, 1).Draw(rt, label+" incarnation"))
			if err != nil {
				rt.Fatal(err)
			}
			return version.Stamp{
				Time: version.Timestamp{Wall: rapid.Int64Range(0, 1).Draw(rt, label+" wall"),
					Logical: rapid.Uint32Range(0, 1).Draw(rt, label+" logical")},
				Dot: version.Dot{ID: id, Counter: rapid.Uint64Range(0, 1).Draw(rt, label+" counter")},
			}
		}
		a, b := draw("a"), draw("b")
		if got, want := sameStamp(&a, &b), a == b; got != want {
			rt.Fatalf("sameStamp(%v, %v) = %v, want %v", a, b, got, want)
		}
	})
}
