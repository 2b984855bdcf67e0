package replica_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/internal/proof"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// limited returns hold replicas with the given record limit and entry
// limit, sharing one resolver and counters.
func limited(t testing.TB, maxBytes, maxEntries int, names ...string) (*resolve.Counters, []*replica.Replica[hold.Hold], []*replica.MemoryStore) {
	t.Helper()
	return limitedAt(t, maxBytes, maxEntries, nil, names...)
}

// limitedAt is limited with every replica's clock reading the wall time
// now returns (nil: the real clock), for tests whose sizes must not depend
// on the time between two writes: a field stamp is stored relative to its
// branch's stamp.
func limitedAt(t testing.TB, maxBytes, maxEntries int, now func() time.Time, names ...string) (*resolve.Counters, []*replica.Replica[hold.Hold], []*replica.MemoryStore) {
	t.Helper()
	counters := &resolve.Counters{}
	res := hold.Resolver(resolve.Options{})
	var rs []*replica.Replica[hold.Hold]
	var stores []*replica.MemoryStore
	for _, n := range names {
		st := replica.NewMemoryStore()
		var clock *version.HLC
		if now != nil {
			clock = version.NewHLC(version.HLCOptions{Now: now}, version.Timestamp{})
		}
		r, err := replica.New(version.MustID(n), st, res, replica.Options[hold.Hold]{
			Clock: clock, CommandKeys: hold.CommandKeys, Observer: counters,
			MaxRecordBytes: maxBytes, Limits: version.Limits{MaxEntries: maxEntries},
		})
		require.NoError(t, err)
		rs, stores = append(rs, r), append(stores, st)
	}
	return counters, rs, stores
}

// TestRecordsPastTheTokenLimitWork: a 70 KB note, past the 64 KiB token
// limit that used to bound stored records, is stored, read and replicated
// under the default 1 MiB record limit.
func TestRecordsPastTheTokenLimitWork(t *testing.T) {
	_, rs, _ := limited(t, 0, 0, "lisbon", "baltimore")
	h := hold.New("H-1", "C1", "desk", minutes(10))
	h.Note = strings.Repeat("n", 70_000)
	_, err := rs[0].Create(bg, "H-1", h)
	require.NoError(t, err)
	got, err := rs[0].Get(bg, "H-1")
	require.NoError(t, err)
	require.Len(t, got.Value.Note, 70_000)
	require.NoError(t, replica.AntiEntropy(bg, rs[0], rs[1]))
	got, err = rs[1].Get(bg, "H-1")
	require.NoError(t, err)
	require.Len(t, got.Value.Note, 70_000)
}

// TestOversizeWriteIsRefused: a write whose stored form would exceed the
// record limit fails with a *TooLargeError and stores nothing — neither a
// new record nor a change to an existing one — and every other key keeps
// replicating.
func TestOversizeWriteIsRefused(t *testing.T) {
	const limit = 4 << 10
	counters, rs, stores := limited(t, limit, 0, "lisbon", "baltimore")
	lis := rs[0]
	big := hold.New("H-1", "C1", "desk", minutes(10))
	big.Note = strings.Repeat("n", limit)
	_, err := lis.Create(bg, "H-1", big)
	var tl *replica.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.ErrorIs(t, err, replica.ErrTooLarge)
	require.Equal(t, "H-1", tl.Key)
	require.Equal(t, "bytes", tl.What)
	require.Equal(t, limit, tl.Limit)
	require.Greater(t, tl.Size, limit)
	require.False(t, tl.Merge)
	_, err = lis.Get(bg, "H-1")
	require.ErrorIs(t, err, replica.ErrNotFound)

	_, err = lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	before, rev, err := stores[0].Get(bg, "H-1")
	require.NoError(t, err)
	_, err = lis.Blind(bg, "H-1", "note", hold.NoteEdit(strings.Repeat("x", limit)))
	require.ErrorIs(t, err, replica.ErrTooLarge)
	after, rev2, err := stores[0].Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Equal(t, rev, rev2)
	require.EqualValues(t, 2, counters.Total(resolve.TooLarge))

	_, err = lis.Create(bg, "H-2", hold.New("H-2", "C2", "desk", minutes(10)))
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, lis, rs[1]))
	_, err = rs[1].Get(bg, "H-2")
	require.NoError(t, err)
}

