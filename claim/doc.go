// Package claim gives out exclusive, fenced claims on names — "cabin C14 on
// the 14 March sailing is Hold H-8821's" — for the invariants that span
// records and that no merge policy can keep.
//
// Per-record merging decides between concurrent versions of one record. It
// cannot see two different records at once: hold H-8821 confirmed in
// Baltimore and hold H-9040 confirmed in Lisbon during a partition are two
// records, each converging perfectly, and the cabin is sold twice. "At most
// one confirmed hold per cabin" needs coordination around the invariant
// itself. A claim is that coordination, and only that: one linearizable
// compare-and-set on the name's home store, paid by the writes that touch
// the invariant, while every other write stays local and available.
//
// # The model
//
// A [Claim] on a name is free, pending or committed, and carries a fencing
// token. [Home.Acquire] takes a free name for an owner (a hold's key) as
// pending until a deadline, under the next token; [Home.Commit] records the
// owner's decision (a booking ID) and makes the claim committed;
// [Home.Release] frees it, and [Home.Abandon] frees it only if it is still
// pending (what a cleanup must use, so as never to free a claim committed
// in between). The token grows by one on every acquisition and
// is stored with the claim, never derived from the store's revisions, and
// claims are never deleted (a released claim is written back as free with
// its token): so a token is never issued twice for a name, even on a store
// whose revisions restart. Commit and Release need the token, so an owner
// that lost its claim — taken over while it stalled, or renewed by another
// attempt of the same owner — is told so ([ErrFenced], [ErrNotOwner])
// instead of acting on it.
//
// A pending claim whose deadline plus the home's margin has passed has
// lapsed: its owner crashed or stalled between claiming and committing. The
// next Acquire takes it over, and [Home.Reconcile] (a sweeper) frees it, so
// a crash never holds a name for ever. A committed claim is never taken
// over: the decision it records stands until its owner releases it.
//
// # When to use a claim
//
// Use one for a write whose correctness depends on other records: the
// confirmation of one hold among several on a cabin, the last seat, a
// unique username. Do not use one for what a merge policy keeps: extends,
// notes and agency sets of one record merge without coordination and stay
// available everywhere. The hold flow that puts both together is in
// package hold/booking.
//
// # What it costs
//
// One round trip to the home store per Acquire, Commit and Release (a
// read and a compare-and-set; more only under contention for the same
// name) — from a region far from the home, one cross-region round trip
// each. Nothing else pays it.
//
// # One home per name
//
// Claims are deliberately not replicated across regions and merged: a
// merge of two regions' claims is exactly the double booking this package
// exists to prevent. Each name has one home — the cabin's home region — and
// every process that claims it talks to that home. The home store must be
// linearizable per key and must keep its keys (no TTL, no purge): a
// PostgreSQL primary (adapters/postgres), a SQLite file shared by the
// processes of one machine (adapters/sqlite), or a JetStream KV bucket on a
// stream with three replicas read from its leader (adapters/nats
// CreateHome, which says which settings make it so).
//
// A region cut off from a name's home cannot acquire or commit it: the
// call fails with [ErrUnavailable] (HTTP 503 with Retry-After). That is the
// price of the invariant, paid only by the writes that need it.
//
// # What is promised, and what is not
//
// Promised, whatever the clocks, pauses and network do, as long as the home
// store is linearizable and keeps its keys:
//
//   - at most one owner holds a name at any instant, and at most one
//     acquisition's Commit succeeds for it until it is released;
//   - tokens of a name strictly increase, one per acquisition;
//   - Commit and Release succeed only for the owner and token of the
//     current acquisition.
//
// Promised when clock skew between the claimants stays below the margin: an
// owner that commits before its deadline, by its own clock, is not fenced
// by a takeover.
//
// Not promised: that a pending owner which stalls past its deadline plus
// the margin keeps its claim — it is fenced, and Commit tells it so; that an
// [ErrUnavailable] call did not take effect (it may have: call again, or
// Get, to learn); progress while the home is unreachable.
//
// # Observing
//
// A [Home] reports the outcome of every call to its [Observer]: claimed,
// already owner, refused because claimed, unavailable, committed,
// released, taken over, reconciled, fenced. [Counters] counts them; see
// docs/METRICS.md.
package claim
