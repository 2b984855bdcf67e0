// Package policy decides how one field of a replicated record merges when two
// writes were concurrent.
//
// # Where policies run
//
// Conflict resolution has two steps, and this package is the second. First,
// the version layer (package version) classifies an incoming write against
// the local one: if one descends from the other, the newer simply replaces
// the older — that is causal supersession, and no policy runs. Only when
// neither write saw the other are they concurrent branches, and only then
// does a field policy merge each field of the branches. A policy never sees
// a stale write and must not try to detect one: timestamps cannot tell
// "older" from "concurrent".
//
// # Policies are joins
//
// A [Policy] merges two [Branch] values: a field value with the [version.Stamp] of
// the write that produced it. Every built-in policy that merges
// automatically is a join: commutative, associative, idempotent and
// deterministic, in the value and in the stamp of the result. So replicas
// that merge the same branches in any order, grouping or repetition reach the
// same field value, and the record's stamp does not ping-pong between them.
// The result's stamp is the winner's for a [Picked] outcome and the later of
// the two for [Same] and [Combined].
//
// Each merge also returns a [Decision]: which policy fired, how the pair was
// settled, which branch won and why. A policy that cannot decide returns a
// [*Rejection] (matching [ErrRejected]) instead of guessing; the record layer
// keeps both branches and surfaces the conflict. Package policytest checks
// the join laws for policies you write.
//
// # The built-ins
//
//   - [LWW]: last writer wins, by stamp. Only for replaceable fields.
//   - [Union] over [Set]: grow-only set union, for additive membership.
//   - [AddWins] over [AWSet]: a set with removals, where an add concurrent
//     with a remove wins; no tombstones. An [AWSetBuilder] builds one from
//     many adds in linear time.
//   - [Max], [Min]: for fields that move one way.
//   - [EnableWins]: a flag whose enabling is never lost.
//   - [Once]: a write-once register; two different values are rejected.
//   - [MultiValue] over [Multi]: keeps every concurrent value, surfacing the
//     conflict instead of choosing.
//   - [StateMachine]: a declarative lifecycle — states, absorbing states, and
//     a pick, merge or reject rule for each pair — validated when built.
//
// # Why last-writer-wins is only for replaceable fields
//
// LWW always converges, but convergence only means the replicas agree, not
// that they agree on the right thing. It decides a conflict by timestamp
// order, and timestamp order is not causality: a later stamp does not mean
// its writer saw the other write, and clock skew can invert the order of
// writes made close together (decisions inside the configured skew window
// are flagged with Decision.InSkewWindow so that they can be counted). The
// losing value disappears silently. That is acceptable for an agent's draft
// note; it is data loss for a payment-backed lifecycle. If an LWW merge let a
// later "active" overwrite "confirmed", the booking would be lost with a
// clean dashboard. Fields whose meaning depends on transitions need a
// [StateMachine]; fields that accumulate need a set; fields that must be set
// once need [Once].
//
// Stamps come from a hybrid logical clock ([version.HLC]): close to physical time,
// never backwards, never repeated, and always past every timestamp the
// replica has observed. Each field carries the stamp of the write that last
// changed it (package resolve keeps one stamp per field): the fields one
// write changes share its stamp, so LWW never tears a record within a write,
// and a field a write left alone keeps its older stamp, so a concurrent write
// that never touched it cannot win it with a stale copy.
//
// # Values and concurrency
//
// Set, AWSet and Multi are immutable values (an AWSetBuilder is not, and
// is not safe for concurrent use); all policies are stateless or
// immutable and safe for concurrent use; a merge never changes its arguments.
// A [version.HLC] is safe for concurrent use.
package policy
