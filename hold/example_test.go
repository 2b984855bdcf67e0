package hold_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/policy"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// Lisbon extends hold H-8821 while Baltimore confirms booking B-3107, both
// from version 18. The resolver merges the two branches: confirmed is
// absorbing and keeps the terms it was paid for, and the agencies of both
// branches are kept.
func ExampleResolver() {
	at := func(s int) version.Timestamp {
		return version.Timestamp{Wall: time.Date(2026, 11, 26, 14, 4, s, 0, time.UTC).UnixNano()}
	}
	v18 := hold.New("H-8821", "C14", "lisbon-desk", time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC))

	extended := v18
	_ = extended.Extend(v18.ExpiresAt.Add(10 * time.Minute))
	confirmed := v18
	confirmed.Touch("baltimore-payments")
	_ = confirmed.Confirm("B-3107", v18.ExpiresAt.Add(-time.Minute))

	res, err := hold.Resolver(resolve.Options{}).Merge([]resolve.Branch[hold.Hold]{
		{Value: extended, Stamp: version.Stamp{Time: at(52), Dot: version.Dot{ID: version.MustID("lisbon"), Counter: 19}}},
		{Value: confirmed, Stamp: version.Stamp{Time: at(53), Dot: version.Dot{ID: version.MustID("baltimore"), Counter: 1}}},
	})
	if err != nil {
		panic(err)
	}
	h := res.Value
	fmt.Println(h.Status, h.BookingID, h.ExpiresAt.Format(time.TimeOnly), h.Agencies.Elements())
	for _, d := range res.Decisions {
		if d.Outcome != policy.Same {
			fmt.Printf("%s: %s (%s)\n", d.Field+d.Rule, d.Outcome, d.Reason)
		}
	}
	// Output:
	// confirmed B-3107 14:10:00 [baltimore-payments lisbon-desk]
	// status: picked (confirmed is absorbing)
	// expires_at: picked (later expiry)
	// booking_id: picked (write-once: the other branch is unset)
	// agencies: combined (set union)
	// confirmed-keeps-terms: combined (confirmed branch keeps its expiry)
}

// The commands enforce the lifecycle on one branch: a released hold cannot
// be confirmed, and the error says so in words and by sentinel.
func ExampleHold_Confirm() {
	h := hold.New("H-8821", "C14", "lisbon-desk", time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC))
	_ = h.Release()
	err := h.Confirm("B-3107", time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC))
	fmt.Println(err)
	fmt.Println(errors.Is(err, hold.ErrIllegalTransition))
	// Output:
	// hold H-8821: cannot confirm a released hold: illegal transition
	// true
}
