// Package resolve is concord's record engine: it decides, for one record,
// which writes survive.
//
// A record's replicated state is a [Siblings] value — a sibling clock (see
// package version) whose values are [Branch] values: a record value, the
// [version.Stamp] of the write that made it, and the stamp of each field.
// The engine never drops a branch that no write superseded; it only decides
// what readers see.
//
// # Field stamps
//
// A field's stamp is the stamp of the write that last changed that field,
// as in Cassandra's cells and cr-sqlite's columns. A write changes a field
// when the field's new value is not equal to its value in the record the
// write was built from (its base, see [Change]), by the binding's equality
// (see [Bind]). The fields one write changes all take its stamp, so a record
// is never torn within a write; a field it leaves equal keeps its older
// stamp. Policies and rules that order by stamp see these field stamps, so a
// concurrent write that never touched a field — a confirmation, next to an
// edit of the note — cannot win that field with its stale copy. A merged
// record carries, per field, the stamp its merged value came from. A write
// that settles branches (a conflict, a review item) has as base what they
// agree on ([Resolver.Agreement]): it changes every field they do not all
// hold with its value, even one whose value it keeps from one of them.
//
// # Causality before stamps
//
// Stamps order writes only when their clocks agree. A replica whose clock is
// beyond the hybrid logical clock's drift bound refuses the far-future stamps
// it sees, so its write can be stamped earlier than the very value it read
// and replaced. A branch therefore also carries what its writer had seen
// ([Branch.Seen]), and a field stamp names, by its dot, the write whose value
// the field holds. For a field with a replaceable policy (last-writer-wins,
// [policy.Replaceable]), a value that the writer of another branch of the
// merge had seen, when that branch holds another value of the field, is
// replaced: it loses to any value that is not, whatever the stamps. Only
// values whose writers never saw each other are ordered by stamp. Whether a
// value is replaced depends on the set of branches alone, so the merge stays
// a join. (With clocks within the drift bound, stamps follow causality and
// the rule changes nothing.) A branch whose Seen is unknown — stored by a
// release before it was kept — replaces nothing.
//
// # Classify, then resolve
//
// An incoming version either descends from the local one ([IncomingWins]),
// is already covered by it ([StaleWrite]: nothing changes, counted), is the
// same ([Duplicate]), or is concurrent with it ([ConcurrentConflict]). Only
// then does a [Resolver] run, over the siblings:
//
//   - each bound field merges with its policy ([Bind]: a typed accessor,
//     checked by the compiler; no struct tags); equal values merge as Same
//     without asking the policy;
//   - record-level [RecordRule] values see both whole branches and may adjust the
//     merged record or refuse;
//   - the outcome is a [Resolution] (one value, its stamp, and the
//     [Decision] of every policy that fired) or a [*ConflictRequiresRetry]
//     carrying every branch, the reason, and the context a retry must cover.
//
// Resolution is a pure function of the sibling set: branches are folded in
// stamp order, and every policy is a join, so two replicas holding the same
// siblings read the same value and version. No replica mints a new dot to
// record a resolution, so replicas never ping-pong fresh versions at each
// other; the siblings collapse when the next write, whose context covers
// them, arrives.
//
// # Observing
//
// An [Observer] is told of every automatic resolution and the policies that
// fired, every conflict, stale and duplicate version, and every
// last-writer-wins decision taken inside the clock-skew window. [Counters] is
// an in-memory Observer for tests and exporters.
//
// # Checking your own resolver
//
// Package resolvetest runs the convergence laws on a user's resolver with
// rapid, like testing/slogtest does for slog handlers.
package resolve
