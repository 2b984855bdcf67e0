package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"runtime"
	"time"

	_ "modernc.org/sqlite" // the cgo-free driver, registered as "sqlite"

	"github.com/harborpoint/concord/replica"
)

// Synchronous is SQLite's synchronous setting, which decides what a commit
// survives. Both levels survive a crash of the process (SIGKILL, panic):
// a commit is in the write-ahead log in the operating system's cache before
// it returns. They differ on a crash of the machine (power loss, kernel
// panic).
type Synchronous int

const (
	// SyncFull fsyncs the write-ahead log at every commit: a write that
	// was acknowledged survives a power loss. It is the default.
	SyncFull Synchronous = iota
	// SyncNormal fsyncs only at checkpoints: a power loss can undo the
	// writes acknowledged since the last checkpoint (the database stays
	// consistent, it just loses its newest commits), for writes several
	// times faster. Choose it only where another replica holds those writes
	// too.
	SyncNormal
)

func (s Synchronous) pragma() (string, error) {
	switch s {
	case SyncFull:
		return "FULL", nil
	case SyncNormal:
		return "NORMAL", nil
	}
	return "", fmt.Errorf("sqlite: unknown Synchronous %d", int(s))
}

// Options configures [Open]. The zero Options is valid.
type Options struct {
	// Table is the table the records live in. Empty means DefaultTable.
	Table string
	// Synchronous is the durability of a commit. The zero value is SyncFull.
	Synchronous Synchronous
	// BusyTimeout is how long a statement waits for another process's
	// write lock before failing. Zero means 5 seconds.
	BusyTimeout time.Duration
	// Readers bounds the connections that read concurrently (writes go
	// through one connection: SQLite has one writer at a time). Zero means
	// the number of CPUs, at least 2.
	Readers int
}

// Store is a [replica.Store] in a SQLite table: one row per key with its
// value and revision. Revisions count up per key and restart above every
// deleted revision (the package documentation says how), so no key is ever
// given a revision twice. It accepts every non-empty key (keys are stored as
// BLOBs, so any bytes) and orders Scan by their bytes.
//
// A Store is safe for concurrent use. Make one with [Open] (a file it owns)
// or [New] (a database you opened).
type Store struct {
	w, r  *sql.DB // writer (one connection) and readers; the same for New
	table string
	q     statements
	owned bool

	insert, update, del, get *sql.Stmt // prepared once: compiling costs as much as running
}

// Open opens (creating if need be) the SQLite database at path in WAL mode
// with the given options, creates the table if it does not exist, and
// returns its Store. Close closes the database.
func Open(path string, opts Options) (*Store, error) {
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	if err := checkTable(opts.Table); err != nil {
		return nil, err
	}
	sync, err := opts.Synchronous.pragma()
	if err != nil {
		return nil, err
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Readers <= 0 {
		opts.Readers = max(2, runtime.NumCPU())
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + url.Values{"_pragma": {
		"journal_mode(WAL)",
		"synchronous(" + sync + ")",
		fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()),
		"foreign_keys(ON)",
	}, "_txlock": {"immediate"}}.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1) // one writer: no lock upgrades between our own connections
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(ON)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.Readers)
	s := &Store{w: w, r: r, table: opts.Table, q: queries(opts.Table), owned: true}
	if err := CreateSchema(context.Background(), w, opts.Table); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := s.prepare(context.Background()); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// New returns the Store of table in db, a database you opened with the
// "sqlite" driver of modernc.org/sqlite (or another driver with the same
// SQL dialect), creating the table if it does not exist. Journal mode and
// synchronous are yours to set (the package documentation says what each
// choice keeps). A db of several connections needs a busy timeout
// ("_pragma=busy_timeout(5000)" in the DSN), or its connections' writes
// fail at once with SQLITE_BUSY when they meet: New refuses one without.
// Close does not close db.
func New(ctx context.Context, db *sql.DB, table string) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlite: nil database")
	}
	if db.Stats().MaxOpenConnections != 1 {
		var ms int64
		if err := db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
			return nil, fmt.Errorf("sqlite: read busy_timeout: %w", err)
		}
		if ms == 0 {
			return nil, errors.New("sqlite: the database has several connections and no busy timeout: open it with _pragma=busy_timeout(5000), or SetMaxOpenConns(1)")
		}
	}
	if err := CreateSchema(ctx, db, table); err != nil {
		return nil, err
	}
	s := &Store{w: db, r: db, table: table, q: queries(table)}
	if err := s.prepare(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// prepare compiles the statements once: compiling one costs about as much
// as running it.
func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		st **sql.Stmt
		db *sql.DB
		q  string
	}{{&s.insert, s.w, s.q.insert}, {&s.update, s.w, s.q.update}, {&s.del, s.w, s.q.del}, {&s.get, s.r, s.q.get}} {
		st, err := p.db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p.st = st
	}
	return nil
}

