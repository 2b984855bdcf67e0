package resolve_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

var (
	lisbon    = version.MustID("lisbon")
	baltimore = version.MustID("baltimore")
)

func write(t *testing.T, r *resolve.Resolver[ticket], s resolve.Siblings[ticket], seen version.Vector, id version.ID, sec int64, v ticket) resolve.Outcome[ticket] {
	t.Helper()
	o, err := r.Write(s, resolve.Change[ticket]{Context: seen, Replica: id, Time: at(sec), Value: func(version.Dot) ticket { return v }})
	require.NoError(t, err)
	return o
}

// report tells counters of o's events, as a replica does once it stored o.
func report(counters *resolve.Counters, o resolve.Outcome[ticket]) resolve.Outcome[ticket] {
	for e := range o.Events() {
		counters.Observe(e)
	}
	return o
}

func TestConcurrentWritesMergeByFieldPolicy(t *testing.T) {
	var counters resolve.Counters
	r := ticketResolver()
	base := write(t, r, resolve.Siblings[ticket]{}, version.Vector{}, lisbon, 1,
		ticket{Title: "v18", Tags: policy.NewSet("desk"), Priority: 1, Estimate: 8})
	require.Equal(t, resolve.IncomingWins, base.Class)
	seen := base.State.Join()

	atLis := write(t, r, base.State, seen, lisbon, 3, ticket{Title: "lisbon", Tags: policy.NewSet("desk", "phone"), Priority: 2, Estimate: 5})
	atIad := write(t, r, base.State, seen, baltimore, 2, ticket{Title: "baltimore", Tags: policy.NewSet("desk", "web"), Priority: 1, Owner: "ana", Urgent: true, Estimate: 8})

	// Each region applies the other's version: concurrent, both converge.
	lis := report(&counters, r.Apply(atLis.State, atIad.State))
	iad := report(&counters, r.Apply(atIad.State, atLis.State))
	require.Equal(t, resolve.ConcurrentConflict, lis.Class)
	require.Equal(t, resolve.ConcurrentConflict, iad.Class)
	require.True(t, lis.State.Equal(iad.State))
	require.Nil(t, lis.Conflict)
	require.NotNil(t, lis.Resolution)

	want := ticket{Title: "lisbon", Tags: policy.NewSet("desk", "phone", "web"), Priority: 2, Owner: "ana", Urgent: true, Estimate: 5}
	require.Equal(t, want, lis.Resolution.Value)
	require.Equal(t, want, iad.Resolution.Value)
	require.Equal(t, lis.Resolution.Stamp, iad.Resolution.Stamp)
	require.True(t, lis.Resolution.Version.Equal(iad.Resolution.Version), "same version in both regions")
	for _, b := range lis.State.Values() {
		require.True(t, lis.Resolution.Version.Contains(b.Stamp.Dot), "the version descends every merged sibling")
	}
	require.Equal(t, 2, lis.Resolution.Merged)

	// The decisions name the policy of every field that decided something.
	var fired []string
	for _, d := range lis.Resolution.Decisions() {
		if d.Outcome != policy.Same {
			fired = append(fired, d.Field+":"+d.Policy)
		}
	}
	require.ElementsMatch(t, []string{"title:lww", "tags:union", "priority:max", "owner:once", "urgent:enable-wins", "estimate:min"}, fired)
	// Decisions are named when read: each call builds its own slice.
	ds := lis.Resolution.Decisions()
	require.Equal(t, len(ds), lis.Resolution.Decided())
	for _, d := range ds {
		require.Equal(t, "ticket", d.Entity)
	}
	ds[0].Field, ds[0].Reason = "changed by the caller", "changed by the caller"
	require.NotEqual(t, "changed by the caller", lis.Resolution.Decisions()[0].Field)
	require.NotEqual(t, "changed by the caller", lis.Resolution.Decisions()[0].Reason)

	require.EqualValues(t, 2, counters.Total(resolve.AutoResolved))
	require.EqualValues(t, 2, counters.Get(resolve.CounterKey{Kind: resolve.PolicyFired, Entity: "ticket", Field: "title", Policy: "lww"}))

	// Replaying either version again is a duplicate or stale: nothing changes.
	again := report(&counters, r.Apply(lis.State, iad.State))
	require.Equal(t, resolve.Duplicate, again.Class)
	old := report(&counters, r.Apply(lis.State, atLis.State))
	require.Equal(t, resolve.StaleWrite, old.Class)
	require.True(t, old.State.Equal(lis.State))
	require.EqualValues(t, 1, counters.Total(resolve.DuplicateDropped))
	require.EqualValues(t, 1, counters.Total(resolve.StaleDropped))
}

