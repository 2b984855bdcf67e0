package resolve_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestDecisionsMatchThePolicies checks every decision a merge reports —
// field, policy, outcome, winner and loser stamps, reason, skew flag — and
// the merged value and field stamps against a plain fold that calls the
// ticket's policies directly, pair by pair in stamp order, and keeps each
// decision as the policy wrote it. Branches carry random per-field stamps
// (so that a merge names many stamps, not two) and come two to five at a
// time (so that a merge records more decisions than a resolution holds
// inline). Owners are never set apart, so that no pair is refused.
// CONCORD_PROOF_SCALE scales the number of cases (500 by default).
func TestDecisionsMatchThePolicies(t *testing.T) {
	r := ticketResolver()
	var beyondInline, manyStamps int
	proof.Check(t, proof.Histories(t, 500), func(rt *rapid.T) {
		bs := genTicketBranches(rt)
		res, err := merge.Branches(r, bs)
		require.NoError(rt, err)
		want, value, stamps := foldByPolicies(bs, 500*time.Millisecond)
		require.Equal(rt, want, res.Decisions())
		require.Equal(rt, len(want), res.Decided())
		require.True(rt, value.Equal(res.Value), "value %+v, want %+v", res.Value, value)
		for i, st := range stamps {
			require.Equal(rt, st, res.FieldStamp(i), "field %d's stamp", i)
		}
		if len(want) > 8 {
			beyondInline++
		}
		named := map[version.Stamp]bool{}
		for _, d := range want {
			named[d.Winner], named[d.Loser] = true, true
		}
		if len(named) > 3 { // the zero stamp and more than two others
			manyStamps++
		}
	})
	t.Logf("%d merges recorded more than eight decisions, %d named more than two stamps", beyondInline, manyStamps)
	if beyondInline == 0 || manyStamps == 0 {
		t.Error("the cases never left the inline trail or the inline stamps")
	}
}

// genTicketBranches draws two to five branches with distinct stamps, each
// field stamped by one of a few writes no later than the branch's own.
func genTicketBranches(t *rapid.T) []resolve.Branch[ticket] {
	ids := []version.ID{lisbon, baltimore, version.MustID("porto")}
	n := rapid.IntRange(2, 5).Draw(t, "branches")
	var bs []resolve.Branch[ticket]
	used := map[version.Stamp]bool{}
	for k := range n {
		st := version.Stamp{
			Time: version.Timestamp{Wall: int64(rapid.IntRange(1, 8).Draw(t, "wall")) * 300e6},
			Dot:  version.Dot{ID: ids[rapid.IntRange(0, 2).Draw(t, "id")], Counter: uint64(10 + k)},
		}
		if used[st] {
			continue
		}
		used[st] = true
		v := ticket{
			Title:    rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "title"),
			Tags:     policy.NewSet(rapid.SliceOfN(rapid.SampledFrom([]string{"x", "y", "z"}), 0, 2).Draw(t, "tags")...),
			Priority: rapid.IntRange(0, 3).Draw(t, "priority"),
			Owner:    rapid.SampledFrom([]string{"", "ana"}).Draw(t, "owner"),
			Urgent:   rapid.Bool().Draw(t, "urgent"),
			Estimate: rapid.IntRange(0, 3).Draw(t, "estimate"),
		}
		b := resolve.Branch[ticket]{Value: v, Stamp: st}
		if rapid.Bool().Draw(t, "per-field stamps") {
			for i := range 6 {
				fs := st
				if rapid.Bool().Draw(t, "older") {
					fs = version.Stamp{Time: version.Timestamp{Wall: st.Time.Wall - int64(rapid.IntRange(1, 3).Draw(t, "age"))*100e6},
						Dot: version.Dot{ID: ids[i%3], Counter: uint64(1 + i)}}
				}
				b.Fields = append(b.Fields, fs)
			}
		}
		bs = append(bs, b)
	}
	if len(bs) < 2 {
		t.Skip("one distinct write")
	}
	return bs
}

