package replica_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

var (
	bg      = context.Background()
	day     = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	minutes = func(m int) time.Time { return day.Add(time.Duration(m) * time.Minute) }
)

type pair struct {
	lis, iad *replica.Replica[hold.Hold]
	counters *resolve.Counters
}

func newPair(t *testing.T) pair {
	t.Helper()
	counters := &resolve.Counters{}
	res := hold.Resolver(resolve.Options{})
	mk := func(name string) *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID(name), replica.NewMemoryStore(), res, replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, Observer: counters,
		})
		require.NoError(t, err)
		return r
	}
	return pair{mk("lisbon"), mk("baltimore"), counters}
}

func (p pair) sync(t *testing.T) {
	t.Helper()
	require.NoError(t, replica.AntiEntropy(bg, p.lis, p.iad))
}

func TestLessonAcrossTwoReplicas(t *testing.T) {
	p := newPair(t)
	_, err := p.lis.Create(bg, "H-8821", hold.New("H-8821", "C14", "lisbon-desk", minutes(10)))
	require.NoError(t, err)
	p.sync(t)

	v18, err := p.iad.Get(bg, "H-8821")
	require.NoError(t, err)

	// Lisbon extends (a command), Baltimore confirms (conditional), concurrently.
	_, replayed, err := p.lis.Command(bg, "H-8821", "extend-1", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(15)) })
	require.NoError(t, err)
	require.False(t, replayed)
	_, err = p.iad.Update(bg, "H-8821", v18.Token, func(h *hold.Hold, _ replica.Write) error { return h.Confirm("B-3107", minutes(4)) })
	require.NoError(t, err)

	p.sync(t)
	lis, err := p.lis.Get(bg, "H-8821")
	require.NoError(t, err)
	iad, err := p.iad.Get(bg, "H-8821")
	require.NoError(t, err)
	require.Equal(t, lis.Token, iad.Token)
	require.True(t, lis.Value.Equal(iad.Value))
	require.Equal(t, hold.Confirmed, lis.Value.Status)
	require.Equal(t, "B-3107", lis.Value.BookingID)
	require.Len(t, lis.Branches, 2)

	// A retried extend with the same key applies once and returns the first result.
	first, replayed, err := p.lis.Command(bg, "H-8821", "extend-1", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(15)) })
	require.NoError(t, err)
	require.True(t, replayed)
	require.Equal(t, hold.Active, first.Value.Status, "the first result, from before the confirmation arrived")
}

func TestConditionalWritePreconditions(t *testing.T) {
	p := newPair(t)
	created, err := p.lis.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	_, err = p.lis.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.ErrorIs(t, err, replica.ErrExists)

	_, err = p.lis.Update(bg, "H-1", "", func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	require.ErrorIs(t, err, replica.ErrPreconditionRequired)
	_, err = p.lis.Update(bg, "H-1", "!!", func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	require.ErrorIs(t, err, version.ErrMalformedToken)
	var de *version.DecodeError
	require.ErrorAs(t, err, &de)

	_, err = p.lis.Blind(bg, "H-1", "note", hold.NoteEdit("call back"))
	require.NoError(t, err)

	_, err = p.lis.Update(bg, "H-1", created.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	var pf *replica.PreconditionFailed
	require.ErrorAs(t, err, &pf)
	require.ErrorIs(t, err, replica.ErrPreconditionFailed)
	require.NotEqual(t, created.Token, pf.Current)
	cur, err := p.lis.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, cur.Token, pf.Current)
	require.True(t, cur.Context.Equal(pf.Context))
	require.Len(t, pf.Stamps, 1)
	require.Equal(t, "call back", cur.Value.Note)
	require.EqualValues(t, 1, p.counters.Total(resolve.Rejected))

	// An illegal transition is the hold's error and writes nothing.
	_, err = p.lis.Update(bg, "H-1", pf.Current, func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(5)) })
	require.ErrorIs(t, err, hold.ErrWouldShorten)
	after, _ := p.lis.Get(bg, "H-1")
	require.Equal(t, pf.Current, after.Token)
}

func TestBlindWritesOnlyForLWWFields(t *testing.T) {
	p := newPair(t)
	_, err := p.lis.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	_, err = p.lis.Blind(bg, "H-1", "status", hold.Hold{Status: hold.Released})
	require.ErrorIs(t, err, replica.ErrNotBlindWritable)
	_, err = p.lis.Blind(bg, "H-1", "nope", hold.Hold{})
	require.ErrorIs(t, err, replica.ErrNotBlindWritable)
	_, err = p.lis.Blind(bg, "H-2", "note", hold.NoteEdit("x"))
	require.ErrorIs(t, err, replica.ErrNotFound)
}

// ownLWW is a user's own last-writer-wins policy under another name; it
// says it is replaceable.
type ownLWW struct{ policy.Policy[string] }

func (ownLWW) Name() string      { return "my-lww" }
func (ownLWW) Replaceable() bool { return true }

// namedLWW is named "lww" but does not say it is replaceable.
type namedLWW struct{ policy.Policy[string] }

func (namedLWW) Name() string { return "lww" }