func TestLWWInsideSkewWindowIsReported(t *testing.T) {
	var counters resolve.Counters
	r := ticketResolver()
	a := write(t, r, resolve.Siblings[ticket]{}, version.Vector{}, lisbon, 10, ticket{Title: "a"})
	b := write(t, r, resolve.Siblings[ticket]{}, version.Vector{}, baltimore, 10, ticket{Title: "b"})
	o := report(&counters, r.Apply(a.State, b.State))
	require.NotNil(t, o.Resolution)
	require.Equal(t, "a", o.Resolution.Value.Title, "equal time: the greater dot (lisbon > baltimore) wins")
	require.EqualValues(t, 1, counters.Get(resolve.CounterKey{Kind: resolve.SkewWindow, Entity: "ticket", Field: "title", Policy: "lww"}))
}

func TestRefusedMergeKeepsEveryBranch(t *testing.T) {
	var counters resolve.Counters
	r := ticketResolver()
	base := write(t, r, resolve.Siblings[ticket]{}, version.Vector{}, lisbon, 1, ticket{Title: "t"})
	seen := base.State.Join()
	a := write(t, r, base.State, seen, lisbon, 2, ticket{Owner: "ana"})
	b := write(t, r, base.State, seen, baltimore, 3, ticket{Owner: "bo"})

	o := report(&counters, r.Apply(a.State, b.State))
	require.Nil(t, o.Resolution)
	require.NotNil(t, o.Conflict)
	require.Equal(t, 2, o.State.Len(), "both branches stay as siblings")
	require.EqualValues(t, 1, counters.Get(resolve.CounterKey{Kind: resolve.Conflict, Entity: "ticket", Field: "owner", Policy: "once"}))

	_, err := r.Resolve(o.State)
	var conflict *resolve.ConflictRequiresRetry
	require.ErrorAs(t, err, &conflict)
	require.ErrorIs(t, err, resolve.ErrConflict)
	require.ErrorIs(t, err, policy.ErrRejected)
	require.Equal(t, "owner", conflict.Field)
	require.Len(t, conflict.Stamps, 2)
	require.True(t, conflict.Context.Equal(o.State.Join()))
	require.Contains(t, conflict.Error(), "owner")

	// A write whose context covers both branches resolves the conflict.
	fixed := write(t, r, o.State, conflict.Context, baltimore, 4, ticket{Owner: "ana"})
	require.Equal(t, resolve.IncomingWins, fixed.Class)
	require.Equal(t, 1, fixed.State.Len())
	got, err := r.Resolve(fixed.State)
	require.NoError(t, err)
	require.Equal(t, "ana", got.Value.Owner)
}

func TestStaleContextWriteKeepsWhatItDidNotSee(t *testing.T) {
	r := ticketResolver()
	base := write(t, r, resolve.Siblings[ticket]{}, version.Vector{}, lisbon, 1, ticket{Title: "v1"})
	old := base.State.Join()
	newer := write(t, r, base.State, old, lisbon, 2, ticket{Title: "v2", Priority: 5})
	stale := write(t, r, newer.State, old, lisbon, 3, ticket{Title: "v3", Priority: 1})
	require.Equal(t, resolve.ConcurrentConflict, stale.Class)
	require.Equal(t, 2, stale.State.Len())
	require.Equal(t, 5, stale.Resolution.Value.Priority, "max keeps the unseen raise")
	require.Equal(t, "v3", stale.Resolution.Value.Title)
}

func TestClassify(t *testing.T) {
	r := ticketResolver()
	a := write(t, r, resolve.Siblings[ticket]{}, version.Vector{}, lisbon, 1, ticket{Title: "a"})
	b := write(t, r, a.State, a.State.Join(), lisbon, 2, ticket{Title: "b"})
	c := write(t, r, a.State, a.State.Join(), baltimore, 2, ticket{Title: "c"})
	for _, tc := range []struct {
		local, incoming resolve.Siblings[ticket]
		want            resolve.Class
	}{
		{a.State, b.State, resolve.IncomingWins},
		{b.State, a.State, resolve.StaleWrite},
		{b.State, b.State, resolve.Duplicate},
		{b.State, c.State, resolve.ConcurrentConflict},
		{resolve.Siblings[ticket]{}, a.State, resolve.IncomingWins},
	} {
		require.Equal(t, tc.want, resolve.Classify(tc.local, tc.incoming), "%v vs %v", tc.local, tc.incoming)
	}
	require.Equal(t, "concurrent-conflict", resolve.ConcurrentConflict.String())
	require.Equal(t, "Class(0)", resolve.Class(0).String())
}

