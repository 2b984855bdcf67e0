package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Store is the storage a replica keeps its records in: one byte value per
// key with a revision, read with Get and Scan and written only by
// compare-and-set and conditional delete. It is the shape of NATS JetStream
// KV (Update and Delete with the last revision), etcd (a transaction on
// mod_revision) or a SQL row with a revision column, so any of them can sit
// under a replica. Package storetest checks an implementation against this
// contract.
//
// # Revisions
//
// Revision 0 means "absent". Every write (a compare-and-set) gives the key a
// revision that key has never had before, also after the key was deleted and
// created again: a revision read before a delete can never match again, so a
// compare-and-set or delete that holds it fails (no ABA). One counter for the
// whole store, as a JetStream stream or a SQL sequence has, satisfies this.
// Revisions are otherwise opaque; they need not grow.
//
// # Keys
//
// A key is a non-empty string of bytes. A store may accept only some keys
// (JetStream KV allows a few ASCII characters): it refuses the others, in
// every method, with an error wrapping [ErrInvalidKey], and changes nothing.
// The empty key is never valid. Scan orders keys by their bytes, as Go
// compares strings.
//
// # Errors and ownership
//
// Every method returns an error wrapping ctx.Err() when ctx is done before
// the store answered; an error means the write may or may not have been
// stored only when the store cannot tell (a connection lost mid-request),
// never for a refused revision. Values passed in and returned are not
// retained or shared by the store: callers may modify them.
//
// Implementations must be safe for concurrent use.
type Store interface {
	// Get returns the value and revision of key. An absent key returns a nil
	// value, revision 0 and no error. A stored value may be empty: its
	// revision, not its length, says it is there.
	Get(ctx context.Context, key string) (value []byte, rev uint64, err error)
	// CompareAndSet stores value under key if the key's current revision is
	// rev (0: the key must be absent) and returns the new revision. When the
	// revision differs it returns an error wrapping ErrRevisionMismatch and
	// stores nothing.
	CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error)
	// Delete removes key if its current revision is rev (rev != 0);
	// otherwise it returns an error wrapping ErrRevisionMismatch and nothing
	// changes. Deleting an absent key is a mismatch.
	Delete(ctx context.Context, key string, rev uint64) error
	// Scan returns up to limit entries whose keys sort after `after` (byte
	// order; "" means from the start), in ascending key order. A result
	// shorter than limit means there is nothing further. A limit below 1 is
	// an error.
	//
	// Paging through the store with successive calls, each after the last
	// key of the previous result, returns every key that exists from before
	// the first call until after the last exactly once; a key created or
	// deleted meanwhile may or may not appear, but no key appears twice. Each
	// entry holds a value and revision that the key had together at some
	// moment during the call.
	Scan(ctx context.Context, after string, limit int) ([]Entry, error)
}

// Entry is one key of a [Store] with its value and revision, as Scan
// returns it.
type Entry struct {
	Key   string
	Value []byte
	Rev   uint64
}

// ErrRevisionMismatch is returned (wrapped) by a Store's CompareAndSet and
// Delete when the key's revision is not the one given: another write got
// there first.
var ErrRevisionMismatch = errors.New("replica: revision mismatch")

// ErrInvalidKey is returned (wrapped) by a Store for a key it cannot hold:
// the empty key, or one with bytes outside the store's alphabet.
var ErrInvalidKey = errors.New("replica: invalid key")

// scanPage is how many entries a replica reads from its store at a time.
const scanPage = 256

// scanAll calls fn for every entry of s in key order, scanPage at a time,
// so that no caller holds every key in memory.
func scanAll(ctx context.Context, s Store, fn func(Entry) error) error {
	return pageThrough(ctx, s.Scan, fn)
}

// pageThrough calls fn for every entry scan (a Store's Scan, a
// HorizonStore's ScanHorizons) returns, in key order, scanPage at a time.
func pageThrough(ctx context.Context, scan func(ctx context.Context, after string, limit int) ([]Entry, error), fn func(Entry) error) error {
	after := ""
	for {
		page, err := scan(ctx, after, scanPage)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// MemoryStore is the in-memory [Store]: a map guarded by a mutex, with one
// revision sequence for the whole store, like a JetStream stream, and the
// keys kept sorted for Scan (in chunks: an insert or delete moves at most a
// few hundred of them, wherever the key sorts). It accepts every non-empty
// key. Values are copied in and out. It is a [HorizonStore]: a new Replica
// value over the same MemoryStore keeps the counter floor and the horizons
// of the keys reaped (the process does not). The zero MemoryStore is empty
// and ready to use; it must not be copied after first use.
type MemoryStore struct {
	mu       sync.Mutex
	seq      uint64
	data     map[string]memEntry
	keys     keySet      // the keys of data, for Scan
	floor    uint64      // see FloorStore
	horizons memHorizons // see HorizonStore
}

type memEntry struct {
	value []byte
	rev   uint64
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Get implements [Store].
func (m *MemoryStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if err := check(ctx, key); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[key]
	if !ok {
		return nil, 0, nil
	}
	return clone(e.value), e.rev, nil
}

// CompareAndSet implements [Store].
func (m *MemoryStore) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := check(ctx, key); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.data[key].rev; cur != rev {
		return 0, mismatch(key, rev, cur)
	}
	if m.data == nil {
		m.data = map[string]memEntry{}
	}
	if rev == 0 {
		m.keys.insert(key)
	}
	m.seq++
	m.data[key] = memEntry{value: clone(value), rev: m.seq}
	return m.seq, nil
}

// Delete implements [Store].
func (m *MemoryStore) Delete(ctx context.Context, key string, rev uint64) error {
	if err := check(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.data[key].rev; cur != rev || rev == 0 {
		return mismatch(key, rev, cur)
	}
	delete(m.data, key)
	m.keys.remove(key)
	return nil
}

// Scan implements [Store]. It is consistent: one call sees the store at one
// moment.
func (m *MemoryStore) Scan(ctx context.Context, after string, limit int) ([]Entry, error) {
	if err := checkScan(ctx, "scan", limit); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := m.keys.after(after, limit)
	out := make([]Entry, len(keys))
	for j, k := range keys {
		e := m.data[k]
		out[j] = Entry{Key: k, Value: clone(e.value), Rev: e.rev}
	}
	return out, nil
}

// checkScan returns the error of the scan what for a done ctx or a limit
// below 1.
func checkScan(ctx context.Context, what string, limit int) error {
	if err := ctx.Err(); err != nil {
		return wrapf(err, "replica: %s", what)
	}
	if limit < 1 {
		return fmt.Errorf("replica: scan limit %d is below 1", limit)
	}
	return nil
}

// check returns the error for a done ctx or the empty key.
func check(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return wrapf(err, "replica: %q", key)
	}
	if key == "" {
		return fmt.Errorf("%w: the empty key", ErrInvalidKey)
	}
	return nil
}

func mismatch(key string, want, have uint64) error {
	return fmt.Errorf("%w: %q is at revision %d, not %d", ErrRevisionMismatch, key, have, want)
}

// clone copies v, keeping an empty value non-nil so that it reads back as
// what was stored.
func clone(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return slices.Clone(v)
}
