// Package bench compares concord with the Go libraries its users would pick
// instead, on identical inputs, in one `go test -bench` run, so that every
// claim is a ratio measured on the same machine at the same moment.
//
// It is its own module (github.com/harborpoint/concord/bench) so that the
// core module never depends on the peers:
//
//   - github.com/syncthing/syncthing lib/protocol.Vector: a sorted slice of
//     (uint64 ID, counter); its Update mixes in wall time and is not measured.
//   - github.com/DistributedClocks/GoVector govec/vclock.VClock: a map from
//     string ID to counter.
//   - github.com/aalpar/crdt: dot contexts, an add-wins set and an LWW
//     register (maps of dots).
//   - github.com/xraph/grove crdt: a per-field merge engine with LWW and an
//     OR-set, ordered by hybrid logical clock (it does not detect concurrency).
//
// Beside them runs a plain baseline, [Pairs]: a sorted slice of (ID, N)
// uint64 pairs compared, joined and encoded the obvious way — the practical
// floor of a version vector.
//
// Every benchmark builds its inputs once, from one seeded shape, and hands
// every implementation the same shape converted to its own types. Benchmark
// names carry the implementation as "impl=NAME" so that benchstat can put
// the implementations side by side:
//
//	BenchmarkCompare/impl=concord/case=descends/n=16
//
// run.sh runs the suite with repetitions and writes the table in RESULTS.md.
// The tests check that every implementation gives the same answer on the
// shaped inputs; none asserts anything about time.
package bench
