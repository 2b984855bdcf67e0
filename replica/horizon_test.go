package replica_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// reapedWithALateCopy has lis create, delete and, with iad, reap H-1
// (reapedEverywhere), and gives a third replica, sydney (outside the
// membership: a backup restored from before the delete, or a message source
// that lags), the copy from before the delete. It returns the late copy's
// bytes and sydney.
func reapedWithALateCopy(t *testing.T, lis, iad *replica.Replica[hold.Hold]) ([]byte, *replica.Replica[hold.Hold]) {
	t.Helper()
	syd, err := replica.New(version.MustID("sydney"), replica.NewMemoryStore(), hold.Resolver(resolve.Options{}),
		replica.Options[hold.Hold]{CommandKeys: hold.CommandKeys})
	require.NoError(t, err)
	late := reapedEverywhere(t, lis, iad, lis)
	_, err = syd.Apply(bg, "H-1", late)
	require.NoError(t, err)
	return late, syd
}

// TestHorizonsSurviveARestart: a replica over a HorizonStore that restarts
// right after reaping still refuses a late copy of the record from before
// the delete — delivered by Apply or found by an anti-entropy session with
// a replica that still holds it — and never stores it: the horizon was
// stored durably before the tombstone left the store. The restarted
// replica reports the horizon, acknowledges it, and its reconciliation
// index holds the key at its horizon, so a peer that reaped sees no
// difference.
func TestHorizonsSurviveARestart(t *testing.T) {
	for _, path := range []string{"apply", "sync", "pushed"} {
		t.Run(path, func(t *testing.T) {
			store := replica.NewMemoryStore()
			lis := reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
			iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
			late, syd := reapedWithALateCopy(t, lis, iad)

			lis = reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{}) // restarts
			switch path {
			case "apply":
				class, err := lis.Apply(bg, "H-1", late)
				require.NoError(t, err)
				require.Equal(t, resolve.StaleWrite, class)
			case "sync":
				rep, err := lis.Sync(bg, replica.Local(syd))
				require.NoError(t, err)
				require.Zero(t, rep.Received, "the late copy is not applied")
			case "pushed":
				_, err := syd.Sync(bg, replica.Local(lis))
				require.NoError(t, err)
			}
			require.Zero(t, storedKeys(t, store), "the late copy resurrected H-1")
			_, err := lis.Get(bg, "H-1")
			require.ErrorIs(t, err, replica.ErrNotFound)
			require.Equal(t, []string{"H-1"}, lis.Reaped())
			require.Equal(t, 1, lis.Reaping().Horizons)

			ack, err := lis.Acknowledge(bg, []string{"H-1"})
			require.NoError(t, err)
			require.Contains(t, ack.Held, "H-1", "the restarted replica acknowledges its horizon")
			rep, err := iad.Sync(bg, replica.Local(lis))
			require.NoError(t, err)
			require.Zero(t, rep.Sent+rep.Received, "the members agree on the reaped key")
			agree, err := reaper(t, lisbon, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{}).
				Sync(bg, replica.Local(reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})))
			require.NoError(t, err)
			require.Equal(t, agree.Bytes, rep.Bytes, "the cost of agreeing: both indexes hold H-1 at its horizon")
		})
	}
}

// TestRecreationAfterARestartSupersedesTheDelete: the restarted replica
// plans a write of a reaped key from its durable horizon, so a re-creation
// supersedes the delete everywhere — whoever deleted — instead of meeting
// it as a concurrent write.
func TestRecreationAfterARestartSupersedesTheDelete(t *testing.T) {
	store := replica.NewMemoryStore()
	lis := reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	reapedEverywhere(t, lis, iad, iad)
	lis = reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	rec, err := lis.Create(bg, "H-1", hold.New("H-1", "C2", "desk", minutes(30)))
	require.NoError(t, err)
	require.Empty(t, lis.Reaped(), "stored again: the horizon is no longer needed")
	require.NoError(t, replica.AntiEntropy(bg, lis, iad))
	got, err := iad.Get(bg, "H-1")
	require.NoError(t, err)
	require.Nil(t, got.Conflict)
	require.Equal(t, rec.Token, got.Token)

	lis = reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	_, err = lis.Create(bg, "H-1", hold.New("H-1", "C3", "desk", minutes(30)))
	require.ErrorIs(t, err, replica.ErrExists, "the horizon was removed from the store too")
}

