// Package policytest checks that a field policy is a join, the way
// testing/slogtest checks a slog.Handler. Run it on every [policy.Policy] you
// write:
//
//	func TestStatusPolicy(t *testing.T) {
//		policytest.Laws(t, myPolicy, rapid.SampledFrom(allStatuses), nil)
//	}
//
// [Laws] draws branches with rapid — values from your generator, stamps with
// few distinct times so that the dot tiebreak is exercised — and checks that
// merging is commutative, associative, idempotent and deterministic in both
// the value and the stamp, that decisions are well formed, that rejections
// are symmetric, and that Merge does not change its arguments. A failure
// names the law and prints the branches, and rapid shrinks it to a small
// case. [Check] runs the same checks on three branches you choose.
//
// Why the laws matter: replicas merge the same concurrent branches in
// different orders and groupings, and merge again what they already merged.
// Only a join gives every replica the same record, and the same stamp, so
// that the record stops changing once the writes stop.
//
// The package imports pgregory.net/rapid; import it from tests only.
package policytest
