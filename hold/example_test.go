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
// from version 18. When the two writes meet, the resolver merges them:
// confirmed is absorbing and keeps the terms it was paid for, the agencies
// of both branches are kept, and the note neither write touched keeps the
// stamp of its own last edit.
func ExampleResolver() {
	r := hold.Resolver(resolve.Options{})
	lisbon, baltimore := version.MustID("lisbon"), version.MustID("baltimore")
	at := func(s int) version.Timestamp {
		return version.Timestamp{Wall: time.Date(2026, 11, 26, 14, 4, s, 0, time.UTC).UnixNano()}
	}
	write := func(local resolve.Siblings[hold.Hold], read resolve.Resolution[hold.Hold], id version.ID, s int, h hold.Hold) resolve.Siblings[hold.Hold] {
		o, err := r.Write(local, resolve.Change[hold.Hold]{Context: read.Version, Base: &read.Branch, Replica: id, Time: at(s),
			Value: func(version.Dot) hold.Hold { return h }})
		if err != nil {
			panic(err)
		}
		return o.State
	}
	v18 := hold.New("H-8821", "C14", "lisbon-desk", time.Date(2026, 11, 26, 14, 10, 0, 0, time.UTC))
	v18.Note = "draft 18"
	state := write(resolve.Siblings[hold.Hold]{}, resolve.Resolution[hold.Hold]{}, lisbon, 0, v18)
	read, _ := r.Resolve(state) // both regions read this

	extended := read.Value
	_ = extended.Extend(v18.ExpiresAt.Add(10 * time.Minute))
	confirmed := read.Value
	confirmed.Touch("baltimore-payments")
	_ = confirmed.Confirm("B-3107", v18.ExpiresAt.Add(-time.Minute))
	atLisbon := write(state, read, lisbon, 52, extended)
	atBaltimore := write(state, read, baltimore, 53, confirmed)

	o := r.Apply(atLisbon, atBaltimore)
	h := o.Resolution.Value
	fmt.Println(o.Class, "->", h.Status, h.BookingID, h.ExpiresAt.Format(time.TimeOnly), h.Agencies.Elements(), h.Note)
	for _, d := range o.Resolution.Decisions() {
		if d.Outcome != policy.Same {
			fmt.Printf("%s: %s (%s)\n", d.Field+d.Rule, d.Outcome, d.Reason)
		}
	}
	// Output:
	// concurrent-conflict -> confirmed B-3107 14:10:00 [baltimore-payments lisbon-desk] draft 18
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
