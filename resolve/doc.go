// Package resolve is concord's record engine: it decides, for one record,
// which writes survive.
//
// A record's replicated state is a [Siblings] value — a sibling clock (see
// package version) whose values are branches: a record value and the
// [version.Stamp] of the write that made it. The engine never drops a branch
// that no write superseded; it only decides what readers see.
//
// # Classify, then resolve
//
// An incoming version either descends from the local one ([IncomingWins]),
// is already covered by it ([StaleWrite]: nothing changes, counted), is the
// same ([Duplicate]), or is concurrent with it ([ConcurrentConflict]). Only
// then does a [Resolver] run, over the siblings:
//
//   - each bound field merges with its policy ([Bind]: a typed accessor,
//     checked by the compiler; no struct tags, no reflection);
//   - record-level [Rule] values see both whole branches and may adjust the
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
