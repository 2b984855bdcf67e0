// Package replica holds one region's records of one type and offers the
// write styles that make a conflict policy visible in an API.
//
// A [Replica] stores each record's replicated state (its siblings, see
// package resolve) in a [Store] — anything with get, compare-and-set and
// conditional delete by key and revision, and an ordered, paged scan: the
// in-memory [MemoryStore] by default, NATS JetStream KV, SQLite or
// PostgreSQL in production. The replica never assumes more than that
// interface, and package storetest checks that a store keeps it.
//
// # Three write styles
//
//   - Blind writes ([Replica.Blind]) overwrite one field without a token.
//     They are last-writer-wins by nature, so they are accepted only for
//     fields bound with policy.LWW, and refused with ErrNotBlindWritable for
//     any other field.
//   - Conditional writes ([Replica.Update], [Replica.ResolveConflict],
//     [Replica.Delete]) need
//     the token the client read (an HTTP If-Match). No token is
//     ErrPreconditionRequired (428); a stale one is a [*PreconditionFailed]
//     carrying the current token and branches (412).
//   - Commands ([Replica.Command]) are merge-aware: the record's policies
//     merge concurrent runs, so no token is needed, only an idempotency key
//     that makes a retry apply once.
//
// # Replication and anti-entropy
//
// [Replica.Export] and [Replica.Apply] move a record's state between
// replicas; Apply is idempotent and order-independent, and decodes hostile
// input safely (ErrMalformed, nothing changed).
//
// Anti-entropy ([Replica.Sync]) finds the records on which two replicas
// differ with range-based set reconciliation (package rangesync): each
// replica keeps an index of every record's key and causal context, updated
// by every write it stores and built from the store once, by [Replica.Rescan]
// or the first session. A session costs a round trip of 20 bytes when the
// replicas agree and about a kilobyte and three round trips per differing
// record, however many records they hold; then each side applies the
// other's state of those records through Apply. The other replica is a
// [Peer] — three calls, Reconcile, Push and Pull — in the same process
// ([Local], [AntiEntropy]) or over a transport (package httpapi serves
// [Replica.Respond], [Replica.ApplyDeltas] and [Replica.Deltas] on one
// endpoint). A record that cannot be read or applied is skipped and
// reported; the others go on. A [Replicator] runs sessions with a set of
// peers periodically, backs off while one fails, and keeps each peer's
// status.
//
// Each Replica value indexes the writes it stores itself: when other
// processes write the same store, call Rescan to take their writes in.
//
// # Deletes and tombstones
//
// [Replica.Delete] is a conditional write (the token, If-Match, with
// Update's errors) that stores a tombstone: a causal write with no value, a
// branch with resolve.Branch.Deleted set. It replicates through Export,
// Apply and anti-entropy like any write. A read of a deleted key fails with
// a [*Deleted] (errors.Is: ErrDeleted and ErrNotFound) carrying the
// tombstone's token; [Replica.Update] with that token re-creates the record
// on purpose, while [Replica.Create] refuses to overwrite a delete. A
// delete concurrent with an update is settled by the resolver's
// resolve.Options.OnDelete — a conflict to review by default (both branches
// kept, so a confirmed hold never vanishes silently), or delete-wins, or
// update-wins — recorded as a decision. Two concurrent deletes agree
// silently; a delete with a stale token is a [*PreconditionFailed].
//
// # Reaping tombstones
//
// A tombstone is removed from the store ([Replica.Reap], a conditional
// Store.Delete) once causally stable: every replica of the membership
// (Options.Members, [Replica.AddMember], [Replica.RemoveMember]) has
// acknowledged exactly the tombstone's context ([Replica.Ack];
// [AntiEntropy] acknowledges both sides). No membership, no reaping. After
// reaping, the replica keeps the removed tombstone as the key's horizon and
// merges every replicated version of the key against it: a late message or
// a long-partitioned member's copy is covered by the horizon, so it is
// stale and never stored — no resurrection — while a write made after
// seeing the delete (a re-creation) is applied. The reconciliation index
// keeps a reaped key at its horizon, so a peer still holding the same
// tombstone sees no difference and sends nothing, and [Replica.Digest]
// reports horizons, so a peer that reaped still acknowledges. Across
// processes (the Replicator, httpapi), the transport must call Ack with
// the peer's Digest; only the in-process AntiEntropy does it today. Horizons and acknowledgements live
// in the Replica value's memory: after a restart, resync with a member
// before applying versions from elsewhere, and let only one Replica value
// per store reap.
//
// # Review queue
//
// Concurrent branches that no policy may merge stay as siblings and enter
// the review queue ([Replica.Conflicts]) until a write whose context covers
// them settles them.
//
// # One commit path
//
// Every write style, and Apply, is a small plan: a pure function from the
// record's current state to a [resolve.Outcome] (the state to store, and
// what happened). The replica runs the plan, encodes the state and stores it
// by compare-and-set; when another writer got there first, it reads the
// record again and plans again. Only once the store has accepted a state
// does the replica act on its outcome — the review queue, the observer, the
// decision log — so every event is told once per stored change, however
// many attempts it took and however many processes share the store. The
// functions a write takes (Update's and Command's fn) therefore run once per
// attempt, and writes return the record as stored, decoded from the bytes
// the store accepted.
//
// # Observing
//
// Options.Observer is the one place to wire observation: it is told of
// merges and the decision of every policy that fired, conflicts, stale and
// duplicate versions, writes refused to clients, conflicts entering and
// leaving the review queue, and replicated writes stamped further ahead of
// the local clock than its drift bound (resolve.Drift). A resolve.Resolver
// notifies no one. Options.Logger gets a debug record per decision of every
// merge stored.
package replica
