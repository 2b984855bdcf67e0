// Package concord is the map of an embeddable library for records written
// in more than one place at once — several regions, offline clients,
// asynchronous workflows. This package holds no code: import the packages
// below. A complete program is examples/quickstart (go run
// ./examples/quickstart), shown whole in the README.
//
// # Eight things to learn first
//
//  1. Who writes: a version.ID names one incarnation of a replica (a
//     region). A replica that restarts without its state must start as a new
//     incarnation (version.NewIncarnation, version.ID.Next), or it would
//     reissue versions it already issued.
//  2. How one field merges: a field policy from package policy —
//     policy.LWW for replaceable values only, policy.Union and
//     policy.AddWins for sets, policy.Max and policy.Min, policy.Once
//     for write-once values, policy.NewStateMachine for lifecycles that
//     must refuse some merges. Write your own by implementing policy.Policy
//     and check it with package policy/policytest.
//  3. How a record merges: resolve.Bind binds a field of your record type
//     to a policy with a typed accessor, and resolve.New builds the
//     record's resolve.Resolver from the bindings (plus optional record
//     rules and a resolve.Observer such as resolve.Counters).
//  4. Where records live: replica.New makes one region's replica.Replica
//     over a replica.Store — replica.NewMemoryStore here, NATS JetStream
//     KV or SQL in production (adapters/, their own modules).
//  5. Reading and writing: replica.Replica.Get returns the record and its
//     token; the three write styles are replica.Replica.Update
//     (conditional: the token the writer read, an HTTP If-Match),
//     replica.Replica.Blind (a last-writer-wins field, no token) and
//     replica.Replica.Command (merge-aware, deduplicated by an idempotency
//     key). replica.Replica.Create makes a record.
//  6. What no policy may merge: a resolve.ConflictRequiresRetry keeps every
//     branch, says which field or rule refused and why, and waits in the
//     replica's review queue (replica.Replica.Conflicts) for a write that
//     has seen every branch (replica.Replica.ResolveConflict).
//  7. How regions converge: replica.Replica.Sync runs one anti-entropy
//     session with a peer (replica.Local in one process,
//     httpapi.ReplicationClient over HTTP): range-based reconciliation finds
//     the records that differ, at a cost that grows with the differences,
//     not the store, and each side applies the other's. replica.AntiEntropy
//     syncs two replicas of one process, replica.Replicator syncs with every
//     peer periodically; replica.Replica.Export and replica.Replica.Apply
//     move one record. Any order, grouping or duplication of deliveries
//     gives the same records everywhere.
//  8. Proving your own resolver converges: resolvetest.Check runs the
//     convergence laws on your resolver with rapid, from your tests, the way
//     testing/slogtest checks a slog.Handler.
//
// # Packages, bottom to top
//
// Each imports only packages listed before it:
//
//   - version: replica IDs, dots, vectors, sibling clocks, tokens, the
//     hybrid logical clock and stamps.
//   - policy: field policies (merge rules only); policy/policytest checks a
//     policy's join laws.
//   - resolve: the record engine; resolve/resolvetest checks a resolver.
//   - hold: Harbor Point's cabin hold, the reference domain model.
//   - replica: one region's records over a store, the three write styles,
//     deletes, replication, anti-entropy and the review queue;
//     replica/storetest checks a store.
//   - claim: invariants across records — an exclusive, fenced claim on a
//     name (a cabin) at one home store; hold/booking confirms a hold by
//     claiming its cabin.
//   - sim: a seeded fault-injection simulator for any record type;
//     hold/holdsim runs the cabin hold through it.
//   - httpapi: concord over HTTP — ETags, If-Match, problem details,
//     Idempotency-Key.
//
// The core module depends only on the standard library at run time.
package concord
