package policytest_test

import (
	"fmt"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/policy/policytest"
	"github.com/harborpoint/concord/version"
)

// sum is a broken policy: merging a branch with itself doubles it.
type sum struct{}

func (sum) Name() string { return "sum" }

func (sum) MergeInto(out *policy.Branch[int], d *policy.Decision, a, b *policy.Branch[int]) error {
	s := a.Stamp
	if b.Stamp.Compare(s) > 0 {
		s = b.Stamp
	}
	*out = policy.Branch[int]{Value: a.Value + b.Value, Stamp: s}
	*d = policy.Decision{Policy: "sum", Outcome: policy.Combined, Reason: "added"}
	return nil
}

// Check runs the laws on branches you choose; in a test, Laws draws them
// with rapid: policytest.Laws(t, sum{}, rapid.IntRange(0, 9), nil).
func ExampleCheck() {
	lis := version.MustID("lisbon")
	b := func(v int, n uint64) policy.Branch[int] {
		return policy.Branch[int]{Value: v, Stamp: version.Stamp{Time: version.Timestamp{Wall: int64(n) * 1e9}, Dot: version.Dot{ID: lis, Counter: n}}}
	}
	fmt.Println(policytest.Check(policy.Max[int](), nil, policytest.Options{}, b(1, 1), b(2, 2), b(3, 3)))
	fmt.Println(policytest.Check(sum{}, nil, policytest.Options{}, b(1, 1), b(2, 2), b(3, 3)))
	// Output:
	// <nil>
	// policytest: policy "sum" is not idempotent:
	// 	x = 1 @ 1970-01-01T00:00:01Z/lisbon:1
	// 	Merge(x, x) = 2 @ 1970-01-01T00:00:01Z/lisbon:1 (combined: added)
}
