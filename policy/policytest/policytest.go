package policytest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/version"
	"pgregory.net/rapid"
)

// Options adjusts what [LawsWith] and [Check] require. The zero Options is
// the default that [Laws] uses.
type Options struct {
	// StrictRejection also requires that whether a triple is rejected not
	// depend on grouping: if Merge(Merge(a, b), c) fails, so must
	// Merge(a, Merge(b, c)), and the other way round. Policies whose
	// rejections are pairwise facts (such as [policy.Once]) satisfy it;
	// state machines with both absorbing states and rejections (such as a
	// hold lifecycle) do not, and their callers must retry rejected merges
	// when more branches arrive.
	StrictRejection bool
}

// Laws checks with rapid that p is a join over branches whose values come
// from values: commutative, associative, idempotent and deterministic, in the
// value (compared with equal) and in the stamp of the result, with
// well-formed decisions, and without changing its arguments. A rejection is
// allowed, but only symmetrically: Merge(a, b) fails if and only if
// Merge(b, a) does, and Merge(a, a) never fails. See [Check] for the precise
// list.
//
// Each rapid test case draws three values (sometimes repeating one, so that
// equal values meet) and three distinct stamps with few distinct times (so
// that equal times, decided by the dot, are common), and runs Check. A
// failure reports the policy, the law and the branches. equal may be nil,
// meaning [reflect.DeepEqual].
//
// t is usually the test's *testing.T; Laws calls t.FailNow on failure.
func Laws[F any](t rapid.TB, p policy.Policy[F], values *rapid.Generator[F], equal func(a, b F) bool) {
	t.Helper()
	LawsWith(t, p, values, equal, Options{})
}

// LawsWith is [Laws] with options.
func LawsWith[F any](t rapid.TB, p policy.Policy[F], values *rapid.Generator[F], equal func(a, b F) bool, opts Options) {
	t.Helper()
	rapid.Check(t, func(rt *rapid.T) {
		a, b, c := Branches(values).Draw(rt, "a"), policy.Branch[F]{}, policy.Branch[F]{}
		stamps := rapid.SliceOfNDistinct(Stamps(), 2, 2, rapid.ID[version.Stamp]).
			Filter(func(s []version.Stamp) bool { return s[0] != a.Stamp && s[1] != a.Stamp }).
			Draw(rt, "stamps of b and c")
		bv := rapid.OneOf(values, rapid.Just(a.Value)).Draw(rt, "b")
		cv := rapid.OneOf(values, rapid.Just(a.Value), rapid.Just(bv)).Draw(rt, "c")
		b = policy.Branch[F]{Value: bv, Stamp: stamps[0]}
		c = policy.Branch[F]{Value: cv, Stamp: stamps[1]}
		if err := Check(p, equal, opts, a, b, c); err != nil {
			rt.Fatal(err)
		}
	})
}

// Stamps generates stamps with few distinct wall times, logical counters and
// replicas, so that equal times (ordered by the dot) are common. Their dots
// are valid; two draws may be equal.
func Stamps() *rapid.Generator[version.Stamp] {
	replicas := []version.ID{version.MustID("a"), version.MustID("b"), version.MustID("c")}
	return rapid.Custom(func(t *rapid.T) version.Stamp {
		return version.Stamp{
			Time: version.Timestamp{
				Wall:    1_700_000_000_000_000_000 + rapid.Int64Range(0, 3).Draw(t, "wall")*100_000_000,
				Logical: rapid.Uint32Range(0, 2).Draw(t, "logical"),
			},
			Dot: version.Dot{
				ID:      rapid.SampledFrom(replicas).Draw(t, "replica"),
				Counter: rapid.Uint64Range(1, 9).Draw(t, "counter"),
			},
		}
	})
}

// Branches generates branches whose values come from values and whose stamps
// come from [Stamps].
func Branches[F any](values *rapid.Generator[F]) *rapid.Generator[policy.Branch[F]] {
	return rapid.Custom(func(t *rapid.T) policy.Branch[F] {
		return policy.Branch[F]{Value: values.Draw(t, "value"), Stamp: Stamps().Draw(t, "stamp")}
	})
}

// Violation is the error [Check] returns for a broken law.
type Violation struct {
	Policy string // the policy's name
	Law    string // "commutative", "associative", "idempotent", "deterministic", "well-formed" (the decision) or "pure"
	Detail string // the branches and results involved, one per line
}

// Error implements the error interface.
func (v *Violation) Error() string {
	return fmt.Sprintf("policytest: policy %q is not %s:\n%s", v.Policy, v.Law, v.Detail)
}

