// Package hold is Harbor Point's cabin hold: concord's reference domain
// model, a worked example of a record whose fields need different merge
// rules. Read it beside your own record type; package hold/holdsim runs it
// through the fault-injection simulator.
//
// A hold is a temporary claim on a cabin (hold H-8821 on cabin C14) while a
// customer decides. Regions write it concurrently — Lisbon extends the hold
// while Baltimore confirms booking B-3107, both from version 18 — and the
// record must converge to the right business truth, not just to one value.
// Three kinds of merge rule live side by side in [Resolver]:
//
//   - the agent note is replaceable text: last writer wins, said plainly;
//   - the agencies that touched the hold are additive: set union;
//   - the lifecycle (active, released, confirmed) is a state machine with
//     rejection paths: confirmed is absorbing and keeps its booking and its
//     terms; two concurrent active branches merge to the later expiry;
//     released versus active is refused (ConflictRequiresRetry); and two
//     confirmations with different bookings are never merged — "one
//     confirmed owner per cabin" needs coordination, so they go to review.
//
// The commands enforce the lifecycle on one branch and return a
// [*TransitionError] for illegal moves. They map to the three write styles
// of package replica: note edits are blind ([NoteEdit]), [Hold.Confirm] and
// [Hold.Release] are conditional (If-Match), and [Hold.Extend] is a
// merge-aware command deduplicated by an idempotency key ([CommandKeys]).
//
// # Expiry and retention
//
// Expiry is a transition a sweeper writes, not a rule applied on read:
// [Hold.Expire] releases an active hold whose expiry has passed, with the
// token the sweeper read (a conditional write). It is idempotent and safe
// in every region at once — two regions' expiries are equal released
// branches and merge silently — and a confirm that raced the expiry wins,
// because confirmed is absorbing. Released and expired holds are deleted
// ([Deletable], then Replica.Delete) once a retention has passed since
// their expiry; confirmed holds are never deleted automatically. The
// tombstone is reaped once every region has it (see package replica).
package hold