// TestDurableHorizonsAreDroppedAfterTheRetention: a horizon read back
// after a restart keeps the time of its reap, and is dropped — from the
// store as well — once the retention has passed since then.
func TestDurableHorizonsAreDroppedAfterTheRetention(t *testing.T) {
	clock := claimtest.NewClock(day)
	lis, iad, store := retaining(t, clock)
	reapedEverywhere(t, lis, iad, lis)
	reapedAt := clock.Now()
	clock.Advance(59 * time.Minute)
	opts := replica.Options[hold.Hold]{Retention: time.Hour, Now: clock.Now}
	lis = reaper(t, lisbon, store, resolve.DeleteConflicts, opts)
	_, err := lis.Reap(bg)
	require.NoError(t, err)
	require.True(t, reapedAt.Equal(lis.Reaping().Oldest), "reaped at %v, read back %v", reapedAt, lis.Reaping().Oldest)
	clock.Advance(2 * time.Minute)
	_, err = lis.Reap(bg)
	require.NoError(t, err)
	require.Empty(t, lis.Reaped())
	lis = reaper(t, lisbon, store, resolve.DeleteConflicts, opts)
	_, err = lis.Reap(bg)
	require.NoError(t, err)
	require.Empty(t, lis.Reaped(), "dropped from the store too")
	st := lis.Reaping()
	require.Equal(t, replica.ReapStatus{CounterFloor: st.CounterFloor, Heard: st.Heard}, st)
}

// TestUnreadableHorizonIsIgnored: a stored horizon that does not read back
// is logged and left out; the replica goes on with the others.
func TestUnreadableHorizonIsIgnored(t *testing.T) {
	store := replica.NewMemoryStore()
	lis := reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	reapedEverywhere(t, lis, iad, lis)
	require.NoError(t, store.PutHorizon(bg, "H-0", []byte("damaged")))
	var log strings.Builder
	lis = reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	_, err := lis.Reap(bg)
	require.NoError(t, err)
	require.Equal(t, []string{"H-1"}, lis.Reaped())
	require.Contains(t, log.String(), `key=H-0`)
}

// TestReapingAfterARestartCountsStoredHorizons: right after a restart over a
// HorizonStore, before any operation, the reports that take no context
// count the horizons the store keeps (the metrics adapters read them on
// every scrape).
func TestReapingAfterARestartCountsStoredHorizons(t *testing.T) {
	store := replica.NewMemoryStore()
	lis := reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	iad := reaper(t, baltimore, replica.NewMemoryStore(), resolve.DeleteConflicts, replica.Options[hold.Hold]{})
	reapedWithALateCopy(t, lis, iad)

	lis = reaper(t, lisbon, store, resolve.DeleteConflicts, replica.Options[hold.Hold]{}) // restarts
	require.Equal(t, 1, lis.Reaping().Horizons)
	require.Equal(t, []string{"H-1"}, lis.Reaped())
}

// TestScanHorizonsCopiesOnlyAPage: a load pages through every horizon, so
// a page must not cost a copy of every horizon after the cursor.
func TestScanHorizonsCopiesOnlyAPage(t *testing.T) {
	m := replica.NewMemoryStore()
	for i := range 2000 {
		require.NoError(t, m.PutHorizon(bg, fmt.Sprintf("H-%04d", i), make([]byte, 64)))
	}
	allocs := testing.AllocsPerRun(3, func() {
		page, err := m.ScanHorizons(bg, "", 1)
		require.NoError(t, err)
		require.Len(t, page, 1)
	})
	require.Less(t, allocs, 40.0, "allocations of one page of one horizon")
}
