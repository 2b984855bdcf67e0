package replica_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// retaining returns lisbon and baltimore reaping with a retention of an
// hour on clock, and lisbon's store.
func retaining(t *testing.T, clock *claimtest.Clock) (lis, iad *replica.Replica[hold.Hold], store *replica.MemoryStore) {
	opts := replica.Options[hold.Hold]{Retention: time.Hour, Now: clock.Now}
	store = replica.NewMemoryStore()
	lis = reaper(t, lisbon, store, resolve.DeleteConflicts, opts)
	iad = reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, opts)
	return lis, iad, store
}

// TestHorizonsAreDroppedAfterTheRetention: a reaped key's horizon refuses
// late copies for the retention, then Reap drops it — it leaves Reaped, the
// Digest and the reconciliation index — and the replica's next write of
// the key is still numbered above every counter it reaped, so the peer
// applies it.
func TestHorizonsAreDroppedAfterTheRetention(t *testing.T) {
	clock := claimtest.NewClock(day)
	lis, iad, _ := retaining(t, clock)
	late := reapedEverywhere(t, lis, iad, lis)
	reapedAt := clock.Now()

	clock.Advance(59 * time.Minute)
	require.NoError(t, replica.AntiEntropy(bg, lis, iad))
	for _, r := range []*replica.Replica[hold.Hold]{lis, iad} {
		_, err := r.Reap(bg)
		require.NoError(t, err)
		class, err := r.Apply(bg, "H-1", late)
		require.NoError(t, err)
		require.Equal(t, resolve.StaleWrite, class, "%v: within the retention the horizon refuses a late copy", r.ID())
		st := r.Reaping()
		require.Equal(t, 1, st.Horizons)
		require.Equal(t, reapedAt, st.Oldest)
		require.Equal(t, uint64(1), st.Reaped)
		require.Zero(t, st.Dropped)
	}

	clock.Advance(2 * time.Minute)
	for _, r := range []*replica.Replica[hold.Hold]{lis, iad} {
		n, err := r.Reap(bg)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Empty(t, r.Reaped(), "%v dropped the horizon", r.ID())
		d, err := r.Digest(bg)
		require.NoError(t, err)
		require.Empty(t, d)
		st := r.Reaping()
		require.Equal(t, replica.ReapStatus{Reaped: 1, Dropped: 1, CounterFloor: st.CounterFloor, Heard: st.Heard}, st)
	}
	empty := func() *replica.Replica[hold.Hold] {
		r, err := replica.New(version.MustID("sydney"), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}), replica.Options[hold.Hold]{})
		require.NoError(t, err)
		return r
	}
	agree, err := empty().Sync(bg, replica.Local(empty()))
	require.NoError(t, err)
	for _, r := range []*replica.Replica[hold.Hold]{lis, iad} {
		rep, err := r.Sync(bg, replica.Local(empty()))
		require.NoError(t, err)
		require.Equal(t, agree, rep, "%v's index no longer holds the key: it agrees with an empty replica", r.ID())
	}

	again, err := lis.Create(bg, "H-1", hold.New("H-1", "C2", "desk", minutes(30)))
	require.NoError(t, err)
	require.Equal(t, uint64(3), again.Context.Get(lisbon), "numbered above the create and the delete it reaped")
	require.NoError(t, replica.AntiEntropy(bg, lis, iad))
	got, err := iad.Get(bg, "H-1")
	require.NoError(t, err)
	require.Equal(t, "C2", got.Value.Cabin)
}

// TestExpiredMemberIsRefused: a member not heard from for longer than the
// retention is refused — a session with it fails with an *ExpiredError
// before any state moves, its acknowledgements are refused — until it is
// added again.
func TestExpiredMemberIsRefused(t *testing.T) {
	clock := claimtest.NewClock(day)
	lis, iad, lisStore := retaining(t, clock)
	clock.Advance(30 * time.Minute)
	_, err := lis.Sync(bg, replica.Local(iad)) // heard from: the grace starts again
	require.NoError(t, err)
	clock.Advance(59 * time.Minute)
	require.Empty(t, lis.Reaping().Expired)
	heard := clock.Now().Add(-59 * time.Minute)
	require.Equal(t, map[version.ID]time.Time{baltimore: heard}, lis.Reaping().Heard)

	clock.Advance(2 * time.Minute)
	_, err = iad.Create(bg, "H-2", hold.New("H-2", "C2", "desk", minutes(10)))
	require.NoError(t, err)
	require.Equal(t, []version.ID{baltimore}, lis.Reaping().Expired)
	_, err = lis.Sync(bg, replica.Local(iad))
	var ee *replica.ExpiredError
	require.ErrorAs(t, err, &ee)
	require.ErrorIs(t, err, replica.ErrExpired)
	require.Equal(t, replica.ExpiredError{Member: baltimore, Heard: heard, Retention: time.Hour}, *ee)
	require.Zero(t, storedKeys(t, lisStore), "nothing of the expired member was applied")
	require.ErrorIs(t, replica.AntiEntropy(bg, lis, iad), replica.ErrExpired)
	d, err := iad.Digest(bg)
	require.NoError(t, err)
	require.ErrorIs(t, lis.Ack(baltimore, d), replica.ErrExpired)
	require.NoError(t, lis.Ack(version.MustID("sydney"), d), "not a member: ignored")

	lis.AddMember(baltimore) // it rejoins with an empty store
	require.Empty(t, lis.Reaping().Expired)
	require.NoError(t, lis.Ack(baltimore, d))
	require.ErrorIs(t, replica.AntiEntropy(bg, iad, lis), replica.ErrExpired, "baltimore has not heard from lisbon either")
	iad.AddMember(lisbon)
	require.NoError(t, replica.AntiEntropy(bg, iad, lis))
	_, err = lis.Get(bg, "H-2")
	require.NoError(t, err)
}

// TestNegativeRetentionKeepsHorizons: a negative retention keeps every
// horizon and never expires a member.
func TestNegativeRetentionKeepsHorizons(t *testing.T) {
	clock := claimtest.NewClock(day)
	opts := replica.Options[hold.Hold]{Retention: -1, Now: clock.Now}
	lis := reaper(t, lisbon, replica.NewMemoryStore(), resolve.DeleteConflicts, opts)
	iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, opts)
	reapedEverywhere(t, lis, iad, lis)
	clock.Advance(365 * 24 * time.Hour)
	_, err := lis.Reap(bg)
	require.NoError(t, err)
	require.Equal(t, []string{"H-1"}, lis.Reaped())
	require.Empty(t, lis.Reaping().Expired)
	require.NoError(t, replica.AntiEntropy(bg, lis, iad))
}
