package policytest_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/policy/policytest"
	"github.com/harborpoint/concord/version"
	"pgregory.net/rapid"
)

// mustFail checks that Laws fails on p and reports the named law.
func mustFail[F any](t *testing.T, p policy.Policy[F], values *rapid.Generator[F], law string) {
	t.Helper()
	failed, out := proof.Capture(t, func(tb rapid.TB) { policytest.Laws(tb, p, values, nil) })
	if !failed {
		t.Fatalf("Laws passed a policy that is not %s:\n%s", law, out)
	}
	if want := "is not " + law; !strings.Contains(out, want) {
		t.Fatalf("Laws failed, but the report does not say %q:\n%s", want, out)
	}
	t.Logf("caught:\n%s", firstLines(out, 12))
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// fake is a policy built from a function, for broken policies.
type fake[F any] struct {
	name  string
	merge func(a, b policy.Branch[F]) (policy.Branch[F], policy.Decision, error)
}

func (f fake[F]) Name() string { return f.name }
func (f fake[F]) MergeInto(out *policy.Branch[F], d *policy.Decision, a, b *policy.Branch[F]) error {
	var err error
	*out, *d, err = f.merge(*a, *b)
	return err
}

func later(a, b version.Stamp) version.Stamp {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

// combined returns a Combined result with the later stamp.
func combined(name string, v int, a, b policy.Branch[int]) (policy.Branch[int], policy.Decision, error) {
	return policy.Branch[int]{Value: v, Stamp: later(a.Stamp, b.Stamp)},
		policy.Decision{Policy: name, Outcome: policy.Combined}, nil
}

func picked[F any](name string, w, l policy.Branch[F]) (policy.Branch[F], policy.Decision, error) {
	return w, policy.Decision{Policy: name, Outcome: policy.Picked, Winner: w.Stamp, Loser: l.Stamp}, nil
}

var ints = rapid.IntRange(-5, 5)

func TestLawsCatchesNonCommutative(t *testing.T) {
	first := fake[int]{name: "first-wins", merge: func(a, b policy.Branch[int]) (policy.Branch[int], policy.Decision, error) {
		if a.Stamp == b.Stamp {
			return a, policy.Decision{Policy: "first-wins", Outcome: policy.Same}, nil
		}
		return picked("first-wins", a, b)
	}}
	mustFail(t, first, ints, "commutative")
}

func TestLawsCatchesNonAssociative(t *testing.T) {
	avg := fake[int]{name: "average", merge: func(a, b policy.Branch[int]) (policy.Branch[int], policy.Decision, error) {
		if a.Value == b.Value {
			return policy.Branch[int]{Value: a.Value, Stamp: later(a.Stamp, b.Stamp)},
				policy.Decision{Policy: "average", Outcome: policy.Same}, nil
		}
		return combined("average", (a.Value+b.Value)/2, a, b)
	}}
	mustFail(t, avg, ints, "associative")
}

func TestLawsCatchesNonIdempotent(t *testing.T) {
	sum := fake[int]{name: "sum", merge: func(a, b policy.Branch[int]) (policy.Branch[int], policy.Decision, error) {
		return combined("sum", a.Value+b.Value, a, b)
	}}
	mustFail(t, sum, rapid.IntRange(1, 5), "idempotent")
}

// A tiebreak that depends on something other than the branches: here a
// counter, so that the failure is certain rather than likely.
func TestLawsCatchesNonDeterministic(t *testing.T) {
	var calls atomic.Int64
	flip := fake[int]{name: "flip", merge: func(a, b policy.Branch[int]) (policy.Branch[int], policy.Decision, error) {
		if calls.Add(1)%2 == 0 {
			return picked("flip", a, b)
		}
		return picked("flip", b, a)
	}}
	mustFail(t, flip, ints, "deterministic")
}

// A random tiebreak between equal times: caught as non-deterministic, or,
// depending on the dice, as non-commutative or non-associative (rapid then
// reports the failure as flaky, which still fails the test).
func TestLawsCatchesRandomTiebreak(t *testing.T) {
	random := fake[string]{name: "random-tiebreak", merge: func(a, b policy.Branch[string]) (policy.Branch[string], policy.Decision, error) {
		c := a.Stamp.Time.Compare(b.Stamp.Time)
		if c == 0 && a.Stamp != b.Stamp {
			c = 1 - 2*rand.IntN(2)
		}
		switch {
		case c > 0:
			return picked("random-tiebreak", a, b)
		case c < 0:
			return picked("random-tiebreak", b, a)
		}
		return a, policy.Decision{Policy: "random-tiebreak", Outcome: policy.Same}, nil
	}}
	failed, out := proof.Capture(t, func(tb rapid.TB) {
		policytest.Laws(tb, random, rapid.SampledFrom([]string{"x", "y"}), nil)
	})
	if !failed || !strings.Contains(out, `policy "random-tiebreak" is not`) {
		t.Fatalf("Laws did not catch a random tiebreak:\n%s", out)
	}
}

func TestLawsCatchesMutation(t *testing.T) {
	appendInPlace := fake[[]int]{name: "append", merge: func(a, b policy.Branch[[]int]) (policy.Branch[[]int], policy.Decision, error) {
		if len(a.Value) > 0 && len(b.Value) > 0 {
			a.Value[0] = b.Value[0] // writes into the caller's slice
		}
		return policy.Branch[[]int]{Value: a.Value, Stamp: later(a.Stamp, b.Stamp)},
			policy.Decision{Policy: "append", Outcome: policy.Combined}, nil
	}}
	mustFail(t, appendInPlace, rapid.SliceOfN(rapid.IntRange(0, 3), 1, 2), "pure")
}

func TestLawsCatchesBadDecision(t *testing.T) {
	// Picks the later branch but reports a Same outcome and another name.
	wrong := fake[int]{name: "wrong", merge: func(a, b policy.Branch[int]) (policy.Branch[int], policy.Decision, error) {
		w := a
		if b.Stamp.Compare(a.Stamp) > 0 {
			w = b
		}
		return w, policy.Decision{Policy: "lww", Outcome: policy.Same}, nil
	}}
	mustFail(t, wrong, ints, "well-formed")
}

func TestLawsCatchesAsymmetricRejection(t *testing.T) {
	onlyOneWay := fake[int]{name: "one-way", merge: func(a, b policy.Branch[int]) (policy.Branch[int], policy.Decision, error) {
		switch {
		case a.Value == b.Value:
			return policy.Branch[int]{Value: a.Value, Stamp: later(a.Stamp, b.Stamp)},
				policy.Decision{Policy: "one-way", Outcome: policy.Same}, nil
		case a.Value < b.Value:
			r := &policy.Rejection{Policy: "one-way", Reason: "smaller first"}
			return policy.Branch[int]{}, policy.Decision{Policy: "one-way", Outcome: policy.Rejected}, r
		}
		return picked("one-way", a, b)
	}}
	mustFail(t, onlyOneWay, ints, "commutative")
}

// A correct policy passes, with rejections allowed when symmetric.
func TestLawsPassesCorrectPolicies(t *testing.T) {
	policytest.Laws(t, policy.Max[int](), ints, nil)
	policytest.Laws(t, policy.Once[int](), rapid.IntRange(0, 3), nil)
	policytest.LawsWith(t, policy.Once[int](), rapid.IntRange(0, 3), nil, policytest.Options{StrictRejection: true})
}

// A lifecycle with an absorbing state and a rejected pair passes Laws, but
// not with StrictRejection: whether released, active and confirmed are
// rejected depends on which pair is merged first.
func TestStrictRejection(t *testing.T) {
	sm, err := policy.NewStateMachine(policy.StateMachineSpec[string]{
		Name:      "hold-status",
		States:    []string{"active", "released", "confirmed"},
		Absorbing: []string{"confirmed"},
		Rules:     []policy.Rule[string]{policy.RejectRule("released", "active", "reopening needs a retry")},
	})
	if err != nil {
		t.Fatal(err)
	}
	states := rapid.SampledFrom(sm.States())
	policytest.Laws(t, sm, states, nil)

	lis := version.MustID("lisbon")
	br := func(s string, n uint64) policy.Branch[string] {
		return policy.Branch[string]{Value: s, Stamp: version.Stamp{Dot: version.Dot{ID: lis, Counter: n}}}
	}
	released, active, confirmed := br("released", 1), br("active", 2), br("confirmed", 3)
	if err := policytest.Check(sm, nil, policytest.Options{}, released, active, confirmed); err != nil {
		t.Fatalf("Check = %v", err)
	}
	err = policytest.Check(sm, nil, policytest.Options{StrictRejection: true}, released, active, confirmed)
	var v *policytest.Violation
	if !errors.As(err, &v) || v.Law != "associative" {
		t.Fatalf("StrictRejection did not flag grouping-dependent rejection: %v", err)
	}
	t.Logf("with StrictRejection:\n%v", err)
}

func TestCheckReport(t *testing.T) {
	lis, iad := version.MustID("lisbon"), version.MustID("baltimore")
	at := func(sec int64, id version.ID, n uint64) version.Stamp {
		return version.Stamp{Time: version.Timestamp{Wall: sec * 1e9}, Dot: version.Dot{ID: id, Counter: n}}
	}
	a := policy.Branch[int]{Value: 1, Stamp: at(10, lis, 1)}
	b := policy.Branch[int]{Value: 2, Stamp: at(10, iad, 1)}
	c := policy.Branch[int]{Value: 3, Stamp: at(11, lis, 2)}
	if err := policytest.Check(policy.Max[int](), nil, policytest.Options{}, a, b, c); err != nil {
		t.Fatalf("Check(max) = %v", err)
	}
	sum := fake[int]{name: "sum", merge: func(a, b policy.Branch[int]) (policy.Branch[int], policy.Decision, error) {
		return combined("sum", a.Value+b.Value, a, b)
	}}
	err := policytest.Check(sum, nil, policytest.Options{}, a, b, c)
	var v *policytest.Violation
	if !errors.As(err, &v) || v.Law != "idempotent" || v.Policy != "sum" {
		t.Fatalf("Check(sum) = %v, want an idempotent violation", err)
	}
	want := `policytest: policy "sum" is not idempotent:
	x = 1 @ 1970-01-01T00:00:10Z/lisbon:1
	Merge(x, x) = 2 @ 1970-01-01T00:00:10Z/lisbon:1 (combined: )`
	if err.Error() != want {
		t.Fatalf("report:\n%s\nwant:\n%s", err, want)
	}
}