func TestResolveEmpty(t *testing.T) {
	_, err := ticketResolver().Resolve(resolve.Siblings[ticket]{})
	require.ErrorContains(t, err, "no siblings")
}

func TestNewValidates(t *testing.T) {
	fields := ticketFields()
	fields = append(fields, fields[0], resolve.Bind[ticket, string]("nil", nil, policy.LWW[string]()))
	_, err := resolve.New("", fields, []resolve.RecordRule[ticket]{{}}, resolve.Options{})
	require.ErrorIs(t, err, resolve.ErrInvalidResolver)
	for _, want := range []string{"empty entity", `"title" bound twice`, `"nil" has no accessor`, "rule 0"} {
		require.True(t, strings.Contains(err.Error(), want), "error %q lacks %q", err, want)
	}
}

func TestRuleCanAdjustAndRefuse(t *testing.T) {
	rule := resolve.RecordRule[ticket]{Name: "no-urgent-without-owner", Apply: func(out *ticket, a, b resolve.Branch[ticket]) (string, error) {
		if out.Urgent && out.Owner == "" {
			return "", &policy.Rejection{Policy: "rule", Reason: "urgent tickets need an owner"}
		}
		return "", nil
	}}
	r, err := resolve.New("ticket", ticketFields(), []resolve.RecordRule[ticket]{rule}, resolve.Options{})
	require.NoError(t, err)
	_, err = merge.Branches(r, []resolve.Branch[ticket]{
		{Value: ticket{Urgent: true}, Stamp: version.Stamp{Time: at(1), Dot: version.Dot{ID: lisbon, Counter: 1}}},
		{Value: ticket{Title: "x"}, Stamp: version.Stamp{Time: at(2), Dot: version.Dot{ID: baltimore, Counter: 1}}},
	})
	var conflict *resolve.ConflictRequiresRetry
	require.True(t, errors.As(err, &conflict))
	require.Equal(t, "no-urgent-without-owner", conflict.Rule)
	require.Equal(t, "urgent tickets need an owner", conflict.Reason)
}

// TestSkewWindowFlagsOnlyStampOrderedDecisions: the resolver's skew window
// flags decisions of replaceable (last-writer-wins) fields whose stamps are
// close in time, and never a decision made by value, however close the
// stamps.
func TestSkewWindowFlagsOnlyStampOrderedDecisions(t *testing.T) {
	r := ticketResolver() // skew window 500ms
	a := resolve.Branch[ticket]{Value: ticket{Title: "a", Priority: 1}, Stamp: version.Stamp{Time: at(10), Dot: version.Dot{ID: lisbon, Counter: 1}}}
	b := resolve.Branch[ticket]{Value: ticket{Title: "b", Priority: 2}, Stamp: version.Stamp{Time: version.Timestamp{Wall: at(10).Wall + 400e6}, Dot: version.Dot{ID: baltimore, Counter: 1}}}
	res, err := merge.Branches(r, []resolve.Branch[ticket]{a, b})
	require.NoError(t, err)
	flagged := map[string]bool{}
	for _, d := range res.Decisions() {
		flagged[d.Field] = d.InSkewWindow
	}
	require.Equal(t, map[string]bool{"title": true, "priority": false}, flagged)

	far := b
	far.Stamp.Time.Wall = at(11).Wall
	res, err = merge.Branches(r, []resolve.Branch[ticket]{a, far})
	require.NoError(t, err)
	for _, d := range res.Decisions() {
		require.False(t, d.InSkewWindow, "%v: a second apart", d)
	}
	noWindow, err := resolve.New("ticket", ticketFields(), nil, resolve.Options{})
	require.NoError(t, err)
	res, err = merge.Branches(noWindow, []resolve.Branch[ticket]{a, b})
	require.NoError(t, err)
	for _, d := range res.Decisions() {
		require.False(t, d.InSkewWindow, "%v: no window configured", d)
	}
}