// Close releases the Store's prepared statements and closes the database
// if [Open] opened it (not the one given to [New]).
func (s *Store) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insert, s.update, s.del, s.get} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.owned {
		errs = append(errs, s.r.Close(), s.w.Close())
	}
	return errors.Join(errs...)
}

// Get implements [replica.Store].
func (s *Store) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if key == "" {
		return nil, 0, errEmptyKey
	}
	var (
		v   []byte
		rev int64
	)
	err := s.get.QueryRowContext(ctx, []byte(key)).Scan(&v, &rev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, 0, nil
	case err != nil:
		return nil, 0, fmt.Errorf("sqlite: get %q: %w", key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, uint64(rev), nil
}

// CompareAndSet implements [replica.Store]: one INSERT … ON CONFLICT DO
// NOTHING RETURNING rev for revision 0, one UPDATE … SET rev = rev + 1 WHERE
// key = ? AND rev = ? otherwise (executed, not queried: the new revision is
// rev + 1).
func (s *Store) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if key == "" {
		return 0, errEmptyKey
	}
	if rev > math.MaxInt64 { // never issued
		return 0, mismatch(key, rev)
	}
	if value == nil {
		value = []byte{} // NOT NULL: an empty value is a value
	}
	if rev == 0 {
		return s.create(ctx, key, value)
	}
	// The new revision is rev + 1: no need to read it back (RETURNING
	// makes the statement a query, and costs a row to step and reset).
	res, err := s.update.ExecContext(ctx, value, []byte(key), int64(rev))
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("sqlite: set %q: %w", key, err)
	case n == 0:
		return 0, mismatch(key, rev)
	}
	return rev + 1, nil
}

// create inserts key at the revision above the floor, unless it exists.
func (s *Store) create(ctx context.Context, key string, value []byte) (uint64, error) {
	var n int64
	switch err := s.insert.QueryRowContext(ctx, []byte(key), value).Scan(&n); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, mismatch(key, 0)
	case err != nil:
		return 0, fmt.Errorf("sqlite: set %q: %w", key, err)
	}
	return uint64(n), nil
}

// Delete implements [replica.Store].
func (s *Store) Delete(ctx context.Context, key string, rev uint64) error {
	if key == "" {
		return errEmptyKey
	}
	if rev == 0 || rev > math.MaxInt64 {
		return mismatch(key, rev)
	}
	res, err := s.del.ExecContext(ctx, []byte(key), int64(rev))
	if err != nil {
		return fmt.Errorf("sqlite: delete %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete %q: %w", key, err)
	}
	if n == 0 {
		return mismatch(key, rev)
	}
	return nil
}

// Scan implements [replica.Store] with one SELECT … WHERE key > ? ORDER BY
// key LIMIT ?, which reads one snapshot of the table.
func (s *Store) Scan(ctx context.Context, after string, limit int) ([]replica.Entry, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: scan limit %d is below 1", limit)
	}
	var (
		rows *sql.Rows
		err  error
	)
	if after == "" {
		rows, err = s.r.QueryContext(ctx, s.q.scanFrom, limit)
	} else {
		rows, err = s.r.QueryContext(ctx, s.q.scanAfter, []byte(after), limit)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: scan after %q: %w", after, err)
	}
	defer func() { _ = rows.Close() }()
	out := make([]replica.Entry, 0, min(limit, 256))
	for rows.Next() {
		var (
			k, v []byte
			rev  int64
		)
		if err := rows.Scan(&k, &v, &rev); err != nil {
			return nil, fmt.Errorf("sqlite: scan after %q: %w", after, err)
		}
		if v == nil {
			v = []byte{}
		}
		out = append(out, replica.Entry{Key: string(k), Value: v, Rev: uint64(rev)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: scan after %q: %w", after, err)
	}
	return out, nil
}

var errEmptyKey = fmt.Errorf("sqlite: %w: the empty key", replica.ErrInvalidKey)

func mismatch(key string, rev uint64) error {
	return fmt.Errorf("sqlite: %q at revision %d: %w", key, rev, replica.ErrRevisionMismatch)
}
