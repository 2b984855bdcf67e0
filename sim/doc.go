// Package sim is a deterministic, seeded fault-injection simulation of
// concord replicas, with the checks that earn a replicated store trust.
//
// A history runs 2 to 5 replicas ([replica.Replica] over in-memory stores)
// and a handful of clients for a number of steps. Each step the simulated
// network may reorder, duplicate, delay or drop replication messages; cut a
// link (messages on it wait) or heal one (anti-entropy follows); crash a
// replica and restart it with its state, or without it as a new
// incarnation ([version.ID.Next]); skew a replica's clock, which also
// drifts; and flip a bit of a message in flight or of a stored record.
// Clients write in every style of package replica — blind writes of
// last-writer-wins fields, conditional writes with fresh and stale tokens,
// commands with idempotency keys retried when their replies are lost,
// deletes with fresh and stale tokens and re-creations from a tombstone's
// token — and settle conflicts from review queues. Every replica reaps
// tombstones: the membership is every replica's current incarnation (one
// that restarts as a new incarnation is retired and its successor added),
// and after each completed anti-entropy session each side acknowledges
// what the other holds (Replica.Ack with its Digest). With
// Workload.MaxRecordBytes small, some writes are refused as too large and
// some merges exceed the limit and wait in review. Anti-entropy runs periodically: the
// replicas' own sessions (replica.Sync), whose protocol messages cross the
// faulty network — a lost message or answer stops the session, a
// duplicated one is answered twice — and whose states travel as
// replication messages with every fault above. At the end every replica
// restarts, links heal one at a time in random order, messages in flight
// arrive and anti-entropy runs between every pair over a reliable network.
//
// # Checks
//
// Every [Check] must hold in every history:
//
//   - [Convergence]: the replicas hold identical records — siblings,
//     versions, tokens, values, open conflicts and review queues.
//   - [NoLoss], from the clients' ledger (what each client wrote, the token
//     it sent, the dot and context it was acknowledged with), never from a
//     replica's own context: every acknowledged write is still visible
//     holding the value its client wrote, was overwritten by a later
//     acknowledged write whose client-sent token covered it, was merged into
//     a later command or blind write whose acknowledged context covered it,
//     or was settled by a Resolve naming it (Jepsen's set-full). Writes that
//     lived only on a memory-only replica that then lost its state at a
//     crash, or on one whose disk was damaged, are counted apart, each in
//     its class. A replica that crashes keeping its state (always, with
//     Config.Durable) must restart holding exactly what it held.
//   - [Invariant]: the workload's domain rules, after every step.
//   - [Bounds]: at most one sibling per writing incarnation; vectors name
//     only incarnations that wrote the key.
//   - [Model]: the naive model that keeps causal histories as explicit sets
//     of dots, fed the same history, issues the same dots and keeps the same
//     siblings and contexts.
//   - [DotReuse]: no dot is acknowledged twice (Riak's KV679).
//   - [Errors]: no operation fails in a way the protocol does not allow: a
//     damaged message (fault Corrupt) must be refused as corrupt and change
//     nothing; a record damaged on disk (fault Rot) must be quarantined
//     while every other record keeps replicating.
//   - [Review]: the token a review queue hands out settles its conflict.
//   - [AtMostOnce]: a command retried where its first application is held
//     is replayed, not applied again, within the record's command horizon
//     and unless the record was deleted since.
//   - [Clock]: every write is stamped after every stamp its replica wrote or
//     applied (within the HLC's drift bound).
//   - [Values]: with Workload.Project, the final fields equal a plain
//     model of the ledger: last-writer-wins by per-field stamp through the
//     branches (a write over a conflict changes the fields its branches do
//     not agree on; a tombstone is no base and offers no value), and the
//     unions and the workload's own joins (a state machine, a maximum) of
//     the values the causally latest live writes wrote; with
//     Workload.CommandKeys, the applied idempotency keys are theirs, less
//     what the command horizon forgets. Records a replica refused to merge
//     as too large are compared too, once settled (Report.Values counts
//     them).
//   - [Resurrection], from the ledger: a write an acknowledged delete's
//     client-sent token covered is never live again where the delete was
//     held (nor anywhere after the final heal), no write is acknowledged
//     over a delete its own context did not cover, and a delete concurrent
//     with an update reads as the declared resolve.OnDelete says.
//   - [Reaped]: once every replica has healed and acknowledged, no
//     tombstone is left anywhere.
//   - [Storage]: after the final heal each store holds exactly its live
//     records (no tombstone), within Keys records of MaxRecordBytes.
//
// A write over the record limit must be refused with a
// *replica.TooLargeError and change nothing (it is not acknowledged, so
// the ledger never counts it); a merge over the limit must keep the local
// record and enter the review queue (replica.RecordLimitRule) — check
// [Errors] otherwise. The operator settles such reviews during the final
// heal, one replica per round, with exactly the token the queue hands out
// (check [Review]: a 412 there is a violation), so that the replicas can
// converge. The settlement keeps the command keys of every branch it
// replaces, so a branch that fit alone may not fit as one: when it is
// refused as too large, the operator makes the value smaller
// (Workload.Shrink) and settles again, as a 413 asks. A workload whose
// records grow to the limit must say how (sim's TestRecordsGrowToTheLimit
// runs one): without Shrink such a record can stay in review and the
// replicas diverge, which check [Convergence] reports.
//
// Reaping's horizons live in a Replica value's memory and, over a
// replica.HorizonStore, in the store (package replica). Messages in flight
// to a replica are lost when it crashes; a replica that crashes holding
// reaped horizons restarts over its store with its ID and its horizons —
// the MemoryStore keeps both the counter floor and the horizons, and the
// model keeps the horizons too, so a create of a reaped key after the
// restart supersedes the delete as it did before — or, over a store a
// test hook wrapped, which keeps neither, as a new incarnation.
//
// # Durability
//
// Without Config.Durable a crash loses the replica's state with probability
// Faults.StateLoss, as a memory-only replica would; with it every store is
// durable and only a damaged disk loses state. Config.Restarts crashes and
// restarts the first replica every few steps, so that one replica lives
// through many incarnations or many restarts in one history.
//
// About one update or command in ten has a second Replica value over the
// same store write the key during its first attempt, so the
// compare-and-set retry path runs in every campaign.
//
// # Your own records
//
// The simulator is generic and knows no domain: a [Workload] names the
// record type's resolver and the operations clients make, and may add
// invariants. Package hold/holdsim's Workload is Harbor Point's cabin hold,
// and a model for your own:
//
//	report, err := sim.Run(sim.Config{Seed: 1, Histories: 1000}, myWorkload)
//	if !report.OK() { t.Fatal(report.String()) }
//
// # Invariants across records
//
// Check [CrossRecord] is for workloads that span records: hold/holdsim's
// RunCabins sells each cabin to one of several holds through a claim at one
// home store (package claim), and checks that at no step, and not after the
// final heal, are two holds on one cabin confirmed; that every refused
// confirmation was told why and none acknowledged is lost; and that no
// claim is left behind.
//
// # Reproducing a failure
//
// History i of a campaign runs with seed Config.Seed+i and nothing else: no
// wall clock, no map order, no goroutine scheduling enters it; each step
// draws from a source seeded by the history's seed and the step's number,
// so a step is the same events whichever other steps ran. A failing
// history is shrunk to its shortest failing prefix of steps, then steps
// are left out of it — runs of them, then single ones — while it still
// fails the same check, and it is printed event by event with its seed
// ([Failure]); Config{Seed: seed, Histories: 1, Steps: n, Skip: steps} with
// the same other settings replays it, and [Reproduce] prints it again.
package sim
