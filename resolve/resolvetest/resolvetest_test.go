package resolvetest_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/resolve/resolvetest"
	"github.com/harborpoint/concord/version"
)

type ticket struct {
	Title  string
	Tags   policy.Set[string]
	Points int
	Owner  string
}

func genTicket() *rapid.Generator[ticket] {
	return rapid.Custom(func(t *rapid.T) ticket {
		return ticket{
			Title:  rapid.SampledFrom([]string{"", "a", "b", "c"}).Draw(t, "title"),
			Tags:   policy.NewSet(rapid.SliceOfN(rapid.SampledFrom([]string{"x", "y", "z"}), 0, 3).Draw(t, "tags")...),
			Points: rapid.IntRange(0, 9).Draw(t, "points"),
		}
	})
}

func fields(points policy.Policy[int]) []resolve.Field[ticket] {
	return []resolve.Field[ticket]{
		resolve.Bind("title", func(t *ticket) *string { return &t.Title }, policy.LWW[string]()),
		resolve.Bind("tags", func(t *ticket) *policy.Set[string] { return &t.Tags }, policy.Union[string]()),
		resolve.Bind("points", func(t *ticket) *int { return &t.Points }, points),
	}
}

func resolver(t testing.TB, points policy.Policy[int], rules ...resolve.RecordRule[ticket]) *resolve.Resolver[ticket] {
	r, err := resolve.New("ticket", fields(points), rules, resolve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func equal(a, b ticket) bool {
	return a.Title == b.Title && a.Tags.Equal(b.Tags) && a.Points == b.Points && a.Owner == b.Owner
}

func TestBuiltinsPass(t *testing.T) {
	r := resolver(t, policy.Max[int]())
	resolvetest.Check(t, resolvetest.Config[ticket]{
		Resolver: r,
		Value:    genTicket(),
		Change:   resolvetest.ChangeFields(r, genTicket()),
		Equal:    equal,
		Invariant: func(branches []ticket, merged ticket) error {
			for _, b := range branches {
				for tag := range b.Tags.All() {
					if !merged.Tags.Has(tag) {
						return fmt.Errorf("tag %q lost", tag)
					}
				}
			}
			return nil
		},
	})
}

// A policy built from a function, for the broken resolvers below.
type funcPolicy struct {
	name  string
	merge func(a, b policy.Branch[int]) policy.Branch[int]
}

func (p funcPolicy) Name() string { return p.name }
func (p funcPolicy) MergeInto(out *policy.Branch[int], d *policy.Decision, a, b *policy.Branch[int]) error {
	*out, *d = p.merge(*a, *b), policy.Decision{Policy: p.name, Outcome: policy.Combined}
	return nil
}

// replaceableMax is Max claiming to be replaceable.
type replaceableMax struct{ policy.Policy[int] }

func (replaceableMax) Replaceable() bool { return true }

func TestCatchesBrokenResolvers(t *testing.T) {
	// Each case asks only that the failure is caught and names why, and the
	// tiebreak, associativity and idempotence cases spent seconds shrinking.
	proof.ShrinkBriefly(t)
	for _, tc := range []struct {
		name      string
		resolver  *resolve.Resolver[ticket]
		invariant func([]ticket, ticket) error
		want      string
	}{
		{
			name: "non-deterministic tiebreak",
			resolver: resolver(t, funcPolicy{"coin", func(a, b policy.Branch[int]) policy.Branch[int] {
				if a.Value != b.Value && rand.IntN(2) == 0 {
					return a
				}
				return b
			}}),
			want: "resolvetest:",
		},
		{
			name: "non-associative merge (average)",
			resolver: resolver(t, funcPolicy{"average", func(a, b policy.Branch[int]) policy.Branch[int] {
				return policy.Branch[int]{Value: (a.Value + b.Value) / 2, Stamp: later(a.Stamp, b.Stamp)}
			}}),
			want: "order independence",
		},
		{
			name: "drops a branch (first argument wins)",
			resolver: resolver(t, funcPolicy{"first", func(a, b policy.Branch[int]) policy.Branch[int] {
				return policy.Branch[int]{Value: a.Value, Stamp: later(a.Stamp, b.Stamp)}
			}}),
			want: "order independence",
		},
		{
			name: "non-idempotent merge (sum)",
			resolver: resolver(t, funcPolicy{"sum", func(a, b policy.Branch[int]) policy.Branch[int] {
				return policy.Branch[int]{Value: a.Value + b.Value, Stamp: later(a.Stamp, b.Stamp)}
			}}),
			// Equal values never reach a policy (the binding merges them
			// as Same), so a merge that is not idempotent shows as a fold
			// whose result depends on which branches happened to agree.
			want: "order independence",
		},
		{
			// A policy that says it is replaceable (blind-writable, later
			// stamp wins) but keeps the greater value: a write that lowers
			// the points loses to a concurrent write's stale copy.
			name:     "replaceable field that is not last-writer-wins",
			resolver: resolver(t, replaceableMax{policy.Max[int]()}),
			want:     "the plain per-field model names",
		},
		{
			// Every policy is a lawful join, but the record-level invariant
			// "no more tags than the busiest branch" does not survive a union.
			name:     "invariant-breaking merge",
			resolver: resolver(t, policy.Max[int]()),
			invariant: func(branches []ticket, merged ticket) error {
				most := 0
				for _, b := range branches {
					most = max(most, b.Tags.Len())
				}
				if merged.Tags.Len() > most {
					return fmt.Errorf("%d tags, no branch had more than %d", merged.Tags.Len(), most)
				}
				return nil
			},
			want: "invariant",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed, msg := proof.Capture(t, func(tb rapid.TB) {
				resolvetest.Check(tb, resolvetest.Config[ticket]{
					Resolver:  tc.resolver,
					Value:     genTicket(),
					Change:    resolvetest.ChangeFields(tc.resolver, genTicket()),
					Equal:     equal,
					Invariant: tc.invariant,
				})
			})
			if !failed {
				t.Fatalf("resolvetest did not catch the %s", tc.name)
			}
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("failure does not mention %q:\n%s", tc.want, msg)
			}
			if !strings.Contains(msg, "history:") {
				t.Fatalf("failure does not print the history:\n%s", msg)
			}
			t.Logf("caught: %.300s", msg)
		})
	}
}

func later(a, b version.Stamp) version.Stamp {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}