// Check checks the join laws of p on the branches a, b and c, whose stamps
// should be distinct, and returns a [*Violation] for the first law broken:
//
//   - well-formed: every merge's Decision names p; a failure matches
//     policy.ErrRejected and has Outcome Rejected; a success has Outcome
//     Same (equal inputs), Picked (the result is the winner's value and
//     stamp, Winner and Loser are the inputs' stamps) or Combined (the
//     result carries the later stamp); Same also carries the later stamp.
//   - pure: Merge does not change its arguments (compared by their %v
//     text before and after, so only visible changes are caught).
//   - deterministic: merging the same pair twice gives the same result,
//     decision and error text.
//   - idempotent: Merge(a, a) succeeds with a's value and stamp.
//   - commutative: for each pair, Merge(x, y) and Merge(y, x) both fail, or
//     both succeed with equal values, equal stamps, the same outcome and
//     the same winner.
//   - associative: for every order of a, b and c, when every merge
//     involved succeeds,
//     Merge(Merge(a, b), c) and Merge(a, Merge(b, c)) have equal values and
//     stamps; with opts.StrictRejection, also both groupings fail or neither.
//
// equal compares values; nil means [reflect.DeepEqual].
func Check[F any](p policy.Policy[F], equal func(a, b F) bool, opts Options, a, b, c policy.Branch[F]) error {
	if equal == nil {
		equal = func(x, y F) bool { return reflect.DeepEqual(x, y) }
	}
	k := checker[F]{p: p, equal: equal}
	return k.check(opts, a, b, c)
}

type checker[F any] struct {
	p     policy.Policy[F]
	equal func(a, b F) bool
}

type result[F any] struct {
	out policy.Branch[F]
	d   policy.Decision
	err error
}

func (r result[F]) String() string {
	if r.err != nil {
		return fmt.Sprintf("rejected: %v", r.err)
	}
	return fmt.Sprintf("%s (%v: %s)", fmtBranch(r.out), r.d.Outcome, r.d.Reason)
}

func fmtBranch[F any](b policy.Branch[F]) string {
	if s, ok := any(b.Value).(string); ok {
		return fmt.Sprintf("%q @ %v", s, b.Stamp)
	}
	return fmt.Sprintf("%v @ %v", b.Value, b.Stamp)
}

func (k checker[F]) fail(law string, lines ...string) *Violation {
	return &Violation{Policy: k.p.Name(), Law: law, Detail: "\t" + strings.Join(lines, "\n\t")}
}

// merge runs p.MergeInto on copies of x and y and checks the decision and
// purity: neither the copies nor what they share with x and y may change.
func (k checker[F]) merge(x, y policy.Branch[F]) (result[F], *Violation) {
	bx, by := fmtBranch(x), fmtBranch(y)
	var r result[F]
	cx, cy := x, y
	r.err = k.p.MergeInto(&r.out, &r.d, &cx, &cy)
	if ax, ay := fmtBranch(cx), fmtBranch(cy); ax != bx || ay != by {
		return r, k.fail("pure", "x = "+bx, "y = "+by, "after Merge(x, y): x = "+ax+", y = "+ay)
	}
	bad := func(why string) *Violation {
		return k.fail("well-formed", "x = "+bx, "y = "+by, "Merge(x, y) = "+r.String(), why)
	}
	d := r.d
	if d.Policy != k.p.Name() {
		return r, bad(fmt.Sprintf("decision names policy %q, want %q", d.Policy, k.p.Name()))
	}
	if r.err != nil {
		if !errors.Is(r.err, policy.ErrRejected) {
			return r, bad("the error does not match policy.ErrRejected")
		}
		if d.Outcome != policy.Rejected {
			return r, bad(fmt.Sprintf("failed with outcome %v, want rejected", d.Outcome))
		}
		return r, nil
	}
	later := x.Stamp
	if y.Stamp.Compare(later) > 0 {
		later = y.Stamp
	}
	switch d.Outcome {
	case policy.Same:
		if !k.equal(x.Value, y.Value) {
			return r, bad("outcome same for different values")
		}
		if !k.equal(r.out.Value, x.Value) {
			return r, bad("outcome same, but the result differs from the inputs")
		}
		if r.out.Stamp != later {
			return r, bad("outcome same must carry the later stamp " + later.String())
		}
	case policy.Combined:
		if r.out.Stamp != later {
			return r, bad("outcome combined must carry the later stamp " + later.String())
		}
	case policy.Picked:
		var w, l policy.Branch[F]
		switch d.Winner {
		case x.Stamp:
			w, l = x, y
		case y.Stamp:
			w, l = y, x
		default:
			return r, bad("the winner's stamp " + d.Winner.String() + " is neither input's")
		}
		if d.Loser != l.Stamp {
			return r, bad("the loser's stamp " + d.Loser.String() + " is not the other input's")
		}
		if r.out.Stamp != w.Stamp || !k.equal(r.out.Value, w.Value) {
			return r, bad("outcome picked, but the result is not the winning branch")
		}
	default:
		return r, bad(fmt.Sprintf("succeeded with outcome %v", d.Outcome))
	}
	return r, nil
}

