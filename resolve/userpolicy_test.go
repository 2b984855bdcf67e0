package resolve_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
	"github.com/stretchr/testify/require"
)

// boasting is a user's policy whose reasons name the values: the greater
// wins, "7 beats 3".
type boasting struct{}

func (boasting) Name() string { return "boasting" }

func (p boasting) MergeInto(out *policy.Branch[int], d *policy.Decision, a, b *policy.Branch[int]) error {
	w, l := a, b
	if b.Value > a.Value || (b.Value == a.Value && b.Stamp.Compare(a.Stamp) > 0) {
		w, l = b, a
	}
	*out = *w
	if a.Value == b.Value {
		*d = policy.Decision{Policy: p.Name(), Outcome: policy.Same, Reason: "equal"}
		return nil
	}
	*d = policy.Decision{Policy: p.Name(), Outcome: policy.Picked, Winner: w.Stamp, Loser: l.Stamp,
		Reason: fmt.Sprintf("%d beats %d", w.Value, l.Value)}
	return nil
}

// counted wraps a built-in policy as a user would, counting the calls of
// its MergeInto: a user's policy is merged through MergeInto even when it
// wraps a built-in that merges in place.
type counted struct {
	policy.Policy[int]
	calls *atomic.Int64
}

func (c counted) MergeInto(out *policy.Branch[int], d *policy.Decision, a, b *policy.Branch[int]) error {
	c.calls.Add(1)
	return c.Policy.MergeInto(out, d, a, b)
}

type scores struct{ Boast, Wrapped, Plain, Sum int }

// TestUserPoliciesMergeThroughMergeInto merges a record whose fields are
// bound to a user's policy with formatted reasons, to a user's wrapper of
// Max and to Max itself, with a record rule whose reasons are formatted
// too, from several goroutines at once: every decision must carry its
// policy's or rule's own reason — also beyond the reasons a resolver
// numbers (the rest are kept in the merge's trail), and for a resolution
// made before the table filled — and the wrapper's MergeInto must be the
// one called.
func TestUserPoliciesMergeThroughMergeInto(t *testing.T) {
	var calls atomic.Int64
	rule := resolve.RecordRule[scores]{Name: "sum", Apply: func(out *scores, _, _ resolve.Branch[scores]) (string, error) {
		if s := out.Boast + out.Wrapped + out.Plain; s != out.Sum {
			out.Sum = s
			return fmt.Sprintf("sum set to %d", s), nil
		}
		return "", nil
	}}
	r, err := resolve.New("scores", []resolve.Field[scores]{
		resolve.Bind("boast", func(s *scores) *int { return &s.Boast }, policy.Policy[int](boasting{})),
		resolve.Bind("wrapped", func(s *scores) *int { return &s.Wrapped }, policy.Policy[int](counted{policy.Max[int](), &calls})),
		resolve.Bind("plain", func(s *scores) *int { return &s.Plain }, policy.Max[int]()),
	}, []resolve.RecordRule[scores]{rule}, resolve.Options{})
	require.NoError(t, err)
	mergeK := func(k int) (resolve.Resolution[scores], error) {
		a := resolve.Branch[scores]{Value: scores{Boast: k, Wrapped: 1, Plain: 2}, Stamp: version.Stamp{Time: at(1), Dot: version.Dot{ID: lisbon, Counter: 1}}}
		b := resolve.Branch[scores]{Value: scores{Boast: k + 1, Wrapped: 2, Plain: 1}, Stamp: version.Stamp{Time: at(2), Dot: version.Dot{ID: baltimore, Counter: 1}}}
		return merge.Branches(r, []resolve.Branch[scores]{a, b})
	}
	check := func(k int, res resolve.Resolution[scores]) error {
		var got []string
		for _, d := range res.Decisions() {
			got = append(got, d.Field+d.Rule+": "+d.Policy+", "+d.Reason)
		}
		want := []string{
			fmt.Sprintf("boast: boasting, %d beats %d", k+1, k),
			"wrapped: max, greater value",
			"plain: max, greater value",
			fmt.Sprintf("sum: rule, sum set to %d", k+5),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("merge %d: decisions %q, want %q", k, got, want)
		}
		return nil
	}
	first, err := mergeK(-1)
	require.NoError(t, err)
	const workers, each = 4, 150 // 1,200 reasons: beyond what a resolver numbers
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				k := w*each + i
				res, err := mergeK(k)
				if err == nil {
					err = check(k, res)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.NoError(t, check(-1, first), "a resolution made before the table filled")
	require.Equal(t, int64(1+workers*each), calls.Load(), "the wrapper's MergeInto calls")
}
