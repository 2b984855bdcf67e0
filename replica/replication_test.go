package replica_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// divergent makes three replicas write H-1 without talking, keeping every
// intermediate export, and returns them: versions that descend from,
// duplicate and conflict with each other.
func divergent(t *testing.T) (c *cluster, exports [][]byte) {
	t.Helper()
	c = newCluster(t, "lisbon", "baltimore", "sydney")
	_, err := c.rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	c.heal(t)
	export := func(r *replica.Replica[hold.Hold]) {
		data, err := r.Export(bg, "H-1")
		require.NoError(t, err)
		exports = append(exports, data)
	}
	for round := range 3 {
		_, _, err := c.rs[0].Command(bg, "H-1", "x"+string(rune('a'+round)), func(h *hold.Hold, _ replica.Write) error {
			return h.Extend(minutes(20 + round))
		})
		require.NoError(t, err)
		export(c.rs[0])
		_, err = c.rs[1].Blind(bg, "H-1", "note", hold.NoteEdit("note "+string(rune('a'+round))))
		require.NoError(t, err)
		export(c.rs[1])
		_, _, err = c.rs[2].Command(bg, "H-1", "t"+string(rune('a'+round)), func(h *hold.Hold, _ replica.Write) error {
			h.Touch("sydney-" + string(rune('a'+round)))
			return nil
		})
		require.NoError(t, err)
		export(c.rs[2])
	}
	return c, exports
}

// TestApplyIsIdempotentAndOrderIndependent applies the same versions in
// random orders, with duplicates, to fresh replicas: all end identical, and
// identical to applying each once in order.
func TestApplyIsIdempotentAndOrderIndependent(t *testing.T) {
	_, exports := divergent(t)
	want := newCluster(t, "a")
	for _, e := range exports {
		_, err := want.rs[0].Apply(bg, "H-1", e)
		require.NoError(t, err)
	}
	ref := viewOf(t, want.rs[0], "H-1")
	require.Equal(t, "", ref.Conflict)
	require.Contains(t, ref.Value, "sydney-c")
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		c := newCluster(t, "a")
		order := append([][]byte(nil), exports...)
		for range rng.IntN(len(exports)) {
			order = append(order, exports[rng.IntN(len(exports))])
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, e := range order {
			_, err := c.rs[0].Apply(bg, "H-1", e)
			require.NoError(t, err)
		}
		require.Equal(t, ref, viewOf(t, c.rs[0], "H-1"), "trial %d", trial)
		// Applying everything again changes nothing.
		before, err := c.rs[0].Export(bg, "H-1")
		require.NoError(t, err)
		for _, e := range exports {
			class, err := c.rs[0].Apply(bg, "H-1", e)
			require.NoError(t, err)
			require.Contains(t, []resolve.Class{resolve.StaleWrite, resolve.Duplicate}, class)
		}
		after, err := c.rs[0].Export(bg, "H-1")
		require.NoError(t, err)
		require.Equal(t, before, after)
	}
}

// recorder is a Peer that records what a session pushes and pulls.
type recorder struct {
	replica.Peer
	pushed, pulled, received []string
}

func (r *recorder) Push(ctx context.Context, states []replica.Delta) ([]replica.KeyError, error) {
	r.pushed = append(r.pushed, deltaKeys(states)...)
	return r.Peer.Push(ctx, states)
}

func (r *recorder) Pull(ctx context.Context, wants []replica.Want) ([]replica.Delta, error) {
	for _, w := range wants {
		r.pulled = append(r.pulled, w.Key)
	}
	states, err := r.Peer.Pull(ctx, wants)
	r.received = append(r.received, deltaKeys(states)...)
	return states, err
}