// foldByPolicies is the plain model: the branches in stamp order, folded
// pair by pair, each field merged by its policy (LWW's equal values merge
// as Same first, as its binding does), each decision other than Same kept
// as the policy wrote it, last-writer-wins decisions flagged inside the
// skew window. It returns the decisions, the merged value and the merged
// field stamps.
func foldByPolicies(bs []resolve.Branch[ticket], skew time.Duration) ([]resolve.Decision, ticket, []version.Stamp) {
	bs = slices.Clone(bs)
	slices.SortFunc(bs, func(a, b resolve.Branch[ticket]) int { return a.Stamp.Compare(b.Stamp) })
	acc := bs[0].Value
	stamps := make([]version.Stamp, 6)
	for i := range stamps {
		stamps[i] = bs[0].FieldStamp(i)
	}
	var out []resolve.Decision
	for _, b := range bs[1:] {
		steps := []func() (policy.Decision, version.Stamp){
			func() (policy.Decision, version.Stamp) {
				return modelField(&acc.Title, b.Value.Title, stamps[0], b.FieldStamp(0), policy.LWW[string](), func(x, y string) bool { return x == y })
			},
			func() (policy.Decision, version.Stamp) {
				return modelField(&acc.Tags, b.Value.Tags, stamps[1], b.FieldStamp(1), policy.Union[string](), nil)
			},
			func() (policy.Decision, version.Stamp) {
				return modelField(&acc.Priority, b.Value.Priority, stamps[2], b.FieldStamp(2), policy.Max[int](), nil)
			},
			func() (policy.Decision, version.Stamp) {
				return modelField(&acc.Owner, b.Value.Owner, stamps[3], b.FieldStamp(3), policy.Once[string](), nil)
			},
			func() (policy.Decision, version.Stamp) {
				return modelField(&acc.Urgent, b.Value.Urgent, stamps[4], b.FieldStamp(4), policy.EnableWins(), nil)
			},
			func() (policy.Decision, version.Stamp) {
				return modelField(&acc.Estimate, b.Value.Estimate, stamps[5], b.FieldStamp(5), policy.Min[int](), nil)
			},
		}
		names := []string{"title", "tags", "priority", "owner", "urgent", "estimate"}
		for i, step := range steps {
			d, st := step()
			stamps[i] = st
			if d.Outcome == policy.Same {
				continue
			}
			if i == 0 && d.Outcome == policy.Picked {
				gap := d.Winner.Time.Wall - d.Loser.Time.Wall
				d.InSkewWindow = max(gap, -gap) < int64(skew)
			}
			out = append(out, resolve.Decision{Entity: "ticket", Field: names[i], Decision: d})
		}
	}
	return out, acc, stamps
}

// modelField merges b into *a with p and returns the decision and the merged
// stamp; eq, unless nil, merges equal values as Same, the later stamp,
// before p.
func modelField[F any](a *F, b F, sa, sb version.Stamp, p policy.Policy[F], eq func(x, y F) bool) (policy.Decision, version.Stamp) {
	if eq != nil && eq(*a, b) {
		if sb.Compare(sa) > 0 {
			return policy.Decision{Outcome: policy.Same}, sb
		}
		return policy.Decision{Outcome: policy.Same}, sa
	}
	got, d, err := policy.Merge(p, policy.Branch[F]{Value: *a, Stamp: sa}, policy.Branch[F]{Value: b, Stamp: sb})
	if err != nil {
		panic(fmt.Sprintf("the model refused a merge: %v", err))
	}
	*a = got.Value
	return d, got.Stamp
}

// absorbing is a test policy for a status: "confirmed" wins over anything,
// any other two different values are refused.
type absorbing struct{}

func (absorbing) Name() string { return "absorbing" }

