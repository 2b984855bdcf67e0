// Package sqlite keeps concord records in SQLite: a replica.Store for
// offline clients, edge nodes and single-process services that must restart
// without losing data, with no server to run and no cgo (the driver is
// modernc.org/sqlite, SQLite compiled to Go).
//
// # Schema
//
// One table per record type (default "concord_records"):
//
//	CREATE TABLE concord_records (
//		key   BLOB    NOT NULL PRIMARY KEY,  -- the record key's bytes
//		value BLOB    NOT NULL,              -- the replica's encoded state
//		rev   INTEGER NOT NULL               -- the row's revision
//	) WITHOUT ROWID;
//
// plus a one-row table, concord_records_floor, that a trigger raises on
// every delete to the deleted row's revision. An update adds one to the
// row's revision; a create starts at the floor plus one. So a key deleted
// and created again starts above every revision it had before, no key is
// ever given a revision twice, and a compare-and-set holding a revision from
// before a delete fails (no ABA) — while an update still writes one row and
// nothing else. Keys are BLOBs so that any bytes are a key and Scan's order
// is the bytes' order (memcmp), the same as Go's.
//
// # Operations
//
// Get is one SELECT by key. CompareAndSet is one statement: INSERT … ON
// CONFLICT (key) DO NOTHING RETURNING rev for revision 0 (no row back means
// the key exists), UPDATE … SET rev = rev + 1 WHERE key = ? AND rev = ?
// otherwise (no row changed means another write got there first); either
// failure is replica.ErrRevisionMismatch. Delete is DELETE … WHERE key
// = ? AND rev = ?. Scan is SELECT … WHERE key > ? ORDER BY key LIMIT ?, one
// snapshot of the table.
//
// # Durability
//
// [Open] puts the database in WAL mode. Every acknowledged write survives a
// crash of the process (a test kills a writing child with SIGKILL and finds
// every write it acknowledged). What survives a crash of the machine is the
// choice of [Synchronous]: SyncFull (the default) fsyncs the log at every
// commit and loses nothing acknowledged; SyncNormal fsyncs at checkpoints
// only and can lose the last acknowledged writes on a power loss, for faster
// writes.
//
// # Replica identity
//
// A replica over a durable store keeps its ID across restarts (see
// version.ID). [Store.ReplicaID] keeps it in the database beside the
// records, so that it lives and dies with them: the same file gives the
// same ID; a new file, a new incarnation. The Store is a
// replica.HorizonStore: the replica's counter floor is one row of table
// TABLE_counter, and the horizons of the keys it reaped are the rows of
// TABLE_horizons, so a replica that reaped tombstones also restarts over
// its file with its ID, never reissues a dot of a reaped key, and still
// refuses, for the retention, a late copy of a record it reaped.
//
// # Concurrency
//
// A Store is safe for concurrent use. [Open] writes through one connection
// (SQLite has one writer at a time) and reads through a pool, which WAL lets
// run beside the writer. Other processes may use the same file; they wait
// for the write lock up to Options.BusyTimeout.
package sqlite
