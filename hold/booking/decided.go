package booking

import (
	"context"
	"errors"
	"fmt"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/resolve"
)

// ErrTwoBookings: the hold is confirmed with a booking other than the one
// its cabin's claim records. The protocol never writes that; it means a
// confirmation bypassed the desk. Nothing is overwritten: an operator
// decides.
var ErrTwoBookings = errors.New("booking: hold confirmed with a booking its cabin's claim does not record")

// apply writes the booking a committed claim records on hold id in this
// region — rolls the decision forward — and returns the record. A hold
// already confirmed with it is returned as is.
//
// The write covers whatever the hold became meanwhile: extends and notes
// are kept, a release made without knowing of the decision is overwritten
// (as the lifecycle merges a confirmation with a concurrent release), and
// an open conflict is settled with the booking. Other writes coming first
// are retried, up to Options.MaxAttempts.
func (d *Desk) apply(ctx context.Context, id string, c claim.Claim) (replica.Record[hold.Hold], error) {
	var last error
	for range d.attempts {
		rec, err := d.recs.Get(ctx, id)
		if err != nil {
			return rec, err
		}
		if err := twoBookings(rec, c); err != nil {
			return rec, err
		}
		switch {
		case rec.Conflict != nil:
			rec, err = d.recs.ResolveConflict(ctx, id, rec.Token, settle(rec.Branches, c.Data))
		case rec.Value.Status == hold.Confirmed:
			return rec, nil // written already
		default:
			rec, err = d.recs.Update(ctx, id, rec.Token, func(h *hold.Hold, _ replica.Write) error {
				h.Status, h.BookingID = hold.Confirmed, c.Data
				return nil
			})
		}
		if err == nil {
			return rec, nil
		}
		if !errors.Is(err, replica.ErrPreconditionFailed) && !errors.Is(err, resolve.ErrConflict) {
			return rec, err
		}
		last = err
	}
	return replica.Record[hold.Hold]{}, fmt.Errorf("booking: %q: booking %s decided at the home, not yet written after %d attempts (Reconcile writes it): %w",
		id, c.Data, d.attempts, last)
}

// twoBookings reports a hold confirmed, in its value or in a branch, with
// another booking than the claim's.
func twoBookings(rec replica.Record[hold.Hold], c claim.Claim) error {
	for _, b := range rec.Branches {
		if b.Value.Status == hold.Confirmed && b.Value.BookingID != c.Data {
			return fmt.Errorf("%w: %s is confirmed with %s, the claim %v", ErrTwoBookings, rec.Key, b.Value.BookingID, c)
		}
	}
	return nil
}

// settle is the value that settles an open conflict of a hold whose
// booking was decided: the latest branch, confirmed with booking, with the
// agencies and command keys of every branch and the latest expiry.
func settle(bs []resolve.Branch[hold.Hold], booking string) hold.Hold {
	latest := bs[0]
	for _, b := range bs[1:] {
		if b.Stamp.Compare(latest.Stamp) > 0 {
			latest = b
		}
	}
	v := latest.Value
	for _, b := range bs {
		v.Agencies = v.Agencies.Union(b.Value.Agencies)
		v.Commands = v.Commands.Union(b.Value.Commands)
		if b.Value.ExpiresAt.After(v.ExpiresAt) {
			v.ExpiresAt = b.Value.ExpiresAt
		}
	}
	v.Status, v.BookingID = hold.Confirmed, booking
	return v
}
