// Package storetest checks an implementation of replica.Store, the way
// testing/fstest checks an fs.FS and testing/slogtest a slog.Handler. Run it
// from a test of every store you write or configure:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) replica.Store { return newEmptyStore(t) }, storetest.Options{})
//	}
//
// [Run] runs each check as a subtest on a new, empty store and reports every
// way the store breaks the Store contract:
//
//   - Absent: an absent key reads as revision 0 with no error, and an empty
//     store scans as nothing.
//   - CompareAndSet: creating needs revision 0, updating needs the current
//     revision; a wrong revision stores nothing and returns an error wrapping
//     replica.ErrRevisionMismatch; the returned revision is what Get reads.
//   - Revisions: every write gives a revision the key never had.
//   - NoABA: a key deleted and created again never gets back a revision it
//     had, so a compare-and-set or delete holding one from before fails.
//   - Delete: only at the current revision; a wrong or zero revision, or an
//     absent key, is a mismatch and changes nothing.
//   - EmptyValue: an empty value is stored, read back and scanned as present.
//   - MaxValue: a value of Options.MaxValueSize bytes round-trips intact.
//   - Keys: every key the store accepts (Options.ValidKey) round-trips with
//     its exact bytes and scans in byte order; every other key, and the empty
//     key, is refused by every method with an error wrapping
//     replica.ErrInvalidKey and leaves nothing behind.
//   - Ownership: the store keeps no reference to a value passed in and shares
//     none it returns.
//   - Scan: key order, exact limits, a short page only at the end, any
//     cursor, a limit below 1 refused.
//   - ScanWhileWriting: paging through the store while other goroutines
//     create, update and delete keys before, among and after the scanned
//     keys returns every key that exists throughout the pass exactly once,
//     in order, with a value and revision that belong together, and never a
//     key twice.
//   - Contention: of many goroutines that compare-and-set or delete at the
//     same revision exactly one wins and the store holds its value; counters
//     incremented by compare-and-set loops lose no increment.
//   - Canceled: a done context makes every method return an error wrapping
//     ctx.Err() and change nothing.
//   - Floor, for a store that is also a replica.FloorStore: the floor
//     starts at 0, RaiseFloor only raises it, and it is no key (Scan and
//     Get never show it). A store that is not one passes.
//   - Horizons, for a store that is also a replica.HorizonStore: horizons
//     are put, replaced, deleted (an absent one is no error) and paged
//     through in key order, their values are copied in and out, and they
//     are no records (Scan and Get never show them, and a record of the
//     same key comes and goes beside one). A store that is not one passes.
//   - Restart, for a store that is both, when Options.Reopen is set: a
//     replica reaps a deleted record's tombstone and restarts over the
//     reopened store; a copy of the record from before the delete is then
//     refused as stale and stores nothing, and a re-creation is numbered
//     above the counter floor the store kept, drops the horizon, and
//     supersedes the delete at a peer.
//
// The checks assume the store accepts keys of up to 64 ASCII letters,
// digits, '-' and '_'. Each needs a few hundred operations, and values of
// Options.MaxValueSize, so a store over a network runs the whole kit in
// seconds.
package storetest
