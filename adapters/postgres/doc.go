// Package postgres keeps concord records in PostgreSQL, through pgx's
// connection pool (github.com/jackc/pgx/v5/pgxpool), so a Go service keeps
// its replicated records beside the rest of its data.
//
// # Schema
//
// One table per record type, named by the caller (a lower-case identifier;
// the pool's search_path picks the schema), and a sequence for its
// revisions:
//
//	CREATE SEQUENCE holds_rev AS bigint;
//	CREATE TABLE holds (
//		key   text   COLLATE "C" PRIMARY KEY,  -- byte order, whatever the database's collation
//		value bytea  NOT NULL,                 -- the replica's encoded state
//		rev   bigint NOT NULL                  -- the row's revision
//	);
//	CREATE TABLE holds_counter (one int PRIMARY KEY CHECK (one = 1), counter bigint NOT NULL);
//	CREATE TABLE holds_horizons (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
//
// The last two are the reaping state of the replica that writes the table
// (the Store is a replica.HorizonStore): its counter floor and the
// horizons of the keys it reaped, so a replica that reaped tombstones
// restarts over the table with its ID, never reissues a dot of a reaped
// key, and still refuses, for the retention, a late copy of a record it
// reaped.
//
// [CreateSchema] runs that DDL (idempotently); [Schema] returns it for a
// migration tool. Every write takes the sequence's next value, and a
// sequence never hands out a value twice, not even to a transaction that
// rolled back: so no key ever gets back a revision it had, and a
// compare-and-set holding a revision from before a delete fails (no ABA).
// Keys must be valid UTF-8 without NUL bytes ([ValidKey]; the database's
// encoding must be UTF8); other keys are refused with
// replica.ErrInvalidKey.
//
// # Operations
//
// Get is one SELECT by key. CompareAndSet is one statement: INSERT … ON
// CONFLICT (key) DO NOTHING RETURNING rev for revision 0, UPDATE … WHERE key
// = $2 AND rev = $3 RETURNING rev otherwise; no row back means another write
// got there first (replica.ErrRevisionMismatch). Delete is DELETE … WHERE
// key = $1 AND rev = $2. Scan is SELECT … WHERE key > $1 ORDER BY key LIMIT
// $2, one snapshot (the primary key's index serves it).
//
// # Durability
//
// A write is acknowledged when PostgreSQL has committed it, which with the
// default synchronous_commit = on means flushed to the write-ahead log: it
// survives a crash of the server or the machine (a test crashes the server
// with pg_ctl stop -m immediate while a replica writes, and finds every
// acknowledged write after the restart). With synchronous_commit = off a
// crash loses the last acknowledged writes — the same test catches that —
// so leave it on for concord's tables. A write that fails with a
// connection error may or may not have been committed; the replica's next
// read tells.
package postgres
