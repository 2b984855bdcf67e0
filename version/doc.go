// Package version tracks causality between writes to replicated records.
//
// It answers the first question of conflict resolution exactly: did the
// incoming write see the local one (it wins), did the local write see the
// incoming one (the incoming write is stale), or did neither see the other
// (they are concurrent and a policy must decide)? Timestamps cannot answer it;
// causal metadata can.
//
// # The model
//
//   - An [ID] names one incarnation of a replica (a region, a node).
//   - A [Dot] (ID, counter) names one write event.
//   - A [Vector] maps replicas to counters: the writes a version has seen.
//   - A [Clock] (a dotted version vector set, as in Riak) holds the
//     causally maximal values of one key — the siblings — in metadata bounded
//     by the number of replicas that wrote the key, never by the number of
//     clients. [Clock.Update] applies a client's write made with the context
//     it read; [Clock.Sync] merges two replicas' clocks; [Clock.Join] is the
//     context handed back to readers.
//   - An [HLC] (hybrid logical clock) issues [Timestamp] values close to
//     wall time that never go backwards; a [Stamp] (timestamp, then dot)
//     names the write that last changed a field and orders last-writer-wins
//     the same way at every replica.
//
// Comparisons return an [Order] whose zero value is invalid.
//
// # Replica identity and state loss
//
// Dots are unique only if a replica never issues the same dot twice. A
// replica that restarts without its state no longer knows which dots it
// issued; if it kept its ID it would reissue them, and other replicas would
// drop its new writes as already seen (Riak's KV679 bug). Such a replica must
// start as a new incarnation: [ID.Next] when the incarnation number is kept
// apart from the data, [NewIncarnation] when nothing is kept.
//
// # Tokens
//
// A vector encodes to a canonical, compact binary form and to a URL-safe text
// form for HTTP entity tags and If-Match headers. There is one way to read
// each form: [Vector.UnmarshalBinary] for the binary form, and [ParseToken]
// for a token that came from outside the process, within [Limits]
// ([Vector.UnmarshalText] is ParseToken with the default limits, for
// encoding/json and friends). [MustVector] reads the display form
// "{lisbon:18}" in tests and examples. Decoders check every field and the
// limits before they allocate, and fail with a [*DecodeError] matching
// [ErrMalformedToken] whose Reason says what is wrong; they never panic.
// Every accepted input re-encodes to the same bytes.
//
// # Values and concurrency
//
// Vectors, stamps and clocks are immutable values, safe to share between
// goroutines. A [Builder] joins vectors in place without allocating and is for
// one goroutine.
//
// A vector keeps its replicas apart from its counters, and vectors derived
// from one another over the same replicas share the replicas' memory: a join
// of two such vectors, or an increment of a replica already present, writes
// only new counters, and a compare reads only counters. A clock keeps its
// causal context as a vector, so [Clock.Join] allocates nothing.
package version
