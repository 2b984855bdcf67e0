package hold

import "time"

// Expire ends an active hold whose expiry has passed at now: expiry is a
// release written by a sweeper (a conditional write with the token it read,
// see Replica.Update), not a rule applied on read, so that every region sees
// the same status and a merge knows what happened. It reports whether it
// changed h; a hold that is not active, or not yet due, is left alone — so
// running it twice, or in every region at once, is safe: two regions that
// expire the same hold both write status released, which merges silently
// (equal values), and a confirm that raced the expiry wins the merge,
// because confirmed is absorbing (the lifecycle policy): a payment is never
// lost to the clock. An extend that raced the expiry meets a released
// branch, a conflict to review, like a release racing an extend.
func (h *Hold) Expire(now time.Time) bool {
	if h.Status != Active || now.Before(h.ExpiresAt) {
		return false
	}
	h.Status = Released
	return true
}

// Deletable reports whether a hold may be deleted by a retention sweep at
// now: a released (or expired) hold once retention has passed since its
// expiry. A confirmed hold is never deleted automatically: it is a booking.
// An active hold is not either: it must expire first.
func Deletable(h Hold, now time.Time, retention time.Duration) bool {
	return h.Status == Released && !now.Before(h.ExpiresAt.Add(retention))
}
