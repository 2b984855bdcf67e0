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
//   - Conditional writes ([Replica.Update], [Replica.ResolveConflict]) need
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
// input safely (ErrMalformed, nothing changed). [Replica.Digest],
// [Replica.Missing] and [AntiEntropy] exchange causal contexts first and
// then only the records the other side lacks.
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