// oversizePair returns two replicas, lisbon and baltimore, with a record
// limit of 4 KiB, both holding H-1, and a note two thirds of the limit long:
// one such note written on each side makes their merge too large.
func oversizePair(t *testing.T) (*resolve.Counters, []*replica.Replica[hold.Hold], string) {
	t.Helper()
	const limit = 4 << 10
	counters, rs, _ := limited(t, limit, 0, "lisbon", "baltimore")
	_, err := rs[0].Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, rs[0], rs[1]))
	return counters, rs, strings.Repeat("n", limit*2/3)
}

// TestOversizeMergeKeepsLocalRecord: two concurrent notes, each legal
// alone, whose merge is over the record limit. Applying the other's state
// fails with a *TooLargeError marked Merge, and each replica keeps its own
// record, readable.
func TestOversizeMergeKeepsLocalRecord(t *testing.T) {
	counters, rs, note := oversizePair(t)
	lis, bal := rs[0], rs[1]
	_, err := lis.Blind(bg, "H-1", "note", hold.NoteEdit("lisbon "+note))
	require.NoError(t, err)
	_, err = bal.Blind(bg, "H-1", "note", hold.NoteEdit("baltimore "+note))
	require.NoError(t, err)
	before := export(t, lis, "H-1")
	_, err = lis.Apply(bg, "H-1", export(t, bal, "H-1"))
	var tl *replica.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.True(t, tl.Merge)
	require.Equal(t, before, export(t, lis, "H-1"))
	got, err := lis.Get(bg, "H-1")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got.Value.Note, "lisbon "))
	require.EqualValues(t, 1, counters.Total(resolve.TooLarge))
}

// TestPeerRecordAboveOurLimit: a peer with a larger record limit sends a
// record above ours: we refuse it with a *TooLargeError, keep our copy, and
// count it.
func TestPeerRecordAboveOurLimit(t *testing.T) {
	_, big, _ := limited(t, 64<<10, 0, "lisbon")
	counters, small, _ := limited(t, 8<<10, 0, "baltimore")
	h := hold.New("H-1", "C1", "desk", minutes(10))
	_, err := big[0].Create(bg, "H-1", h)
	require.NoError(t, err)
	_, err = small[0].Apply(bg, "H-1", export(t, big[0], "H-1"))
	require.NoError(t, err)
	_, err = big[0].Blind(bg, "H-1", "note", hold.NoteEdit(strings.Repeat("n", 20<<10)))
	require.NoError(t, err)
	before := export(t, small[0], "H-1")
	_, err = small[0].Apply(bg, "H-1", export(t, big[0], "H-1"))
	var tl *replica.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, "H-1", tl.Key)
	require.Equal(t, 8<<10, tl.Limit)
	require.NotErrorIs(t, err, replica.ErrMalformed)
	require.Equal(t, before, export(t, small[0], "H-1"))
	require.EqualValues(t, 1, counters.Total(resolve.TooLarge))
}

// TestSiblingAndReplicaLimits: the entry limit bounds the siblings and the
// replicas of a stored context as the decoder does; a merge past it is
// refused like one past the byte limit.
func TestSiblingAndReplicaLimits(t *testing.T) {
	_, rs, _ := limited(t, 0, 2, "r1", "r2", "r3")
	for _, r := range rs {
		_, err := r.Create(bg, "H-1", hold.New("H-1", "C1", r.ID().Name(), minutes(10)))
		require.NoError(t, err)
	}
	_, err := rs[0].Apply(bg, "H-1", export(t, rs[1], "H-1"))
	require.NoError(t, err)
	_, err = rs[0].Apply(bg, "H-1", export(t, rs[2], "H-1"))
	var tl *replica.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, "siblings", tl.What)
	require.Equal(t, 3, tl.Size)
	require.True(t, tl.Merge)
	rec, err := rs[0].Get(bg, "H-1")
	require.NoError(t, err)
	require.Len(t, rec.Branches, 2)
	// A write covering both keeps two replicas in its context; merged with
	// the third replica's sibling, the context would name three.
	_, err = rs[0].ResolveConflict(bg, "H-1", rec.Token, rec.Branches[0].Value)
	require.NoError(t, err)
	_, err = rs[2].Apply(bg, "H-1", export(t, rs[0], "H-1"))
	require.ErrorAs(t, err, &tl)
	require.Equal(t, "replicas", tl.What)
	require.Equal(t, 3, tl.Size)
	_, err = rs[2].Get(bg, "H-1")
	require.NoError(t, err)
}

