package replica

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// Store is the storage a replica keeps its records in: one byte value per
// key with a revision that changes on every write, read with Get and written
// only by compare-and-set. It is the shape of NATS JetStream KV (Update with
// the last revision), etcd (a transaction on mod_revision) or a SQL row with
// a version column, so any of them can sit under a replica.
//
// Implementations must be safe for concurrent use. Revisions are opaque to the
// replica except that 0 means "absent".
type Store interface {
	// Get returns the value and revision of key. An absent key returns a nil
	// value, revision 0 and no error.
	Get(ctx context.Context, key string) (value []byte, rev uint64, err error)
	// CompareAndSet stores value under key if the key's current revision is
	// rev (0: the key must be absent) and returns the new revision. When the
	// revision differs it returns an error wrapping ErrRevisionMismatch and
	// stores nothing.
	CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error)
	// Keys returns every key in the store.
	Keys(ctx context.Context) ([]string, error)
}

// ErrRevisionMismatch is returned (wrapped) by a Store's CompareAndSet when
// another write got there first.
var ErrRevisionMismatch = errors.New("replica: revision mismatch")

// MemoryStore is the in-memory [Store]: a map guarded by a mutex, with one
// revision sequence for the whole store, like a JetStream stream. Values are
// copied in and out. The zero MemoryStore is empty and ready to use; it must
// not be copied after first use.
type MemoryStore struct {
	mu   sync.Mutex
	seq  uint64
	data map[string]memEntry
}

type memEntry struct {
	value []byte
	rev   uint64
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Get implements [Store].
func (m *MemoryStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[key]
	if !ok {
		return nil, 0, nil
	}
	return slices.Clone(e.value), e.rev, nil
}

// CompareAndSet implements [Store].
func (m *MemoryStore) CompareAndSet(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data[key].rev != rev {
		return 0, ErrRevisionMismatch
	}
	if m.data == nil {
		m.data = map[string]memEntry{}
	}
	m.seq++
	m.data[key] = memEntry{value: slices.Clone(value), rev: m.seq}
	return m.seq, nil
}

// Keys implements [Store]. The keys are sorted.
func (m *MemoryStore) Keys(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.data))
	for k := range m.data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}
