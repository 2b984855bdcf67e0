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
//   - A [DVV] is a dot plus the vector its writer had seen. Its history is
//     {dot} ∪ history(vector), so [DVV.Descends] is one lookup.
//   - A [Clock] (a dotted version vector set, as in Riak) holds the
//     causally maximal values of one key — the siblings — in metadata bounded
//     by the number of replicas that wrote the key, never by the number of
//     clients. [Clock.Update] applies a client's write made with the context
//     it read; [Clock.Sync] merges two replicas' clocks; [Clock.Join] is the
//     context handed back to readers.
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
// form for HTTP entity tags and If-Match headers ([Vector.MarshalText],
// [ParseToken]). Decoders check every field and the [Limits] before they
// allocate, and fail with a [*DecodeError] wrapping a sentinel such as
// [ErrTruncated]; they never panic. Every accepted input re-encodes to the
// same bytes.
//
// # Values and concurrency
//
// Vectors, DVVs and clocks are immutable values, safe to share between
// goroutines. A [Builder] joins vectors in place without allocating and is for
// one goroutine.
package version