// TestOversizeMergeGoesToReview: a merge refused for size enters the review
// queue with both branches and a token that covers them; a write with that
// token settles it with one value, which both replicas then accept, and the
// queues empty.
func TestOversizeMergeGoesToReview(t *testing.T) {
	counters, rs, note := oversizePair(t)
	lis, bal := rs[0], rs[1]
	_, _, err := lis.Command(bg, "H-1", "x-lis", func(h *hold.Hold, _ replica.Write) error {
		h.Note = "lisbon " + note
		return nil
	})
	require.NoError(t, err)
	_, _, err = bal.Command(bg, "H-1", "x-bal", func(h *hold.Hold, _ replica.Write) error {
		h.Note = "baltimore " + note
		return nil
	})
	require.NoError(t, err)
	err = replica.AntiEntropy(bg, lis, bal)
	require.ErrorIs(t, err, replica.ErrTooLarge)
	require.ErrorContains(t, err, "skipped 2 records")

	q := lis.Conflicts()
	require.Len(t, q, 1)
	require.Equal(t, replica.RecordLimitRule, q[0].Rule)
	require.Len(t, q[0].Branches, 2)
	require.EqualValues(t, 2, counters.Total(resolve.SentToReview))
	// The branches are offered; the operator keeps a short note.
	v := q[0].Branches[1].Value
	v.Note = "settled"
	rec, err := lis.ResolveConflict(bg, "H-1", q[0].Token, v)
	require.NoError(t, err)
	require.Len(t, rec.Branches, 1)
	require.True(t, rec.Value.Commands.Has("x-lis") && rec.Value.Commands.Has("x-bal"), "both commands stay applied: %v", rec.Value.Commands)
	require.NoError(t, replica.AntiEntropy(bg, lis, bal))
	for _, r := range rs {
		got, err := r.Get(bg, "H-1")
		require.NoError(t, err)
		require.Equal(t, "settled", got.Value.Note)
		require.Empty(t, r.Conflicts())
	}
	// A stale token is still refused.
	_, err = lis.ResolveConflict(bg, "H-1", q[0].Token, v)
	require.ErrorIs(t, err, replica.ErrPreconditionFailed)
}

// TestOversizeSettlementKeepsEveryCommandKey: a merge refused for size is
// settled with one branch's value, which fit alone; but the settlement
// keeps the command keys of every branch it replaces (a retry of any of
// them must not apply again), so with the other branch's keys it is over
// the limit. ResolveConflict refuses it with a *TooLargeError, not marked
// Merge, and changes nothing — the conflict stays in review with the same
// token —; a smaller value with that token settles it, keeping every key,
// and both replicas converge. The simulator's growth campaign found an
// operator that never made the value smaller, and replicas that stayed
// apart.
func TestOversizeSettlementKeepsEveryCommandKey(t *testing.T) {
	const limit = 4 << 10
	// One wall time for every write: the settlement's fields that keep
	// the branches' stamps are stored relative to its own stamp, so on the
	// real clock its retry could be a few bytes larger than the refusal
	// said (fixed, the retry is stamped one logical tick later).
	_, rs, _ := limitedAt(t, limit, 0, func() time.Time { return day }, "lisbon", "baltimore")
	lis, bal := rs[0], rs[1]
	_, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, lis, bal))
	base := len(export(t, lis, "H-1"))
	note := strings.Repeat("n", limit-base-200) // lisbon's record ends 150-odd bytes under the limit
	_, _, err = lis.Command(bg, "H-1", "lisbon-note", func(h *hold.Hold, _ replica.Write) error {
		h.Note = note
		return nil
	})
	require.NoError(t, err)
	require.Less(t, len(export(t, lis, "H-1")), limit)
	var balKeys []string
	for i := range 8 { // baltimore's commands: about 500 bytes of keys
		k := fmt.Sprintf("baltimore-desk-command-%08d", i)
		_, _, err = bal.Command(bg, "H-1", k, func(h *hold.Hold, _ replica.Write) error { h.Touch("desk"); return nil })
		require.NoError(t, err)
		balKeys = append(balKeys, k)
	}
	_, err = lis.Apply(bg, "H-1", export(t, bal, "H-1"))
	var tl *replica.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.True(t, tl.Merge)
	q := lis.Conflicts()
	require.Len(t, q, 1)
	require.Equal(t, replica.RecordLimitRule, q[0].Rule)

	// Lisbon's branch as it is: it fit alone, not with baltimore's keys.
	i := slices.IndexFunc(q[0].Branches, func(b resolve.Branch[hold.Hold]) bool { return b.Value.Note == note })
	require.GreaterOrEqual(t, i, 0)
	before := export(t, lis, "H-1")
	_, err = lis.ResolveConflict(bg, "H-1", q[0].Token, q[0].Branches[i].Value)
	require.ErrorAs(t, err, &tl)
	require.False(t, tl.Merge, "a settlement is a client write: %v", err)
	require.Greater(t, tl.Size, limit)
	require.Equal(t, before, export(t, lis, "H-1"))
	require.Equal(t, q, lis.Conflicts(), "the conflict stays in review, with the same token")

	// Smaller by what the refusal said is over: it settles, with every key.
	v := q[0].Branches[i].Value
	v.Note = note[:len(note)-(tl.Size-tl.Limit)]
	rec, err := lis.ResolveConflict(bg, "H-1", q[0].Token, v)
	require.NoError(t, err)
	require.True(t, rec.Value.Commands.Has("lisbon-note"))
	for _, k := range balKeys {
		require.True(t, rec.Value.Commands.Has(k), "baltimore's command %s stays applied", k)
	}
	require.NoError(t, replica.AntiEntropy(bg, lis, bal))
	require.Equal(t, export(t, lis, "H-1"), export(t, bal, "H-1"))
	for _, r := range rs {
		require.Empty(t, r.Conflicts())
	}
}

