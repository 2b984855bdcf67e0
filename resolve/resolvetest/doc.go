// Package resolvetest checks that a record resolver converges, the way
// testing/slogtest checks a slog.Handler: users run it on their own
// resolvers, from their own tests, with a rapid generator of their record
// values.
//
//	func TestHoldResolver(t *testing.T) {
//		resolvetest.Check(t, resolvetest.Config[Hold]{
//			Resolver: hold.Resolver(nil),
//			Value:    genHold(),
//		})
//	}
//
// [Check] generates random histories — writes at several replicas with fresh
// and stale contexts and clocks that tie, replicated in random orders,
// groupings and with duplicates — and requires:
//
//   - convergence: every replica that received the same versions holds the
//     same siblings and resolves them to the same value and stamp, or to the
//     same conflict;
//   - determinism: merging the same branches twice gives the same result;
//   - order independence: folding the branches in any order (which is what
//     commutativity and associativity of every policy and rule buy) gives
//     the same result, or the same refusal;
//   - idempotence: merging a branch with itself gives the branch;
//   - the caller's invariants hold for every merged value;
//   - field stamps: every field bound with a replaceable policy (such as
//     LWW) holds, after every step, the value and stamp of the write that a
//     plain per-field model names — with clocks that follow causality, the
//     latest among the writes that changed the field and that no later
//     change of it saw. In particular, a field a concurrent write left
//     untouched never loses to that write's stale copy, and a write never
//     loses a field to the value it replaced, even when its clock was beyond
//     the drift bound and stamped it earlier (one write in four is stamped
//     so).
//
// Writes are built the way clients build them: from a value read (fresh or
// stale), changed by [Config.Change] — a random subset of fields with
// [ChangeFields], or the record's own commands — so that most writes leave
// most fields untouched.
//
// rapid shrinks a failure to a minimal history, which Check prints step by
// step.
package resolvetest
