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
// input safely (ErrMalformed, nothing changed). Most replicated states cost
// Apply little: one already held is recognised from its causal metadata
// alone, and one of a single sibling that supersedes the stored state is
// checked as the decoder checks it and stored as it came, neither decoded
// into a record nor encoded again (a codec that is a [Validator] checks
// its value without building it; hold's codec is one).
//
// Anti-entropy ([Replica.Sync]) finds the records on which two replicas
// differ with range-based set reconciliation (package rangesync): each
// replica keeps an index of every record's key and causal context, built
// from the store once, by the first session, and then updated by every
// state it stores and every state it reads (until then nothing is indexed:
// a replica that never reconciles, fed by pushed writes alone, does not
// pay for the index; [Replica.Rescan] rebuilds an index once built). A session costs a round trip of 20 bytes when the
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
// # Several writers on one store
//
// Several Replica values (processes) may share a store. Each indexes the
// states it stores, and takes into its index every stored state it reads
// that it does not hold: a read ([Replica.Get], [Replica.State],
// [Replica.Export]), a write's compare-and-set retry after another writer
// got there first, [Replica.Apply] of a copy, the peer side of a session
// ([Replica.Deltas]) and its own side (the contexts it fetches with), and
// the scans of [Replica.Reap] and [Replica.Digest]. So a state another
// writer stored is offered by this replica's next session once this
// replica has read or written the key — whether its own write of it
// succeeded, merged or was refused — with no extra call.
//
// What holds for a key another writer stored and this Replica value never
// reads: the writer's own index has it, so the writer's sessions offer it;
// this value's sessions offer it after its next [Replica.Rescan]. A session
// does not scan the store (that is the cost, growing with the store, that
// range reconciliation removes), and the [Store] contract has no
// store-wide revision or change feed to tell cheaply that another writer
// wrote. So every process that writes a shared store should run
// anti-entropy itself, or the one that does should Rescan periodically
// (BenchmarkRescan: a read and a context decode per record, values decoded
// only for records with several siblings). The review queue learns of
// another writer's conflict, or of its change to one, when this value
// reads or writes the key or rescans (see "Review queue").
//
// # Copies beside the store
//
// Some stores replicate by themselves and keep every region's copy of a
// key beside the local one: a NATS JetStream bucket that sources the other
// regions' keys (adapters/nats). Such a store hands the replica those
// copies through [Peers] ([Options.Peers]), and the replica merges the
// ones its own state does not cover before every read and write of the
// key, so the application works with a Replica only and the store is just
// storage and transport. The adapter delivers the versions it receives
// between accesses through [Replica.Apply], as any transport does.
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
// processes, every [Replica.Sync] session ends by asking the peer what it
// holds of the tombstones waiting to be reaped, when the peer is an
// [Acknowledger] ([Local]; over HTTP a ReplicationClient that names its
// peer's ID); [Replica.Ack] and [AntiEntropy] acknowledge by hand.
//
// Acknowledgements live in the Replica value's memory; a restart starts
// them empty, so nothing is reaped until every member has acknowledged
// again (reaping comes late, never early). Horizons live there too, and,
// over a [HorizonStore] ([MemoryStore], the adapters' stores), in
// the store: each is stored before its tombstone leaves the store, and a
// new Replica value reads them back before it writes, applies, syncs or
// reaps, so a restart refuses exactly the late copies its predecessor
// refused. Let only one Replica value per store reap.
//
// # Restarting a replica that reaped
//
// A reaped key's history leaves the store with its tombstone, but a
// replica's own writes of the key stay counted: before a tombstone is
// reaped, the replica raises its counter floor ([Replica.CounterFloor]) to
// the tombstone's counter of its own writes, and every write it makes is
// numbered above the floor. So a replica that lost a key's horizon —
// dropped after the retention, or with the process — never reissues a dot
// its peers' horizons, or their unreaped tombstones, already hold (which
// they would drop as stale: acknowledged writes lost, Riak's KV679). A
// [FloorStore] keeps the floor durably beside the records ([MemoryStore]
// does, and so do the SQLite, PostgreSQL and NATS adapters' stores); then a replica restarts over
// its store with its ID. A store that is not a FloorStore leaves the floor
// and the horizons in the Replica value: a replica over one that reaped must restart as a new
// incarnation ([version.ID.Next], [version.NewIncarnation]).
//
// Over a store that keeps the floor but not the horizons, a write the
// restarted replica makes of a reaped key supersedes what it wrote of the
// key itself, its delete included; a delete another replica made is no
// longer known to it, and meets the write as a concurrent one, settled by
// the resolver's OnDelete (a conflict to review by default). A peer's
// tombstone not reaped yet is taken back: it may name this replica's
// writes up to the floor.
//
// A [HorizonStore] keeps the horizons too ([MemoryStore] and the SQLite,
// PostgreSQL and NATS adapters' stores are ones): the restarted replica reads back its
// horizons, plans a write of a reaped key from its horizon (the
// write supersedes the delete, whoever made it), and refuses as stale a
// late copy of a version older than the delete, whether Apply delivers it
// or a session finds it at a peer. What is guaranteed there, whatever the
// restarts: for Options.Retention after a tombstone is reaped, no
// replicated version it covers is stored (Cassandra's gc_grace_seconds,
// made exact by the causal context: a version is refused because the
// delete saw it, not because it is old). Over any other store the
// horizons are lost with the process: a late copy of a version older than
// a delete, arriving after the restart, is stored, not refused. Restart
// over such a store only once no such copy can be in flight to this
// replica (its peers hold the tombstone or have reaped; request/response
// sessions that were open died with the process).
//
// # Retention and expired members
//
// A horizon is kept for Options.Retention after its reap
// ([DefaultRetention], ten days, as Cassandra's gc_grace_seconds), and
// then dropped by the next [Replica.Reap]: the memory horizons take is
// bounded by the keys reaped within the retention, not by every key ever
// deleted. That is safe when no copy of a version older than a reap can
// reach the replica later than the retention after it: a message in
// flight arrives within the retention, and a member never comes back with
// state older than what it acknowledged. The replica enforces what it can
// see of the second: a member not heard from for longer than the
// retention — no session with it completed, none it opened answered, no
// acknowledgement recorded, since it was added — has expired. It is
// refused on both sides of a session, with an [*ExpiredError]
// (ErrExpired) before any state moves: a session this replica starts with
// it fails, and so does one it opens with this replica — [Replica.Respond]
// refuses the caller a session names ([WithCaller]: [Replica.Sync] names
// its replica, httpapi's handler the replica its Auth middleware
// authenticated), and [Replica.ApplyDeltas] refuses each state it pushes.
// [Replica.Ack] refuses its acknowledgements, so the tombstones it has not
// acknowledged stay. It is admitted again only by [Replica.AddMember],
// once it rejoins with an empty store (as a new incarnation if it lost its
// store). A caller the transport does not name (a plain [Replica.Apply],
// a transport that does not authenticate replicas) cannot be told from a
// stranger and is not refused. When each member was last heard from is
// kept in memory: a restart gives every member a new grace of one
// retention. A negative Retention keeps horizons for ever and expires no
// one.
//
// An operator watches [Replica.Reaping]: tombstones waiting (they grow
// while a member does not acknowledge), horizons kept and the oldest,
// tombstones reaped and horizons dropped, the counter floor, when each
// member was last heard from, and the members that expired.
//
// # Damaged and impossible states
//
// Every state a replica stores or sends is framed: a format byte, the
// encoded siblings, and a CRC-32C of both (see [StateFormat]). A state whose
// checksum does not match is refused with an error wrapping [ErrCorrupt]
// (itself an [ErrMalformed]); the store is left as it was and the observer
// is told (resolve.Corrupt). A state that passes the checksum but claims a
// write of the receiving replica that it never issued — its own ID, beyond
// the last counter it stored for the key and its counter floor — is
// refused with an
// [*UnissuedDotError] (resolve.UnissuedDot): adopting it would make the
// replica's next writes of the key look already seen, and be dropped.
//
// # Limits
//
// A record's stored state — every sibling, its context and the frame — is
// bounded by Options.MaxRecordBytes ([DefaultMaxRecordBytes], 1 MiB), and
// its siblings and the replicas of its context by Options.Limits.MaxEntries
// (version.DefaultMaxEntries, 1,024): exactly what the decoder of a stored
// or replicated state accepts. Every state is checked against them before
// it is stored, so no sequence of writes and merges stores a state that
// this replica, or a peer with the same limits, cannot read back:
//
//   - a client write over a limit fails with a [*TooLargeError] (413) and
//     stores nothing;
//   - a replicated state over a limit is refused, and the local record kept;
//   - a merge of two states each within the limits whose result is not
//     (two concurrent writers near the limit) keeps the local record, fails
//     with a [*TooLargeError] marked Merge, and enters the review queue
//     (Rule [RecordLimitRule]) with both branches and a token that covers
//     them: [Replica.ResolveConflict] with it replaces them with one value.
//     That value keeps the command keys of every branch it replaces, and
//     its context covers them all, so a branch that fit alone may not fit
//     as the settlement: it then fails with a [*TooLargeError] (not
//     Merge) that says by how much, and changes nothing: settle again
//     with a smaller value and the token the queue hands out (by a few
//     bytes more than it said: the stamps of the fields a settlement keeps
//     are stored relative to its own, which is later at the retry). When the
//     branches' command keys alone are over the limit (replicas apart
//     running commands on one record under a small limit), no value
//     settles it: raise the limit on every replica, and the merge goes
//     through.
//
// Size is a property of the stored state, not of one write; the limits are
// a deployment's, and may differ between its versions: raise them, never
// lower them, or records stored under the larger limit become unreadable
// (quarantined) where it is lower.
//
// The context gains one entry per replica incarnation that writes the key.
// A replica over a durable store keeps its ID across restarts and adds
// none; one that restarts empty (MemoryStore, a lost disk) must take a new
// incarnation and adds one per restart that writes the key. The entry limit
// bounds it: the write that would name one incarnation too many is refused
// (a *TooLargeError on "replicas") and the record stays readable. Entries of
// retired incarnations that every member has seen could be compacted, but
// that needs the set of members (the deletes issue); until then, use a
// durable store, or a higher entry limit, for replicas that restart often.
//
// # Metadata bounds
//
//   - Applied idempotency keys (Options.CommandKeys, bound with
//     policy.AppliedKeys) carry the time of the write that applied each and
//     are pruned, on every write and merge, to their horizon
//     (policy.DefaultHorizon: 24 hours, 1,024 keys) relative to the newest
//     key, so every replica forgets the same keys: a retry within the
//     horizon applies once; after it, it is a new command. The replica
//     stores them in their binary form (policy.Applied.AppendBinary), a few
//     bytes per key, beside the codec's bytes of the rest of the value.
//   - The review queue holds at most one item per stored key; an item's
//     branches are the record's (twice the record limit at most, for a
//     merge refused for size).
//   - A per-key lock exists only while a caller holds or awaits it; at most
//     64 unused ones are kept for reuse.
//   - The command results a replica remembers for replaying retries are at
//     most 4,096, and 64 MiB of stored record size; the oldest go first (a
//     retry whose first result was forgotten still applies once and returns
//     the current record).
//   - The horizons of reaped keys are one causal context per key reaped
//     within Options.Retention (see Retention and expired members), in
//     memory and, over a [HorizonStore], one entry each in the store; the
//     counter floor is one number.
//   - The quarantine list holds at most one entry per stored key.
//   - The states remembered for the next write of a key (see One commit
//     path) are at most 1,024, and 16 MiB; a state over 2 MiB is not
//     remembered.
//
// # Damaged and unreadable records
//
// A record whose stored state cannot be read — damaged, in an unknown
// format, or over limits lowered since it was written — is quarantined at
// its first read ([ErrQuarantined], [Replica.Quarantined]): left as it is in
// the store, refused to reads, writes and replication, reported once to the
// observer and the logger, and skipped by anti-entropy ([Replica.Sync],
// [Replica.Deltas], [Replica.ApplyDeltas], [Replica.Rescan]), which goes on
// with every other record and reports the records it skipped
// ([SyncReport].Errors, [*KeyError]). It leaves quarantine when its
// stored value reads again (an operator restored it, or raised the limit).
// Writing over it is never automatic: the unreadable state was this
// replica's only record of its own writes of the key, so taking a peer's
// copy could reissue a dot; restore it from a backup, or retire the
// incarnation (version.ID.Next) and let anti-entropy refill the store.
//
// # Review queue
//
// Concurrent branches that no policy may merge stay as siblings and enter
// the review queue ([Replica.Conflicts]) until a write whose context covers
// them settles them. An item carries the token that settles the record as
// stored: every state of the key this Replica value stores, and every
// state it reads — [Replica.Get], [Replica.State], a write's read and
// compare-and-set retry, [Replica.Apply], the sessions of anti-entropy,
// [Replica.Rescan] — makes the key's item current, with the state's
// branches and context, or drops it when the state no longer has the
// conflict. A merge refused for size ([RecordLimitRule]) stays queued while
// the stored state merged with the refused branches is still over the
// limit, its branches and token following the stored state; it is dropped
// once the store covers them (another writer settled or merged them) or
// their merge fits (the branches come again with the next session, and
// merge). So Replica values sharing a store agree on a key's stored
// conflict once each has read the key, and a token from the queue is
// refused (412) only when another writer changed the record after this
// value last read it — the refusal itself is such a read, and the queue
// then hands out the token that settles the record as it is.
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
// A write of a key this replica wrote last plans from the bytes it stored
// then, without reading the store: the compare-and-set at that revision
// proves them current. Whatever else is decided from them — the store moved
// on (another process or Replica value wrote), a precondition refused,
// nothing to store, any error — is decided again from the store, so a
// remembered state saves a read and never changes an answer.
//
// # Observing
//
// Options.Observer is the one place to wire observation: it is told of
// merges and the decision of every policy that fired, conflicts, stale and
// duplicate versions, writes refused to clients, conflicts entering and
// leaving the review queue, and replicated writes stamped further ahead of
// the local clock than its drift bound (resolve.Drift). A resolve.Resolver
// notifies no one. Options.Logger gets a debug record per decision of every
// merge stored, and a warning or error line, with the record's key, for
// each corrupt or oversized state, state claiming an unissued write, and
// record quarantined (the observer counts them: resolve.Corrupt,
// resolve.TooLarge, resolve.UnissuedDot, resolve.Quarantined).
package replica