// TestRecordLimitConflictOfCommandKeysNeedsAHigherLimit: two replicas
// each run commands on one record, apart, until it is at the limit; the
// command keys of the two branches alone are then over it, so no value
// settles the conflict (a settlement keeps every key). The remedy is the
// deployment's: raise the limit on every replica, and the merge goes
// through with every key.
func TestRecordLimitConflictOfCommandKeysNeedsAHigherLimit(t *testing.T) {
	const limit = 4 << 10
	_, rs, stores := limited(t, limit, 0, "lisbon", "baltimore")
	lis, bal := rs[0], rs[1]
	_, err := lis.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	require.NoError(t, replica.AntiEntropy(bg, lis, bal))
	touch := func(h *hold.Hold, _ replica.Write) error { h.Touch("desk"); return nil }
	var tl *replica.TooLargeError
	for _, r := range rs {
		for i := 0; err == nil; i++ {
			_, _, err = r.Command(bg, "H-1", fmt.Sprintf("%s-command-%08d", r.ID().Name(), i), touch)
		}
		require.ErrorAs(t, err, &tl)
		err = nil
	}
	_, err = lis.Apply(bg, "H-1", export(t, bal, "H-1"))
	require.ErrorAs(t, err, &tl)
	require.True(t, tl.Merge)
	q := lis.Conflicts()
	require.Len(t, q, 1)
	_, err = lis.ResolveConflict(bg, "H-1", q[0].Token, hold.Hold{})
	require.ErrorAs(t, err, &tl, "even an empty value keeps both branches' keys")
	require.False(t, tl.Merge)

	// Both restart over their stores with four times the limit.
	raised := make([]*replica.Replica[hold.Hold], len(rs))
	for i, r := range rs {
		raised[i], err = replica.New(r.ID(), stores[i], hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
			CommandKeys: hold.CommandKeys, MaxRecordBytes: 4 * limit,
		})
		require.NoError(t, err)
	}
	require.NoError(t, replica.AntiEntropy(bg, raised[0], raised[1]))
	require.Equal(t, export(t, raised[0], "H-1"), export(t, raised[1], "H-1"))
	rec, err := raised[0].Get(bg, "H-1")
	require.NoError(t, err)
	require.True(t, rec.Value.Commands.Has("lisbon-command-00000000") && rec.Value.Commands.Has("baltimore-command-00000000"))
}

