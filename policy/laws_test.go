package policy_test

import (
	"cmp"
	"math"
	"testing"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/policy/policytest"
	"github.com/harborpoint/concord/version"
	"pgregory.net/rapid"
)

// The join laws for every built-in policy, checked with policytest.

var (
	agencies = []string{"Lisbon-Desk", "Porto-Web", "Baltimore-Pay", "Faro-Partner"}
	replicas = []version.ID{version.MustID("lisbon"), version.MustID("baltimore"), version.MustID("faro")}
)

func sets() *rapid.Generator[policy.Set[string]] {
	return rapid.Map(rapid.SliceOfN(rapid.SampledFrom(agencies), 0, 4),
		func(s []string) policy.Set[string] { return policy.NewSet(s...) })
}

// awsets generates add-wins sets the way replicas reach them: three replicas
// add (with dots that sometimes skip counters, as when a replica's other
// writes go to other fields), remove and merge, and one replica's state is
// the value.
func awsets() *rapid.Generator[policy.AWSet[string]] {
	return rapid.Custom(func(t *rapid.T) policy.AWSet[string] {
		var reps [3]policy.AWSet[string]
		var next [3]uint64
		aw := policy.AddWins[string]()
		for range rapid.IntRange(0, 12).Draw(t, "ops") {
			r := rapid.IntRange(0, 2).Draw(t, "replica")
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				next[r] += rapid.Uint64Range(1, 2).Draw(t, "step")
				e := rapid.SampledFrom(agencies[:3]).Draw(t, "add")
				reps[r] = reps[r].Add(e, version.Dot{ID: replicas[r], Counter: next[r]})
			case 1:
				reps[r] = reps[r].Remove(rapid.SampledFrom(agencies[:3]).Draw(t, "remove"))
			default:
				q := rapid.IntRange(0, 2).Draw(t, "from")
				m, _, err := policy.Merge(aw, policy.Branch[policy.AWSet[string]]{Value: reps[r]}, policy.Branch[policy.AWSet[string]]{Value: reps[q]})
				if err != nil {
					t.Fatal(err)
				}
				reps[r] = m.Value
			}
		}
		return reps[rapid.IntRange(0, 2).Draw(t, "which")]
	})
}

func multis() *rapid.Generator[policy.Multi[string]] {
	return rapid.Map(rapid.SliceOfN(rapid.SampledFrom([]string{"B-3107", "B-3112", "B-3120"}), 0, 3),
		func(s []string) policy.Multi[string] { return policy.NewMulti(s...) })
}

// floats includes NaN, both zeros and infinities, compared as cmp does.
func floats() *rapid.Generator[float64] {
	return rapid.SampledFrom([]float64{math.NaN(), math.Inf(-1), -1.5, math.Copysign(0, -1), 0, 2, math.Inf(1)})
}

func eq[F comparable](a, b F) bool           { return a == b }
func cmpEq[F cmp.Ordered](a, b F) bool       { return cmp.Compare(a, b) == 0 }
func setEq(a, b policy.Set[string]) bool     { return a.Equal(b) }
func awEq(a, b policy.AWSet[string]) bool    { return a.Equal(b) }
func multiEq(a, b policy.Multi[string]) bool { return a.Equal(b) }

func holdLifecycle(t testing.TB) *policy.StateMachine[string] {
	t.Helper()
	sm, err := policy.NewStateMachine(policy.StateMachineSpec[string]{
		Name:      "hold-status",
		States:    []string{"active", "released", "confirmed"},
		Absorbing: []string{"confirmed"},
		Rules: []policy.Rule[string]{
			policy.RejectRule("released", "active", "released vs active: reopening a released hold needs a retry"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

func TestLawsLWW(t *testing.T) {
	notes := rapid.SampledFrom([]string{"", "customer on the phone", "call back 14:30", "VIP"})
	policytest.Laws(t, policy.LWW[string](), notes, eq)
	// LWW never looks at values, so values need not be comparable.
	policytest.Laws(t, policy.LWW[[]string](), rapid.SliceOfN(notes, 0, 2), nil)
}

func TestLawsUnion(t *testing.T) { policytest.Laws(t, policy.Union[string](), sets(), setEq) }

func TestLawsAddWins(t *testing.T) { policytest.Laws(t, policy.AddWins[string](), awsets(), awEq) }

func TestLawsMaxMin(t *testing.T) {
	policytest.Laws(t, policy.Max[int64](), rapid.Int64Range(-3, 3), eq)
	policytest.Laws(t, policy.Min[int64](), rapid.Int64Range(-3, 3), eq)
	policytest.Laws(t, policy.Max[float64](), floats(), cmpEq)
	policytest.Laws(t, policy.Min[float64](), floats(), cmpEq)
	policytest.Laws(t, policy.Max[string](), rapid.SampledFrom([]string{"", "a", "b"}), eq)
}

func TestLawsEnableWins(t *testing.T) { policytest.Laws(t, policy.EnableWins(), rapid.Bool(), eq) }

func TestLawsOnce(t *testing.T) {
	bookings := rapid.SampledFrom([]string{"", "B-3107", "B-3112"})
	// Once's rejections are pairwise facts, so they hold in every grouping.
	policytest.LawsWith(t, policy.Once[string](), bookings, eq, policytest.Options{StrictRejection: true})
}

func TestLawsMultiValue(t *testing.T) {
	policytest.Laws(t, policy.MultiValue[string](), multis(), multiEq)
}

func TestLawsStateMachine(t *testing.T) {
	sm := holdLifecycle(t)
	policytest.Laws(t, sm, rapid.SampledFrom(sm.States()), eq)

	// A richer machine with merge rules: concurrent drafts go to review,
	// and review meets a draft by merging too (see MergeRule).
	toReview := func(a, b string) string { return "review" }
	sm2, err := policy.NewStateMachine(policy.StateMachineSpec[string]{
		Name:      "document",
		States:    []string{"draft-a", "draft-b", "review", "published", "withdrawn"},
		Absorbing: []string{"published", "withdrawn"},
		Rules: []policy.Rule[string]{
			policy.MergeRule("draft-a", "draft-b", toReview, "concurrent drafts go to review"),
			policy.MergeRule("draft-a", "review", toReview, "review absorbs a draft"),
			policy.MergeRule("draft-b", "review", toReview, "review absorbs a draft"),
			policy.PickRule("published", "withdrawn", "withdrawn", "withdrawal wins"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	policytest.Laws(t, sm2, rapid.SampledFrom(sm2.States()), eq)
}