// TestSyncSteps: a session sends exactly the records on which the two
// replicas differ — absent on one side, older or concurrent — each only the
// way it is missing (a concurrent one both ways, to merge), and nothing
// once they agree; no state arrives stale or duplicate.
func TestSyncSteps(t *testing.T) {
	c := newCluster(t, "lisbon", "baltimore")
	a, b := c.rs[0], c.rs[1]
	for _, k := range []string{"same", "older", "concurrent", "only-a"} {
		_, err := a.Create(bg, k, hold.New(k, "C", "", minutes(10)))
		require.NoError(t, err)
	}
	_, err := b.Create(bg, "only-b", hold.New("only-b", "C", "", minutes(10)))
	require.NoError(t, err)
	for _, k := range []string{"same", "older", "concurrent"} {
		data, err := a.Export(bg, k)
		require.NoError(t, err)
		_, err = b.Apply(bg, k, data)
		require.NoError(t, err)
	}
	_, err = a.Blind(bg, "older", "note", hold.NoteEdit("a is newer"))
	require.NoError(t, err)
	_, err = a.Blind(bg, "concurrent", "note", hold.NoteEdit("from a"))
	require.NoError(t, err)
	_, err = b.Blind(bg, "concurrent", "note", hold.NoteEdit("from b"))
	require.NoError(t, err)

	stale, dup := c.counters.Total(resolve.StaleDropped), c.counters.Total(resolve.DuplicateDropped)
	p := &recorder{Peer: replica.Local(b)}
	rep, err := a.Sync(bg, p)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"older", "concurrent", "only-b"}, p.pulled, "asked for")
	require.ElementsMatch(t, []string{"concurrent", "only-b"}, p.received, "b's older is covered by a's context")
	require.ElementsMatch(t, []string{"older", "concurrent", "only-a"}, p.pushed, "concurrent goes back merged")
	require.Equal(t, replica.SyncReport{Rounds: rep.Rounds, Bytes: rep.Bytes, Sent: 3, Received: 2}, rep)
	require.Equal(t, stale, c.counters.Total(resolve.StaleDropped))
	require.Equal(t, dup, c.counters.Total(resolve.DuplicateDropped))
	c.checkConverged(t)
	rec, err := a.Get(bg, "concurrent")
	require.NoError(t, err)
	require.Len(t, rec.Branches, 2, "concurrent notes stay as siblings, merged by LWW on read")
	require.Equal(t, "from b", rec.Value.Note, "the later stamp wins")

	// Nothing left to send either way: one round trip of a fingerprint.
	p = &recorder{Peer: replica.Local(b)}
	rep, err = a.Sync(bg, p)
	require.NoError(t, err)
	require.Empty(t, p.pushed)
	require.Empty(t, p.pulled)
	require.Equal(t, 1, rep.Rounds)

	// A malformed delta is refused with ErrMalformed, and the others apply.
	data, err := a.Export(bg, "same")
	require.NoError(t, err)
	applied, errs := b.ApplyDeltas(bg, []replica.Delta{{Key: "same", Data: []byte{1, 2, 3}}, {Key: "copy", Data: data}})
	require.Equal(t, 1, applied)
	require.Len(t, errs, 1)
	require.Equal(t, "same", errs[0].Key)
	require.ErrorIs(t, &errs[0], replica.ErrMalformed)
}

func deltaKeys(ds []replica.Delta) []string {
	var ks []string
	for _, d := range ds {
		ks = append(ks, d.Key)
	}
	return ks
}

// TestAntiEntropyConvergesDivergentReplicas: one call of AntiEntropy
// between two replicas makes them identical, whatever they held.
func TestAntiEntropyConvergesDivergentReplicas(t *testing.T) {
	c, _ := divergent(t)
	require.NoError(t, replica.AntiEntropy(bg, c.rs[0], c.rs[2]))
	require.Equal(t, viewOf(t, c.rs[0], "H-1"), viewOf(t, c.rs[2], "H-1"))
	require.NotEqual(t, viewOf(t, c.rs[0], "H-1"), viewOf(t, c.rs[1], "H-1"))
	c.heal(t)
	c.checkConverged(t)
}

// TestReviewQueue checks a queue entry's fields, that it stays while writes
// that do not cover the branches arrive, that a covering write removes it at
// every replica, and that a restarted replica rebuilds it with Rescan.
func TestReviewQueue(t *testing.T) {
	clock := day
	c := newCluster(t, "lisbon", "baltimore")
	for i := range c.rs {
		r, err := replica.New(c.ids[i], c.stores[i], c.res, replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, Observer: c.counters,
			Now: func() time.Time { return clock },
		})
		require.NoError(t, err)
		c.rs[i] = r
	}
	a, b := c.rs[0], c.rs[1]
	_, err := a.Create(bg, "H-1", hold.New("H-1", "C1", "", minutes(10)))
	require.NoError(t, err)
	_, err = a.Create(bg, "H-2", hold.New("H-2", "C2", "", minutes(10)))
	require.NoError(t, err)
	c.heal(t)
	require.Empty(t, a.Conflicts())

	// Two bookings of one hold: write-once booking_id refuses.
	for i, r := range c.rs {
		rec, err := r.Get(bg, "H-1")
		require.NoError(t, err)
		_, err = r.Update(bg, "H-1", rec.Token, func(h *hold.Hold, _ replica.Write) error {
			return h.Confirm("B-"+string(rune('1'+i)), minutes(1))
		})
		require.NoError(t, err)
	}
	clock = clock.Add(time.Minute)
	c.heal(t)
	c.checkConverged(t)
	q := a.Conflicts()
	require.Len(t, q, 1)
	it := q[0]
	rec, err := a.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, "H-1", it.Key)
	require.Equal(t, hold.Entity, it.Entity)
	require.Equal(t, "booking_id", it.Field)
	require.NotEmpty(t, it.Reason)
	require.Equal(t, rec.Token, it.Token)
	require.True(t, it.Context.Equal(rec.Context))
	require.Len(t, it.Branches, 2)
	for _, br := range it.Branches {
		require.True(t, it.Context.Contains(br.Stamp.Dot))
		require.Equal(t, hold.Confirmed, br.Value.Status)
	}
	require.Equal(t, day.Add(time.Minute), it.FirstSeen)

	// Seen again later (a duplicate, a restart): FirstSeen stays.
	clock = clock.Add(time.Minute)
	data, err := b.Export(bg, "H-1")
	require.NoError(t, err)
	_, err = a.Apply(bg, "H-1", data)
	require.NoError(t, err)
	require.Equal(t, day.Add(time.Minute), a.Conflicts()[0].FirstSeen)

	// A restarted replica over the same store rebuilds its queue.
	c.restart(t, 0)
	a = c.rs[0]
	require.Empty(t, a.Conflicts())
	require.NoError(t, a.Rescan(bg))
	require.Len(t, a.Conflicts(), 1)
	require.Equal(t, it.Token, a.Conflicts()[0].Token)

	// A conditional write with an older token fails; the entry stays.
	_, err = a.ResolveConflict(bg, "H-1", version.MustVector("{lisbon:2}").Token(), it.Branches[0].Value)
	require.ErrorIs(t, err, replica.ErrPreconditionFailed)
	require.Len(t, a.Conflicts(), 1)

	// The covering write settles it, here and, after sync, there.
	reviewed := c.counters.Total(resolve.Reviewed)
	_, err = a.ResolveConflict(bg, "H-1", it.Token, it.Branches[0].Value)
	require.NoError(t, err)
	require.Empty(t, a.Conflicts())
	require.Len(t, b.Conflicts(), 1)
	c.heal(t)
	require.Empty(t, b.Conflicts())
	c.checkConverged(t)
	require.Equal(t, reviewed+2, c.counters.Total(resolve.Reviewed))
}

