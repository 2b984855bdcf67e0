// Package rangesync finds the differences between two sets of versioned
// keys held by two processes, exchanging messages whose total size grows
// with the number of differences d, not with the size of the sets n. It is
// range-based set reconciliation, as in Aljoscha Meyer's thesis
// ("Range-Based Set Reconciliation", 2023) and Doug Hoyte's negentropy
// protocol: O(d·log n) bytes in O(log n) round trips.
//
// # Items and the index
//
// An item is a key with the bytes of its version — for package replica, the
// binary form of a record's causal context. An [Index] keeps the items
// ordered by key in a B+ tree whose every node holds the number of items
// below it and the sum of their hashes; [Index.Put] and [Index.Remove] keep
// it current as records change, in O(log n), and the fingerprint of any
// range of keys is a difference of two prefix sums, also O(log n). Nothing
// is recomputed by scanning the store.
//
// # Fingerprints
//
// An item's hash is SHA-256 of its key (length-prefixed) and version. A
// range's fingerprint is the first 16 bytes of SHA-256 over the sum of its
// items' hashes modulo 2^256 and its item count.
//
// The hashes are added, not XORed. XOR is its own inverse, so equal hashes
// cancel in pairs, and it is linear over GF(2): from about 256 items whose
// keys an adversary chooses, Gaussian elimination finds a subset whose XOR
// equals any target, so crafted differences make two different ranges look
// equal. Addition modulo 2^256 has neither weakness: x + x = 2x is not 0,
// and there is no linear algebra to solve. What remains is the generalized
// birthday problem: Wagner's algorithm finds a colliding sum only from tens
// of thousands of chosen items per range. Replicas that reconcile trust
// each other anyway (a peer that may replicate may write records), so this
// is the bar negentropy sets too.
//
// Collision probability: for two ranges holding different items, the sums
// differ by a nonzero ±1 combination of independent uniform values, which is
// uniform modulo 2^256, and the 16-byte truncation then makes equal
// fingerprints happen with probability 2^-128 per comparison. A
// reconciliation compares O(d·log n) ranges (about 2,000 for a million keys
// and a thousand differences), so a missed difference has probability
// below 2^-117 per reconciliation. Items in a list are named by a 16-byte
// tag of their hash: two different versions of one key share a tag with
// probability 2^-128.
//
// # Protocol
//
// An [Initiator] sends the fingerprint of everything ([Initiator.Initiate]);
// the peer answers with [Respond], which keeps no state between messages.
// Every message is a version byte and a sequence of ranges that tile the
// key space in order, each with one mode:
//
//   - skip: the range is settled;
//   - fingerprint: the sender's fingerprint of the range;
//   - list: every item (key and tag) the sender holds in the range;
//   - diff: the keys whose versions differ, from a responder to an
//     initiator's list.
//
// A side answers a fingerprint that matches its own with a skip, and one
// that does not with its items if it holds at most 16 in the range, or
// else with the fingerprints of 16 buckets of equal count. An initiator
// settles a list itself; a responder answers a list with a diff. Each round
// trip divides the mismatching ranges by 16, so two sets of n items with d
// differences settle in about log16(n) round trips with O(d·log n) bytes,
// and two equal sets in one round trip of 18 bytes out and 1 back.
// [Initiator.Reconcile] reports the keys each round settled: have (to send)
// and need (to fetch); a key whose versions differ is in both.
//
// # Limits
//
// Every message is at most Options.FrameLimit bytes, both written and
// accepted: when an answer would not fit, the rest of the key space is
// deferred to the next round under one fingerprint. Keys are at most
// [MaxKeyLen] bytes, lists at most 16 items and diffs 32; the decoder checks
// each length against the bytes that remain before it allocates, so what a
// hostile message makes a side allocate is bounded by the message's size
// (and, for the keys an initiator reports, by its own index). A message that does
// not decode is refused whole with a [*MalformedError] (errors.Is
// [ErrMalformed]); an [Initiator] stops after Options.MaxRounds rounds.
//
// # Concurrency
//
// An Index is safe for concurrent use, and writers may update it while a
// reconciliation reads it: each range is compared as it is at that moment,
// so a key written meanwhile may show up as a difference, or be left to the
// next reconciliation, but the sets converge once writes stop.
package rangesync