func (p absorbing) MergeInto(out *policy.Branch[string], d *policy.Decision, a, b *policy.Branch[string]) error {
	switch {
	case a.Value == "confirmed":
		*out, *d = *a, policy.Decision{Policy: p.Name(), Outcome: policy.Picked, Winner: a.Stamp, Loser: b.Stamp, Reason: "confirmed is absorbing"}
	case b.Value == "confirmed":
		*out, *d = *b, policy.Decision{Policy: p.Name(), Outcome: policy.Picked, Winner: b.Stamp, Loser: a.Stamp, Reason: "confirmed is absorbing"}
	default:
		r := &policy.Rejection{Policy: p.Name(), Reason: a.Value + " and " + b.Value}
		*d = policy.Decision{Policy: p.Name(), Outcome: policy.Rejected, Reason: r.Reason}
		return r
	}
	return nil
}

// TestRefusedPairLeavesNoDecisions folds three branches whose first pair is
// refused by the second field after the first field decided: the refused
// attempt must leave no decision behind when the pair merges on the second
// pass, after the absorbing branch.
func TestRefusedPairLeavesNoDecisions(t *testing.T) {
	type rec struct{ Note, Status string }
	r, err := resolve.New("rec", []resolve.Field[rec]{
		resolve.Bind("note", func(v *rec) *string { return &v.Note }, policy.LWW[string]()),
		resolve.Bind("status", func(v *rec) *string { return &v.Status }, policy.Policy[string](absorbing{})),
	}, nil, resolve.Options{})
	require.NoError(t, err)
	st := func(sec int64, id version.ID) version.Stamp {
		return version.Stamp{Time: at(sec), Dot: version.Dot{ID: id, Counter: uint64(sec)}}
	}
	active := resolve.Branch[rec]{Value: rec{"a", "active"}, Stamp: st(1, lisbon)}
	released := resolve.Branch[rec]{Value: rec{"b", "released"}, Stamp: st(2, baltimore)}
	confirmed := resolve.Branch[rec]{Value: rec{"a", "confirmed"}, Stamp: st(3, lisbon)}
	res, err := merge.Branches(r, []resolve.Branch[rec]{active, released, confirmed})
	require.NoError(t, err)
	var got []string
	for _, d := range res.Decisions() {
		got = append(got, fmt.Sprintf("%s %s %v>%v", d.Field, d.Outcome, d.Winner.Time.Wall/1e9, d.Loser.Time.Wall/1e9))
	}
	// active+confirmed (notes equal: no decision), then released.
	require.Equal(t, []string{"status picked 3>1", "note picked 3>2", "status picked 3>2"}, got)
	require.Equal(t, rec{"a", "confirmed"}, res.Value)
}

// TestRefusedPairAfterAFullTrail folds three branches whose first pair
// decides exactly as many fields as a resolution holds inline and whose
// next pair is refused: dropping the refused pair's decisions must cope
// with a trail that is full but has not overflowed.
func TestRefusedPairAfterAFullTrail(t *testing.T) {
	type rec struct {
		F      [8]string
		Status string
	}
	// The status first, so that the refusal comes before the pair's other
	// fields decide anything.
	fields := []resolve.Field[rec]{resolve.Bind("status", func(v *rec) *string { return &v.Status }, policy.Policy[string](absorbing{}))}
	for i := range 8 {
		fields = append(fields, resolve.Bind(fmt.Sprint("f", i), func(v *rec) *string { return &v.F[i] }, policy.LWW[string]()))
	}
	r, err := resolve.New("rec", fields, nil, resolve.Options{})
	require.NoError(t, err)
	branch := func(sec int64, f, status string) resolve.Branch[rec] {
		v := rec{Status: status}
		for i := range v.F {
			v.F[i] = f
		}
		return resolve.Branch[rec]{Value: v, Stamp: version.Stamp{Time: at(sec), Dot: version.Dot{ID: lisbon, Counter: uint64(sec)}}}
	}
	_, err = merge.Branches(r, []resolve.Branch[rec]{branch(1, "a", "held"), branch(2, "b", "held"), branch(3, "c", "released")})
	require.ErrorIs(t, err, policy.ErrRejected)
}
