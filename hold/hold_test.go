package hold_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/internal/merge"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

var (
	day    = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	lisbon = version.MustID("lisbon")
	iad    = version.MustID("baltimore")
	clock  = func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	hlcTime = func(t time.Time) version.Timestamp { return version.Timestamp{Wall: t.UnixNano()} }
)

func TestCommandsEnforceTheLifecycle(t *testing.T) {
	h := hold.New("H-8821", "C14", "lisbon-desk", clock(14, 10, 0))
	require.NoError(t, h.Extend(clock(14, 15, 0)))
	require.ErrorIs(t, h.Extend(clock(14, 12, 0)), hold.ErrWouldShorten)
	require.ErrorIs(t, h.Confirm("", clock(14, 5, 0)), hold.ErrNoBooking)
	require.ErrorIs(t, h.Confirm("B-3107", clock(14, 16, 0)), hold.ErrExpired)
	require.NoError(t, h.Confirm("B-3107", clock(14, 4, 53)))

	var te *hold.TransitionError
	err := h.Release()
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, hold.ErrIllegalTransition)
	require.Equal(t, hold.Confirmed, te.From)
	require.Equal(t, "release", te.Action)
	require.ErrorIs(t, h.Extend(clock(15, 0, 0)), hold.ErrIllegalTransition)
	require.ErrorIs(t, h.Confirm("B-9", clock(14, 5, 0)), hold.ErrIllegalTransition)
	require.Equal(t, "H-8821 C14 confirmed B-3107 until 14:15", h.String())

	r := hold.New("H-1", "C1", "", clock(14, 0, 0))
	require.NoError(t, r.Release())
	require.ErrorIs(t, r.Confirm("B-1", clock(13, 0, 0)), hold.ErrIllegalTransition)
}

// branch makes a hold branch written at replica id with counter n.
func branch(h hold.Hold, id version.ID, n uint64, at time.Time) resolve.Branch[hold.Hold] {
	return resolve.Branch[hold.Hold]{Value: h, Stamp: version.Stamp{Time: hlcTime(at), Dot: version.Dot{ID: id, Counter: n}}}
}

func TestLessonTimeline(t *testing.T) {
	r := hold.Resolver(resolve.Options{})
	v18 := hold.New("H-8821", "C14", "lisbon-desk", clock(14, 10, 0))

	extended := v18
	require.NoError(t, extended.Extend(clock(14, 15, 0)))
	confirmed := v18
	require.NoError(t, confirmed.Confirm("B-3107", clock(14, 4, 53)))
	confirmed.Touch("baltimore-payments")

	for _, order := range [][]resolve.Branch[hold.Hold]{
		{branch(extended, lisbon, 19, clock(14, 4, 52)), branch(confirmed, iad, 1, clock(14, 4, 53))},
		{branch(confirmed, iad, 1, clock(14, 4, 53)), branch(extended, lisbon, 19, clock(14, 4, 52))},
	} {
		res, err := merge.Branches(r, order)
		require.NoError(t, err)
		require.Equal(t, hold.Confirmed, res.Value.Status)
		require.Equal(t, "B-3107", res.Value.BookingID)
		require.True(t, res.Value.ExpiresAt.Equal(clock(14, 10, 0)), "the confirmed terms stand: %v", res.Value.ExpiresAt)
		require.Equal(t, []string{"baltimore-payments", "lisbon-desk"}, res.Value.Agencies.Elements())
		var why []string
		for _, d := range res.Decisions() {
			if d.Outcome != policy.Same {
				why = append(why, d.String())
			}
		}
		require.Contains(t, why[0], "hold.status: lifecycle picked")
		require.Contains(t, why[0], "confirmed is absorbing")
	}
}

func TestConcurrentExtendsKeepTheLaterExpiry(t *testing.T) {
	r := hold.Resolver(resolve.Options{})
	v := hold.New("H-8821", "C14", "", clock(14, 10, 0))
	a, b := v, v
	require.NoError(t, a.Extend(clock(14, 15, 0)))
	require.NoError(t, b.Extend(clock(14, 20, 0)))
	res, err := merge.Branches(r, []resolve.Branch[hold.Hold]{branch(a, lisbon, 2, clock(14, 5, 0)), branch(b, iad, 1, clock(14, 4, 0))})
	require.NoError(t, err)
	require.Equal(t, hold.Active, res.Value.Status)
	require.True(t, res.Value.ExpiresAt.Equal(clock(14, 20, 0)))
}

func TestReleaseRacingExtendRequiresRetry(t *testing.T) {
	r := hold.Resolver(resolve.Options{})
	v := hold.New("H-8821", "C14", "", clock(14, 10, 0))
	a, b := v, v
	require.NoError(t, a.Extend(clock(14, 15, 0)))
	require.NoError(t, b.Release())
	_, err := merge.Branches(r, []resolve.Branch[hold.Hold]{branch(a, lisbon, 2, clock(14, 5, 0)), branch(b, iad, 1, clock(14, 6, 0))})
	var conflict *resolve.ConflictRequiresRetry
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, "status", conflict.Field)
	require.Contains(t, conflict.Reason, "released vs active")
	require.Len(t, conflict.Stamps, 2)

	// A confirmation anywhere settles it: confirmed is absorbing.
	c := v
	require.NoError(t, c.Confirm("B-1", clock(14, 1, 0)))
	res, err := merge.Branches(r, []resolve.Branch[hold.Hold]{branch(a, lisbon, 2, clock(14, 5, 0)), branch(b, iad, 1, clock(14, 6, 0)), branch(c, iad, 2, clock(14, 7, 0))})
	require.NoError(t, err)
	require.Equal(t, hold.Confirmed, res.Value.Status)
}

func TestTwoBookingsGoToReview(t *testing.T) {
	r := hold.Resolver(resolve.Options{})
	v := hold.New("H-8821", "C14", "", clock(14, 10, 0))
	a, b := v, v
	require.NoError(t, a.Confirm("B-3107", clock(14, 4, 0)))
	require.NoError(t, b.Confirm("B-3108", clock(14, 4, 0)))
	_, err := merge.Branches(r, []resolve.Branch[hold.Hold]{branch(a, lisbon, 2, clock(14, 5, 0)), branch(b, iad, 1, clock(14, 6, 0))})
	var conflict *resolve.ConflictRequiresRetry
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, "booking_id", conflict.Field)
	require.ErrorIs(t, err, policy.ErrRejected)
}