// TestIncarnationsAreBounded: every incarnation that writes a key adds an
// entry to its context. A replica over a durable store keeps its ID across
// restarts and adds none; replicas that restart empty (MemoryStore) each
// add one, up to the entry limit: the write that would add one more is
// refused with a *TooLargeError on "replicas", and the record stays
// readable everywhere.
func TestIncarnationsAreBounded(t *testing.T) {
	const limit = 64
	res := hold.Resolver(resolve.Options{})
	opts := replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys, Limits: version.Limits{MaxEntries: limit}}

	durable := replica.NewMemoryStore()
	for i := range 100 {
		r, err := replica.New(version.MustID("lisbon"), durable, res, opts)
		require.NoError(t, err)
		if i == 0 {
			_, err = r.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
		} else {
			_, err = r.Blind(bg, "H-1", "note", hold.NoteEdit("restart"))
		}
		require.NoError(t, err)
		s, err := r.State(bg, "H-1")
		require.NoError(t, err)
		require.Len(t, s.IDs(), 1, "restart %d", i)
	}

	peer, err := replica.New(version.MustID("baltimore"), replica.NewMemoryStore(), res, opts)
	require.NoError(t, err)
	_, err = peer.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	id := version.MustID("tokyo")
	for i := 1; ; i++ {
		r, err := replica.New(id, replica.NewMemoryStore(), res, opts)
		require.NoError(t, err)
		_, err = r.Apply(bg, "H-1", export(t, peer, "H-1"))
		require.NoError(t, err)
		_, err = r.Blind(bg, "H-1", "note", hold.NoteEdit(id.String()))
		if err != nil {
			var tl *replica.TooLargeError
			require.ErrorAs(t, err, &tl)
			require.Equal(t, "replicas", tl.What)
			require.Equal(t, limit+1, tl.Size)
			require.Equal(t, limit, i, "incarnations that wrote before the limit")
			break
		}
		_, err = peer.Apply(bg, "H-1", export(t, r, "H-1"))
		require.NoError(t, err)
		id, err = id.Next()
		require.NoError(t, err)
	}
	s, err := peer.State(bg, "H-1")
	require.NoError(t, err)
	require.Len(t, s.IDs(), limit)
	_, err = peer.Get(bg, "H-1")
	require.NoError(t, err)
	_, err = peer.Blind(bg, "H-1", "note", hold.NoteEdit("an incarnation already named still writes"))
	require.NoError(t, err)
}

// TestCommandKeysStayBounded: command after command on one record (1,250 by
// default, 100,000 with CONCORD_PROOF_SCALE=80) keep its applied keys at
// policy.DefaultHorizon.Keys and its stored state under 40 KiB with
// hold.Codec (the issue saw a record pass the 64 KiB limit at the 2,977th
// command); a retry of a recent command is replayed, one of a forgotten
// command applies again.
func TestCommandKeysStayBounded(t *testing.T) {
	store := replica.NewMemoryStore()
	r, err := replica.New(version.MustID("lisbon"), store, hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{
		CommandKeys: hold.CommandKeys, Codec: hold.Codec{},
	})
	require.NoError(t, err)
	_, err = r.Create(bg, "H-1", hold.New("H-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	n := max(proof.Histories(t, 1250), policy.DefaultHorizon.Keys+100)
	touch := func(h *hold.Hold, _ replica.Write) error { h.Touch("desk"); return nil }
	largest := 0
	for i := range n {
		_, _, err := r.Command(bg, "H-1", fmt.Sprintf("lisbon-desk-%06d", i), touch)
		require.NoError(t, err)
		data, _, err := store.Get(bg, "H-1")
		require.NoError(t, err)
		largest = max(largest, len(data))
	}
	rec, err := r.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, policy.DefaultHorizon.Keys, rec.Value.Commands.Len())
	require.Less(t, largest, 40<<10)
	t.Logf("%d commands: %d keys kept, largest stored state %d bytes", n, rec.Value.Commands.Len(), largest)

	_, replayed, err := r.Command(bg, "H-1", fmt.Sprintf("lisbon-desk-%06d", n-1), touch)
	require.NoError(t, err)
	require.True(t, replayed, "a retry of the last command")
	_, replayed, err = r.Command(bg, "H-1", "lisbon-desk-000000", touch)
	require.NoError(t, err)
	require.False(t, replayed, "the first command was forgotten: its retry is a new command")
}
