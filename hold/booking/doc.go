// Package booking confirms Harbor Point's cabin holds so that a cabin is
// never confirmed twice: at most one confirmed hold per cabin, across every
// region, during partitions and after they heal.
//
// A hold's own fields merge without coordination (package hold): Lisbon's
// extend and Baltimore's note meet and merge. But two different holds on
// cabin C14, each confirmed in its own region during a partition, are two
// records that each converge perfectly — and the cabin is sold twice, with
// no conflict for any merge to see. A [Desk] closes that gap with a claim
// on the cabin (package claim) at the cabin's one home store, taken only by
// the writes that need it.
//
// # Which writes are available under a partition, and why
//
//   - Extends, agencies, notes: available everywhere, always. They are
//     writes of one hold that merge (later expiry, union, last writer wins)
//     and cannot break an invariant across holds. Make them on the region's
//     replica directly.
//   - Releases ([Desk.Release]): available everywhere, always. Ending a
//     hold frees a cabin; it cannot double-book one. The desk gives back the
//     cabin's claim when the home is reachable, and the claim lapses by
//     itself when it is not.
//   - Confirmations ([Desk.Confirm]): need the cabin's home. A region cut
//     off from it gets [claim.ErrUnavailable] (HTTP 503 with Retry-After),
//     because confirming without the claim is exactly how a cabin gets
//     sold twice. The cost is one round trip to the home for the claim and
//     one for the commit, paid by confirmations only.
//
// # The confirmation
//
// Confirm checks the hold in the region (token, lifecycle, expiry), claims
// the cabin at the home as pending for PendingFor, runs BeforeCommit (where
// a payment is captured), commits the booking at the home — the decision —
// and writes the hold confirmed in the region. Another hold's claim on the
// cabin is [claim.ErrClaimed], with the holder ([*claim.ClaimedError], HTTP
// 409).
//
// The home's commit is the one point where the confirmation is decided:
// no hold is ever written confirmed before its booking is committed to it
// at the home, and a committed claim is never taken over. So at most one
// hold per cabin is ever written confirmed, in any region, whatever the
// timing, and no merge can produce a second.
//
// # Crashes between the claim and the write
//
//   - Crash after claiming, before committing: the claim stays pending
//     with its owner and a deadline. At the deadline plus the home's
//     margin, the next confirmation of any hold on the cabin takes it over,
//     and [Desk.Reconcile] frees it; a release of the hold gives it back at
//     once. If the crashed process wakes up, its commit is fenced
//     ([claim.ErrFenced]) and it writes nothing.
//   - Crash after committing, before writing the hold: the booking is
//     decided, so it is rolled forward, never back: a retry of the
//     confirmation (same token, same booking) or Reconcile writes it. The
//     cabin is the hold's; it is not leaked, because the hold ends
//     confirmed.
//
// # What is promised, and what is not
//
// Promised, as long as the home store is linearizable and keeps its keys,
// and every confirmation goes through a Desk: at no point, in no region,
// are two holds on one cabin confirmed; a confirmation that returns success
// stays confirmed; one refused with ErrClaimed never takes effect; after a
// partition heals and Reconcile has run for every hold, every claim is
// free, or committed to a hold that is confirmed with its booking.
//
// Not promised: that a confirmation which returned ErrUnavailable did not
// take effect — its booking may have been committed; retry it to learn; that
// a confirmation which stalls between claiming and committing past
// PendingFor plus the margin (a paused process, a slow payment) keeps the
// cabin — its commit is fenced and its payment must be refunded; that a
// release made while the home is unreachable stands against a booking the
// home had already committed to the hold — the hold then ends confirmed, as
// the hold's lifecycle merges a confirmation with a concurrent release;
// that a confirmation made around the Desk (hold.Confirm through
// replica.Update directly) is safe — it is not, and the sim's mutant
// "confirm without claiming" shows the double booking it makes.
package booking
