package policy

import (
	"testing"

	"github.com/harborpoint/concord/internal/inplace"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/version"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// inPlacer is the in-place merge as package resolve sees it.
type inPlacer[F any] interface {
	Policy[F]
	MergeField(_ inplace.Key, out, a, b *F, sa, sb *version.Stamp) (Verdict, bool, inplace.Reason, error)
}

// TestMergeFieldAgrees checks every built-in's MergeField against its
// MergeInto, the definition, on random values and stamps (equal ones
// included): the outcome, the result's value and stamp, the winner and the
// loser, the reason's text and the error must be what MergeInto gives, as
// the comment on MergeField in inplace.go states them.
func TestMergeFieldAgrees(t *testing.T) {
	proof.Check(t, proof.Histories(t, 300), func(t *rapid.T) {
		sa, sb := genStamp(t, "a"), genStamp(t, "b")
		str := rapid.SampledFrom([]string{"", "x", "y"})
		num := rapid.IntRange(-2, 2)
		checkMergeField(t, LWW[string](), str.Draw(t, "lww a"), str.Draw(t, "lww b"), sa, sb)
		checkMergeField(t, Max[int](), num.Draw(t, "max a"), num.Draw(t, "max b"), sa, sb)
		checkMergeField(t, Min[int](), num.Draw(t, "min a"), num.Draw(t, "min b"), sa, sb)
		checkMergeField(t, Once[string](), str.Draw(t, "once a"), str.Draw(t, "once b"), sa, sb)
		checkMergeField(t, EnableWins(), rapid.Bool().Draw(t, "flag a"), rapid.Bool().Draw(t, "flag b"), sa, sb)
		set := func(label string) Set[string] {
			return NewSet(rapid.SliceOfN(rapid.SampledFrom([]string{"p", "q", "r"}), 0, 3).Draw(t, label)...)
		}
		checkMergeField(t, Union[string](), set("union a"), set("union b"), sa, sb)
	})
}

// genStamp draws a stamp from a few times and dots, so that equal times and
// equal stamps come up.
func genStamp(t *rapid.T, label string) version.Stamp {
	ids := []version.ID{version.MustID("lisbon"), version.MustID("porto")}
	return version.Stamp{
		Time: version.Timestamp{Wall: int64(rapid.IntRange(1, 3).Draw(t, label+" wall"))},
		Dot:  version.Dot{ID: ids[rapid.IntRange(0, 1).Draw(t, label+" id")], Counter: uint64(rapid.IntRange(1, 2).Draw(t, label+" counter"))},
	}
}

func checkMergeField[F any](t *rapid.T, p Policy[F], a, b F, sa, sb version.Stamp) {
	ip, ok := p.(inPlacer[F])
	require.True(t, ok, "%s does not merge in place", p.Name())
	want, wd, werr := Merge(p, Branch[F]{Value: a, Stamp: sa}, Branch[F]{Value: b, Stamp: sb})
	var out F
	v, fromB, reason, err := ip.MergeField(inplace.Key{}, &out, &a, &b, &sa, &sb)
	require.Equal(t, werr, err, p.Name())
	if err != nil {
		return
	}
	got := Branch[F]{Value: a, Stamp: sa}
	winner, loser := sa, sb
	if fromB {
		got, winner, loser = Branch[F]{Value: b, Stamp: sb}, sb, sa
	}
	d := Decision{Policy: p.Name(), Outcome: v, Reason: inplace.Reasons[reason]}
	switch v {
	case Combined:
		got.Value = out
	case Picked:
		d.Winner, d.Loser = winner, loser
	}
	require.Equal(t, want, got, "%s: merged branch", p.Name())
	require.Equal(t, wd, d, "%s: decision", p.Name())
}