// TestObserverWiring counts what the replica and its resolver report.
func TestObserverWiring(t *testing.T) {
	c := conflicted(t) // one conflict, seen at two replicas
	n := c.counters
	require.EqualValues(t, 2, n.Get(resolve.CounterKey{Kind: resolve.SentToReview, Entity: hold.Entity, Field: "status", Policy: "lifecycle"}))
	require.NotZero(t, n.Total(resolve.Conflict))

	before := n.Snapshot()
	a, b := c.rs[0], c.rs[1]
	data, err := a.Export(bg, "H-1")
	require.NoError(t, err)
	_, err = b.Apply(bg, "H-1", data)
	require.NoError(t, err)
	require.Equal(t, before[resolve.CounterKey{Kind: resolve.DuplicateDropped, Entity: hold.Entity}]+1,
		n.Get(resolve.CounterKey{Kind: resolve.DuplicateDropped, Entity: hold.Entity}))
	require.Equal(t, before[resolve.CounterKey{Kind: resolve.SentToReview, Entity: hold.Entity, Field: "status", Policy: "lifecycle"}],
		n.Get(resolve.CounterKey{Kind: resolve.SentToReview, Entity: hold.Entity, Field: "status", Policy: "lifecycle"}),
		"a conflict already queued is not sent again")

	rec, err := b.Get(bg, "H-1")
	require.NoError(t, err)
	_, err = b.ResolveConflict(bg, "H-1", rec.Token, rec.Branches[0].Value)
	require.NoError(t, err)
	require.EqualValues(t, 1, n.Get(resolve.CounterKey{Kind: resolve.Reviewed, Entity: hold.Entity, Field: "status"}))
	_, err = b.ResolveConflict(bg, "H-1", rec.Token, rec.Branches[0].Value)
	require.ErrorIs(t, err, replica.ErrPreconditionFailed)
	require.EqualValues(t, 1, n.Total(resolve.Rejected))

	// The old version arriving after the resolution is stale.
	_, err = b.Apply(bg, "H-1", data)
	require.NoError(t, err)
	require.Equal(t, before[resolve.CounterKey{Kind: resolve.StaleDropped, Entity: hold.Entity}]+1,
		n.Get(resolve.CounterKey{Kind: resolve.StaleDropped, Entity: hold.Entity}))

	// Concurrent notes auto-resolve by LWW and say so.
	_, err = a.Create(bg, "H-2", hold.New("H-2", "C2", "", minutes(10)))
	require.NoError(t, err)
	c.heal(t)
	_, err = a.Blind(bg, "H-2", "note", hold.NoteEdit("a"))
	require.NoError(t, err)
	_, err = b.Blind(bg, "H-2", "note", hold.NoteEdit("b"))
	require.NoError(t, err)
	auto := n.Total(resolve.AutoResolved)
	c.heal(t)
	require.Greater(t, n.Total(resolve.AutoResolved), auto)
	require.NotZero(t, n.Get(resolve.CounterKey{Kind: resolve.PolicyFired, Entity: hold.Entity, Field: "note", Policy: "lww"}))
}
