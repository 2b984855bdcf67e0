package holdsim

import (
	"errors"
	"slices"
	"strings"

	"github.com/harborpoint/concord/claim"
	"github.com/harborpoint/concord/hold"
	"github.com/harborpoint/concord/hold/booking"
	"github.com/harborpoint/concord/replica"
	"github.com/harborpoint/concord/sim"
)

// confirmedIn returns the bookings hold id is confirmed with in region r:
// its value's, or its branches' when it has an open conflict.
func (h *cabinHistory) confirmedIn(r *cabinRegion, id string) []string {
	rec, err := r.rep.Get(h.ctx, id)
	if errors.Is(err, replica.ErrNotFound) {
		return nil // not replicated here yet
	}
	if err != nil {
		h.violate(sim.Errors, "read %s at %v: %v", id, r.name, err)
		return nil
	}
	return confirmedBookings(rec)
}

func confirmedBookings(rec replica.Record[hold.Hold]) []string {
	var out []string
	if rec.Conflict == nil {
		if rec.Value.Status == hold.Confirmed {
			out = append(out, rec.Value.BookingID)
		}
		return out
	}
	for _, b := range rec.Branches {
		if b.Value.Status == hold.Confirmed && !slices.Contains(out, b.Value.BookingID) {
			out = append(out, b.Value.BookingID)
		}
	}
	return out
}

// claimOf reads the claim on cabin straight from the home store.
func (h *cabinHistory) claimOf(cabin string) claim.Claim {
	c, err := h.truth.Get(h.ctx, booking.CabinName(hold.Hold{Cabin: cabin}))
	if err != nil {
		h.violate(sim.Errors, "read the claim on %s: %v", cabin, err)
	}
	return c
}

// checkCabins is check CrossRecord's invariant on cabins, after every step
// (for the latest sailing: a confirmed hold stays confirmed, so what an
// older one comes to is seen by the final check over every cabin) and at
// the end: in no region are two holds on one cabin confirmed, and every
// confirmed hold's booking is the one the cabin's claim committed to it.
func (h *cabinHistory) checkCabins(cabins []string) {
	for _, cabin := range cabins {
		var holds []string
		c := h.claimOf(cabin)
		for _, hd := range h.holds {
			if hd.cabin != cabin {
				continue
			}
			for _, r := range h.regions {
				for _, b := range h.confirmedIn(r, hd.id) {
					if !slices.Contains(holds, hd.id) {
						holds = append(holds, hd.id)
					}
					if c.State != claim.StateCommitted || c.Owner != hd.id || c.Data != b {
						h.violate(sim.CrossRecord, "%s is confirmed with %s at %v, but the home holds %v", hd.id, b, r.name, c)
					}
				}
			}
		}
		if len(holds) > 1 {
			h.violate(sim.CrossRecord, "cabin %s: holds %s are all confirmed", cabin, strings.Join(holds, ", "))
		}
	}
}

// checkConverged compares every region's holds after the final heal.
func (h *cabinHistory) checkConverged() {
	for _, hd := range h.holds {
		var first replica.Record[hold.Hold]
		for i, r := range h.regions {
			rec, err := r.rep.Get(h.ctx, hd.id)
			if err != nil {
				h.violate(sim.Errors, "read %s at %v: %v", hd.id, r.name, err)
				continue
			}
			if i == 0 {
				first = rec
				continue
			}
			if rec.Token != first.Token || (rec.Conflict == nil) != (first.Conflict == nil) || rec.Conflict == nil && !rec.Value.Equal(first.Value) {
				h.violate(sim.Convergence, "%s: %v holds %v, %v holds %v after the heal", hd.id, h.regions[0].name, first.Value, r.name, rec.Value)
			}
		}
	}
}

// checkTold: a confirmation acknowledged is confirmed at the end, in every
// region; a booking that ends confirmed had an attempt that succeeded or
// was left open (ErrUnavailable) — never only refusals.
func (h *cabinHistory) checkTold() {
	final := map[string]string{} // booking → hold, as region 0 ends
	for _, hd := range h.holds {
		for _, b := range h.confirmedIn(h.regions[0], hd.id) {
			final[b] = hd.id
		}
	}
	open := map[string]bool{}
	for _, a := range h.attempts {
		if !a.outcome.definite() {
			open[a.booking] = true
		}
		if a.outcome == attemptConfirmed && final[a.booking] != a.hold.id {
			h.violate(sim.CrossRecord, "confirmation %s of %s acknowledged at step %d by %v is lost", a.booking, a.hold.id, a.step, a.region)
		}
	}
	for _, a := range h.attempts {
		if final[a.booking] == a.hold.id && !open[a.booking] {
			h.violate(sim.CrossRecord, "confirmation %s of %s was refused (%v) and took effect anyway", a.booking, a.hold.id, a.err)
		}
	}
}

// checkLeaks: after the heal and the sweep no claim is pending, and every
// committed claim's hold is confirmed with its booking in every region.
func (h *cabinHistory) checkLeaks() {
	for _, cabin := range h.cabins {
		c := h.claimOf(cabin)
		switch c.State {
		case claim.StatePending:
			h.violate(sim.CrossRecord, "claim leaked: %v is still pending after the heal and the sweep", c)
		case claim.StateCommitted:
			for _, r := range h.regions {
				if bs := h.confirmedIn(r, c.Owner); !slices.Equal(bs, []string{c.Data}) {
					h.violate(sim.CrossRecord, "claim leaked: %v, but %s is confirmed with %v at %v", c, c.Owner, bs, r.name)
				}
			}
		}
	}
}