// sameResult reports whether r and s are equal successes or both failures.
func (k checker[F]) sameResult(r, s result[F]) bool {
	if (r.err != nil) != (s.err != nil) {
		return false
	}
	return r.err != nil || k.equal(r.out.Value, s.out.Value) && r.out.Stamp == s.out.Stamp
}

func (k checker[F]) check(opts Options, a, b, c policy.Branch[F]) error {
	// Deterministic and idempotent, for each branch and for a pair.
	for _, x := range []policy.Branch[F]{a, b, c} {
		r, v := k.merge(x, x)
		if v != nil {
			return v
		}
		if r.err != nil || !k.equal(r.out.Value, x.Value) || r.out.Stamp != x.Stamp {
			return k.fail("idempotent", "x = "+fmtBranch(x), "Merge(x, x) = "+r.String())
		}
	}
	r1, v := k.merge(a, b)
	if v != nil {
		return v
	}
	r2, v := k.merge(a, b)
	if v != nil {
		return v
	}
	if !k.sameResult(r1, r2) || r1.d != r2.d || errText(r1.err) != errText(r2.err) {
		return k.fail("deterministic", "a = "+fmtBranch(a), "b = "+fmtBranch(b),
			"Merge(a, b) = "+r1.String(), "Merge(a, b) again = "+r2.String())
	}

	// Commutative, for each pair.
	pairs := [][2]policy.Branch[F]{{a, b}, {b, c}, {a, c}}
	names := [][2]string{{"a", "b"}, {"b", "c"}, {"a", "c"}}
	for i, pr := range pairs {
		x, y := pr[0], pr[1]
		xy, v := k.merge(x, y)
		if v != nil {
			return v
		}
		yx, v := k.merge(y, x)
		if v != nil {
			return v
		}
		if !k.sameResult(xy, yx) || xy.err == nil && (xy.d.Outcome != yx.d.Outcome || xy.d.Winner != yx.d.Winner) {
			nx, ny := names[i][0], names[i][1]
			return k.fail("commutative", nx+" = "+fmtBranch(x), ny+" = "+fmtBranch(y),
				"Merge("+nx+", "+ny+") = "+xy.String(), "Merge("+ny+", "+nx+") = "+yx.String())
		}
	}

	// Associative, for every order of the three branches.
	for _, t := range [][3]policy.Branch[F]{{a, b, c}, {a, c, b}, {b, a, c}, {b, c, a}, {c, a, b}, {c, b, a}} {
		if v := k.associative(opts, t[0], t[1], t[2]); v != nil {
			return v
		}
	}
	return nil
}

// associative checks Merge(Merge(a, b), c) against Merge(a, Merge(b, c)).
func (k checker[F]) associative(opts Options, a, b, c policy.Branch[F]) *Violation {
	ab, v := k.merge(a, b)
	if v != nil {
		return v
	}
	bc, v := k.merge(b, c)
	if v != nil {
		return v
	}
	left, right := ab, bc // failures propagate
	if ab.err == nil {
		if left, v = k.merge(ab.out, c); v != nil {
			return v
		}
	}
	if bc.err == nil {
		if right, v = k.merge(a, bc.out); v != nil {
			return v
		}
	}
	ok := true
	switch {
	case left.err == nil && right.err == nil:
		ok = k.sameResult(left, right)
	case opts.StrictRejection:
		ok = (left.err == nil) == (right.err == nil)
	}
	if !ok {
		return k.fail("associative", "a = "+fmtBranch(a), "b = "+fmtBranch(b), "c = "+fmtBranch(c),
			"Merge(a, b) = "+ab.String(), "Merge(Merge(a, b), c) = "+left.String(),
			"Merge(b, c) = "+bc.String(), "Merge(a, Merge(b, c)) = "+right.String())
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