// TestBlindWritesByCapability: a field accepts blind writes when its policy
// implements policy.Replaceable, whatever its name — and only then.
func TestBlindWritesByCapability(t *testing.T) {
	type doc struct{ A, B string }
	res, err := resolve.New("doc", []resolve.Field[doc]{
		resolve.Bind("a", func(d *doc) *string { return &d.A }, policy.Policy[string](ownLWW{policy.LWW[string]()})),
		resolve.Bind("b", func(d *doc) *string { return &d.B }, policy.Policy[string](namedLWW{policy.LWW[string]()})),
	}, nil, resolve.Options{})
	require.NoError(t, err)
	r, err := replica.New(version.MustID("lisbon"), replica.NewMemoryStore(), res, replica.Options[doc]{})
	require.NoError(t, err)
	_, err = r.Create(bg, "d", doc{})
	require.NoError(t, err)
	rec, err := r.Blind(bg, "d", "a", doc{A: "x"})
	require.NoError(t, err, "a replaceable policy of any name")
	require.Equal(t, "x", rec.Value.A)
	_, err = r.Blind(bg, "d", "b", doc{B: "y"})
	require.ErrorIs(t, err, replica.ErrNotBlindWritable, "named lww, but not replaceable")
}

func TestReleaseRacingExtendGoesToReviewUntilCovered(t *testing.T) {
	p := newPair(t)
	_, err := p.lis.Create(bg, "H-2", hold.New("H-2", "C2", "", minutes(10)))
	require.NoError(t, err)
	p.sync(t)
	base, _ := p.iad.Get(bg, "H-2")
	_, _, err = p.lis.Command(bg, "H-2", "x1", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(20)) })
	require.NoError(t, err)
	_, err = p.iad.Update(bg, "H-2", base.Token, func(h *hold.Hold, _ replica.Write) error { return h.Release() })
	require.NoError(t, err)
	p.sync(t)

	for _, r := range []*replica.Replica[hold.Hold]{p.lis, p.iad} {
		rec, err := r.Get(bg, "H-2")
		require.NoError(t, err)
		require.NotNil(t, rec.Conflict)
		require.Len(t, rec.Branches, 2)
		q := r.Conflicts()
		require.Len(t, q, 1)
		require.Equal(t, "status", q[0].Field)
		require.Equal(t, rec.Token, q[0].Token)
	}
	require.EqualValues(t, 2, p.counters.Total(resolve.SentToReview))

	// Commands and conditional updates refuse to guess.
	_, _, err = p.lis.Command(bg, "H-2", "x2", func(h *hold.Hold, _ replica.Write) error { return h.Extend(minutes(30)) })
	require.ErrorIs(t, err, resolve.ErrConflict)

	// The client that sees both branches settles it with the covering token.
	rec, _ := p.iad.Get(bg, "H-2")
	released := rec.Branches[0].Value
	for _, b := range rec.Branches {
		if b.Value.Status == hold.Released {
			released = b.Value
		}
	}
	_, err = p.iad.ResolveConflict(bg, "H-2", rec.Token, released)
	require.NoError(t, err)
	require.Empty(t, p.iad.Conflicts())
	p.sync(t)
	require.Empty(t, p.lis.Conflicts())
	got, err := p.lis.Get(bg, "H-2")
	require.NoError(t, err)
	require.Equal(t, hold.Released, got.Value.Status)
	require.EqualValues(t, 2, p.counters.Total(resolve.Reviewed))
}

func TestApplyRejectsMalformedInput(t *testing.T) {
	p := newPair(t)
	_, err := p.lis.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	good, err := p.lis.Export(bg, "H-1")
	require.NoError(t, err)
	for _, bad := range [][]byte{nil, {0}, good[:len(good)-3], append(append([]byte{}, good...), 9)} {
		_, err := p.iad.Apply(bg, "H-1", bad)
		require.ErrorIs(t, err, replica.ErrMalformed)
	}
	_, err = p.iad.Get(bg, "H-1")
	require.ErrorIs(t, err, replica.ErrNotFound, "nothing changed")
	class, err := p.iad.Apply(bg, "H-1", good)
	require.NoError(t, err)
	require.Equal(t, resolve.IncomingWins, class)
	class, err = p.iad.Apply(bg, "H-1", good)
	require.NoError(t, err)
	require.Equal(t, resolve.Duplicate, class)
}

func TestCommandNeedsAKey(t *testing.T) {
	p := newPair(t)
	_, _, err := p.lis.Command(bg, "H-1", "", func(*hold.Hold, replica.Write) error { return nil })
	require.ErrorIs(t, err, replica.ErrIdempotencyKeyRequired)
	_, _, err = p.lis.Command(bg, "H-1", "k", func(*hold.Hold, replica.Write) error { return nil })
	require.ErrorIs(t, err, replica.ErrNotFound)
	boom := errors.New("boom")
	_, err = p.lis.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	_, _, err = p.lis.Command(bg, "H-1", "k", func(*hold.Hold, replica.Write) error { return boom })
	require.ErrorIs(t, err, boom)
	rec, replayed, err := p.lis.Command(bg, "H-1", "k", func(h *hold.Hold, _ replica.Write) error { h.Touch("web"); return nil })
	require.NoError(t, err)
	require.False(t, replayed, "a failed command does not consume its key")
	require.True(t, rec.Value.Agencies.Has("web"))
	require.True(t, rec.Value.Commands.Has("k"))
}

func TestApplyRefusesAContextWithoutValues(t *testing.T) {
	p := newPair(t)
	// A clock with a counter for lisbon and no sibling: format 2, one
	// replica "lisbon", incarnation 0, counter 5, zero siblings.
	data := []byte{2, 1, 6, 'l', 'i', 's', 'b', 'o', 'n', 0, 5, 0}
	_, err := p.iad.Apply(bg, "H-1", data)
	require.ErrorIs(t, err, replica.ErrMalformed)
	_, err = p.iad.Get(bg, "H-1")
	require.ErrorIs(t, err, replica.ErrNotFound)
}
