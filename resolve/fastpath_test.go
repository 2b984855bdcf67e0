package resolve_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// slow hides a policy's MergeInto, so that Bind takes the by-value path.
type slow[F any] struct{ p policy.Policy[F] }

func (s slow[F]) Name() string { return s.p.Name() }
func (s slow[F]) Merge(a, b policy.Branch[F]) (policy.Branch[F], policy.Decision, error) {
	return s.p.Merge(a, b)
}

// TestFastPathAgreesWithMerge: the pointer fast path of policy.Merger and
// the by-value Merge give the same merged record, stamp and decisions.
func TestFastPathAgreesWithMerge(t *testing.T) {
	lww := policy.LWW[string](policy.LWWOptions{SkewWindow: 1e9})
	slowFields := []resolve.Field[ticket]{
		resolve.Bind("title", func(t *ticket) *string { return &t.Title }, policy.Policy[string](slow[string]{lww})),
		resolve.Bind("tags", func(t *ticket) *policy.Set[string] { return &t.Tags }, policy.Policy[policy.Set[string]](slow[policy.Set[string]]{policy.Union[string]()})),
		resolve.Bind("priority", func(t *ticket) *int { return &t.Priority }, policy.Policy[int](slow[int]{policy.Max[int]()})),
		resolve.Bind("owner", func(t *ticket) *string { return &t.Owner }, policy.Policy[string](slow[string]{policy.Once[string]()})),
		resolve.Bind("urgent", func(t *ticket) *bool { return &t.Urgent }, policy.Policy[bool](slow[bool]{policy.EnableWins()})),
		resolve.Bind("estimate", func(t *ticket) *int { return &t.Estimate }, policy.Policy[int](slow[int]{policy.Min[int]()})),
	}
	fastFields := []resolve.Field[ticket]{
		resolve.Bind("title", func(t *ticket) *string { return &t.Title }, lww),
		resolve.Bind("tags", func(t *ticket) *policy.Set[string] { return &t.Tags }, policy.Union[string]()),
		resolve.Bind("priority", func(t *ticket) *int { return &t.Priority }, policy.Max[int]()),
		resolve.Bind("owner", func(t *ticket) *string { return &t.Owner }, policy.Once[string]()),
		resolve.Bind("urgent", func(t *ticket) *bool { return &t.Urgent }, policy.EnableWins()),
		resolve.Bind("estimate", func(t *ticket) *int { return &t.Estimate }, policy.Min[int]()),
	}
	slowR, err := resolve.New("ticket", slowFields, nil, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fastR, err := resolve.New("ticket", fastFields, nil, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	word := rapid.SampledFrom([]string{"", "a", "b"})
	ids := []version.ID{lisbon, baltimore, version.MustID("bristol")}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "branches")
		bs := make([]policy.Branch[ticket], n)
		for i := range bs {
			bs[i] = policy.Branch[ticket]{
				Value: ticket{
					Title: word.Draw(t, "title"), Tags: policy.NewSet(rapid.SliceOfN(word, 0, 2).Draw(t, "tags")...),
					Priority: rapid.IntRange(0, 3).Draw(t, "priority"), Owner: word.Draw(t, "owner"),
					Urgent: rapid.Bool().Draw(t, "urgent"), Estimate: rapid.IntRange(0, 3).Draw(t, "estimate"),
				},
				Stamp: version.Stamp{Time: at(int64(rapid.IntRange(1, 3).Draw(t, "time"))), Dot: version.Dot{ID: ids[i%3], Counter: uint64(i + 1)}},
			}
		}
		a, errA := slowR.Merge(bs)
		b, errB := fastR.Merge(bs)
		if (errA == nil) != (errB == nil) || errA != nil && errA.Error() != errB.Error() {
			t.Fatalf("errors differ: %v / %v", errA, errB)
		}
		if errA != nil {
			return
		}
		if a.Value.Title != b.Value.Title || !a.Value.Tags.Equal(b.Value.Tags) || a.Value.Priority != b.Value.Priority ||
			a.Value.Owner != b.Value.Owner || a.Value.Urgent != b.Value.Urgent || a.Value.Estimate != b.Value.Estimate || a.Stamp != b.Stamp {
			t.Fatalf("values differ:\n%+v\n%+v", a, b)
		}
		if len(a.Decisions) != len(b.Decisions) {
			t.Fatalf("decisions differ: %v / %v", a.Decisions, b.Decisions)
		}
		for i := range a.Decisions {
			if a.Decisions[i] != b.Decisions[i] {
				t.Fatalf("decision %d differs: %v / %v", i, a.Decisions[i], b.Decisions[i])
			}
		}
	})
}
