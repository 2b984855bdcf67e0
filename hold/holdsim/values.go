package holdsim

import (
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/sim"
)

// The joined fields of a hold's projection, in order.
const (
	joinedStatus  = iota // the lifecycle state
	joinedBooking        // the booking ID, write-once
	joinedTerms          // whether the hold is confirmed, then its expiry
)

// termsLayout formats expiries at a fixed width, so that comparing two
// projected terms as strings compares the instants.
const termsLayout = "2006-01-02T15:04:05.000000000Z"

// Project shows check sim.Values every field of a hold a plain model can
// compute from the clients' ledger:
//
//   - the note, last-writer-wins by per-field stamp;
//   - the agencies, a grow-only union (sim checks the applied command keys
//     itself, through Workload.CommandKeys, within the command horizon);
//   - the status, the booking and the terms, joined by [Join].
//
// The ID and the cabin are write-once and written only by creates of the
// same key, so they are not shown.
func Project(v *hold.Hold) sim.Projection {
	confirmed := "0"
	if v.Status == hold.Confirmed {
		confirmed = "1"
	}
	return sim.Projection{
		LWW:    []string{v.Note},
		Union:  [][]string{v.Agencies.Elements()},
		Joined: []string{string(v.Status), v.BookingID, confirmed + " " + v.ExpiresAt.UTC().Format(termsLayout)},
	}
}

// Join merges the values of a joined field of concurrent holds as package
// hold documents them, written out plainly rather than calling the
// policies, so that check sim.Values tests them:
//
//   - status: confirmed is absorbing (it beats every other state); released
//     and active cannot merge; equal states are that state;
//   - booking: write-once — unset merges with anything to the other value,
//     two different bookings cannot merge;
//   - terms: the later expiry, unless some branch is confirmed — then the
//     confirmed branches' terms stand, at the later of their expiries (rule
//     confirmed-keeps-terms): the greatest of (confirmed, expiry) in that
//     order.
func Join(field int, values []string) (string, bool) {
	switch field {
	case joinedStatus:
		for _, s := range values {
			if s == string(hold.Confirmed) {
				return s, true
			}
		}
		return one(values)
	case joinedBooking:
		var set []string
		for _, b := range values {
			if b != "" {
				set = append(set, b)
			}
		}
		if len(set) == 0 {
			return "", true
		}
		return one(set)
	case joinedTerms:
		return values[len(values)-1], true // sorted; the terms compare as strings
	}
	return "", false
}

// one returns the single value of values, if there is just one.
func one(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	return values[0], true
}
