package replica_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/claim/claimtest"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/version"
)

// TestAnsweringSideRefusesAnExpiredMember: a member not heard from for
// longer than the retention is refused by the replica it opens a session
// with, not only by the replicas that open sessions with it: the session
// fails with an *ExpiredError naming it before any state moves, and states
// it sends (a push) are each refused with one and not stored. Both
// directions: lisbon expired baltimore, and baltimore, which has heard
// from lisbon, opens the session; and lisbon opens it.
func TestAnsweringSideRefusesAnExpiredMember(t *testing.T) {
	clock := claimtest.NewClock(day)
	lis, iad, lisStore := retaining(t, clock)
	clock.Advance(61 * time.Minute)
	heard := clock.Now().Add(-61 * time.Minute)
	iad.AddMember(lisbon) // baltimore still takes lisbon; lisbon expired baltimore
	_, err := iad.Create(bg, "H-2", hold.New("H-2", "C2", "desk", minutes(10)))
	require.NoError(t, err)

	_, err = iad.Sync(bg, replica.Local(lis)) // baltimore opens the session
	var ee *replica.ExpiredError
	require.ErrorAs(t, err, &ee)
	require.ErrorIs(t, err, replica.ErrExpired)
	require.Equal(t, replica.ExpiredError{Member: baltimore, Heard: heard, Retention: time.Hour}, *ee)
	require.Zero(t, storedKeys(t, lisStore), "nothing of the expired member was applied")

	state, err := iad.Export(bg, "H-2")
	require.NoError(t, err)
	applied, refused := lis.ApplyDeltas(replica.WithCaller(bg, baltimore), []replica.Delta{{Key: "H-2", Data: state}})
	require.Zero(t, applied)
	require.Len(t, refused, 1)
	require.ErrorAs(t, &refused[0], &ee)
	require.Equal(t, baltimore, ee.Member)
	require.Zero(t, storedKeys(t, lisStore), "a push of the expired member is not stored")

	_, err = lis.Sync(bg, replica.Local(iad)) // lisbon opens it
	require.ErrorIs(t, err, replica.ErrExpired)
	require.Equal(t, []version.ID{baltimore}, lis.Reaping().Expired, "refusing changes nothing")

	lis.AddMember(baltimore) // it rejoins with an empty store
	_, err = iad.Sync(bg, replica.Local(lis))
	require.NoError(t, err)
	_, err = lis.Get(bg, "H-2")
	require.NoError(t, err)
}

// TestAnsweringCountsAsHeardFrom: a member whose sessions this replica
// answers is heard from, so a pair where one side opens every session
// does not expire the other on the answering side.
func TestAnsweringCountsAsHeardFrom(t *testing.T) {
	clock := claimtest.NewClock(day)
	lis, iad, _ := retaining(t, clock)
	for range 3 {
		clock.Advance(40 * time.Minute)
		_, err := iad.Sync(bg, replica.Local(lis))
		require.NoError(t, err)
		require.Equal(t, clock.Now(), lis.Reaping().Heard[baltimore])
	}
	require.Empty(t, lis.Reaping().Expired)
}

// TestCallerOutsideTheMembershipIsAnswered: a caller that is no member
// (or none named) is answered as before.
func TestCallerOutsideTheMembershipIsAnswered(t *testing.T) {
	clock := claimtest.NewClock(day)
	lis, iad, _ := retaining(t, clock)
	clock.Advance(2 * time.Hour)
	rec, err := iad.Create(bg, "H-3", hold.New("H-3", "C3", "desk", minutes(10)))
	require.NoError(t, err)
	state, err := iad.Export(bg, "H-3")
	require.NoError(t, err)
	applied, refused := lis.ApplyDeltas(replica.WithCaller(bg, version.MustID("sydney")), []replica.Delta{{Key: "H-3", Data: state}})
	require.Equal(t, 1, applied, "%v", refused)
	got, err := lis.Get(bg, "H-3")
	require.NoError(t, err)
	require.Equal(t, rec.Token, got.Token)
	id, ok := replica.CallerFrom(replica.WithCaller(bg, baltimore))
	require.True(t, ok)
	require.Equal(t, baltimore, id)
	_, ok = replica.CallerFrom(bg)
	require.False(t, ok)
}

// TestAnExpiredMemberIsServedNothing: the states an expired member asks
// for (the server side of a pull, Deltas) are refused, each with an
// *ExpiredError, and none is served, by any transport: Local's Pull fails
// with one, and AdmitCaller, which transports call before any operation,
// refuses it without counting it as heard from. Once added again, it is
// served.
func TestAnExpiredMemberIsServedNothing(t *testing.T) {
	clock := claimtest.NewClock(day)
	lis, _, _ := retaining(t, clock)
	_, err := lis.Create(bg, "L-1", hold.New("L-1", "C1", "desk", minutes(10)))
	require.NoError(t, err)
	clock.Advance(61 * time.Minute)
	heard := lis.Reaping().Heard[baltimore]
	asIad := replica.WithCaller(bg, baltimore)
	wants := []replica.Want{{Key: "L-1"}, {Key: "L-2"}}

	var ee *replica.ExpiredError
	require.ErrorAs(t, lis.AdmitCaller(asIad), &ee)
	require.Equal(t, baltimore, ee.Member)
	states, refused := lis.Deltas(asIad, wants)
	require.Empty(t, states, "nothing is served to the expired member")
	require.Len(t, refused, len(wants))
	for i, e := range refused {
		require.Equal(t, wants[i].Key, e.Key)
		require.ErrorIs(t, &refused[i], replica.ErrExpired)
	}
	pulled, err := replica.Local(lis).Pull(asIad, wants)
	require.ErrorAs(t, err, &ee)
	require.Empty(t, pulled)
	require.Equal(t, heard, lis.Reaping().Heard[baltimore], "refusing is not hearing from")
	require.Equal(t, []version.ID{baltimore}, lis.Reaping().Expired)

	lis.AddMember(baltimore) // it rejoins
	require.NoError(t, lis.AdmitCaller(asIad))
	states, refused = lis.Deltas(asIad, wants)
	require.Empty(t, refused)
	require.Len(t, states, 1)
	pulled, err = replica.Local(lis).Pull(asIad, wants)
	require.NoError(t, err)
	require.Len(t, pulled, 1)
}
