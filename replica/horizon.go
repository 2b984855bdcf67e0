package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Durable horizons. A reaped key's horizon is what refuses a late copy of
// a version older than its delete (see reap.go). Kept only in the Replica
// value's memory, it is lost with the process, and a copy arriving after a
// restart would be stored: a resurrection. A [HorizonStore] keeps each
// horizon durably beside the records, written before the tombstone leaves
// the store and removed when the horizon is dropped after the retention
// (or the key is stored again), and a Replica value reads them back before
// it needs them, so a replica that restarts over its store refuses exactly
// what it refused before.
//
// Why one entry per reaped key, and not less: dots are numbered per key,
// so nothing coarser than a key's own context — a vector per replica, or
// per range of keys — tells a late copy of a reaped record (covered by its
// tombstone) from a new record of another key, or a re-creation made after
// seeing the delete (which holds a dot the tombstone does not). The entries
// are bounded as the memory is: one per key reaped within the retention.
//
// What is guaranteed, over a HorizonStore: for Options.Retention after a
// key's tombstone was reaped, whatever the restarts in between, a
// replicated version of the key that the tombstone covers is refused as
// stale and never stored, and a write of the key supersedes the delete.
// That is Cassandra's gc_grace_seconds, made exact by the causal context:
// a version is refused because the delete saw it, never because it is old.
// After the retention the horizon is gone, and a copy older than the
// delete arriving later is stored (the deployment's retention is too short
// for its delays); members not heard from for longer than the retention
// are refused to close the other way such a copy arrives (retention.go).

// HorizonStore is a [FloorStore] that also keeps, durably beside its
// records, the horizons of the keys a replica reaped: one opaque value per
// key, which the replica encodes and checks (a value that does not read
// back is reported and ignored). [MemoryStore] is one (it survives a new
// Replica value over the same MemoryStore, not the process), and so are
// the SQLite, PostgreSQL and NATS adapters' stores. Over any other store
// the horizons live in the Replica value, and are lost with it (see the
// package documentation, "Restarting a replica that reaped"). Package storetest checks a
// HorizonStore's horizons.
//
// Horizons are a keyspace of their own: they never appear in Scan or Get,
// and a record and a horizon of one key may both exist. Implementations
// must be safe for concurrent use.
type HorizonStore interface {
	FloorStore
	// PutHorizon stores value as the horizon of key, replacing any, and
	// returns only once it is as durable as a CompareAndSet.
	PutHorizon(ctx context.Context, key string, value []byte) error
	// DeleteHorizon removes the horizon of key; an absent one is no error.
	DeleteHorizon(ctx context.Context, key string) error
	// ScanHorizons returns up to limit horizons whose keys sort after
	// `after`, in ascending key order, as Scan does for records (Rev is
	// unused: 0). A limit below 1 is an error.
	ScanHorizons(ctx context.Context, after string, limit int) ([]Entry, error)
}

// horizons is what a Replica knows of its durable horizons.
type horizons struct {
	mu     sync.Mutex // held while they are read from the store
	loaded atomic.Bool
}

// loadHorizons reads the horizons of a HorizonStore into memory, once, so
// that the first write, Apply, session or Reap of a Replica value that
// restarted refuses what its predecessor refused. A failure fails the
// operation that needed them: deciding without them could resurrect.
// statusHorizons reads the horizons of a HorizonStore for the reports
// that take no context ([Replica.Reaping], [Replica.Reaped]), so that right
// after a restart they count what the store keeps. A failed read is logged
// and the reports show what this value holds; the next operation reads
// again.
func (r *Replica[T]) statusHorizons() {
	if err := r.loadHorizons(context.Background()); err != nil {
		r.log.LogAttrs(context.Background(), slog.LevelWarn, "concord horizons not read: reaping figures show only this value's",
			slog.String("replica", r.id.String()), slog.Any("error", err))
	}
}

func (r *Replica[T]) loadHorizons(ctx context.Context) error {
	if r.hz.loaded.Load() {
		return nil
	}
	r.hz.mu.Lock()
	defer r.hz.mu.Unlock()
	if r.hz.loaded.Load() {
		return nil
	}
	if hs, ok := r.store.(HorizonStore); ok {
		if err := r.readHorizons(ctx, hs); err != nil {
			return wrapf(err, "replica %v: read horizons", r.id)
		}
	}
	r.hz.loaded.Store(true)
	return nil
}

// readHorizons pages through the horizons of hs and keeps those that read.
func (r *Replica[T]) readHorizons(ctx context.Context, hs HorizonStore) error {
	return pageThrough(ctx, hs.ScanHorizons, func(e Entry) error {
		r.takeHorizon(ctx, e.Key, e.Value)
		return nil
	})
}

// takeHorizon keeps the horizon of key stored as value; one that does not
// read is logged and left out (the key is then refused nothing).
func (r *Replica[T]) takeHorizon(ctx context.Context, key string, value []byte) {
	at, data, err := openHorizon(value)
	if err == nil {
		var h horizon[T]
		if h.state, err = r.decode(key, data); err == nil {
			h.at = at
			r.mu.Lock()
			if _, ok := r.memb.reaped[key]; !ok {
				r.memb.reaped[key] = h
			}
			r.countMemb()
			r.mu.Unlock()
			return
		}
	}
	r.log.LogAttrs(ctx, slog.LevelError, "concord horizon unreadable: late copies of the reaped record are no longer refused",
		slog.String("key", key), slog.Any("error", err))
}

// horizonFormat is the first byte of a stored horizon.
const horizonFormat = 1

// horizonHeader is the bytes of a stored horizon before the tombstone's
// state: the format, the reap time (Unix nanoseconds) and a CRC-32C of
// everything after it.
const horizonHeader = 1 + 8 + 4

// encodeHorizon returns the stored form of a horizon: when the tombstone
// was reaped, and its stored state, data (itself framed and checksummed).
func encodeHorizon(at time.Time, data []byte) []byte {
	b := make([]byte, horizonHeader, horizonHeader+len(data))
	b[0] = horizonFormat
	binary.BigEndian.PutUint64(b[1:], uint64(at.UnixNano()))
	b = append(b, data...)
	binary.BigEndian.PutUint32(b[9:], horizonSum(b))
	return b
}

// horizonSum is the CRC-32C of a stored horizon b but its checksum.
func horizonSum(b []byte) uint32 {
	return crc32.Update(crc32.Checksum(b[:9], castagnoli), castagnoli, b[horizonHeader:])
}

// errHorizon is the error for a stored horizon that does not read.
var errHorizon = errors.New("replica: malformed horizon")

// openHorizon is encodeHorizon's inverse.
func openHorizon(b []byte) (time.Time, []byte, error) {
	switch {
	case len(b) < horizonHeader:
		return time.Time{}, nil, fmt.Errorf("%w: %d bytes", errHorizon, len(b))
	case b[0] != horizonFormat:
		return time.Time{}, nil, fmt.Errorf("%w: format %d", errHorizon, b[0])
	case binary.BigEndian.Uint32(b[9:]) != horizonSum(b):
		return time.Time{}, nil, fmt.Errorf("%w: checksum mismatch", errHorizon)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[1:]))), b[horizonHeader:], nil
}

// putHorizon makes the horizon of key — its tombstone, stored as data —
// durable when the store is a HorizonStore, then keeps it in memory: a
// reap waits for it, so that a tombstone leaves the store only once its
// horizon will outlive the process.
func (r *Replica[T]) putHorizon(ctx context.Context, key string, h horizon[T], data []byte) error {
	if hs, ok := r.store.(HorizonStore); ok {
		if err := hs.PutHorizon(ctx, key, encodeHorizon(h.at, data)); err != nil {
			return wrapf(err, "replica %v: keep the horizon of %q", r.id, key)
		}
	}
	r.mu.Lock()
	r.memb.reaped[key] = h
	r.countMemb()
	r.mu.Unlock()
	return nil
}

// deleteHorizon removes the durable horizon of key, if the store keeps
// horizons.
func (r *Replica[T]) deleteHorizon(ctx context.Context, key string) error {
	if hs, ok := r.store.(HorizonStore); ok {
		if err := hs.DeleteHorizon(ctx, key); err != nil {
			return wrapf(err, "replica %v: drop the horizon of %q", r.id, key)
		}
	}
	return nil
}

// indexHorizons puts in the reconciliation index, at its horizon, every
// reaped key the store does not hold, as the index of the Replica value
// that reaped it still does: a peer holding the same tombstone, or that
// reaped it too, sees no difference. Called by a build of the index, after
// the store's records.
func (r *Replica[T]) indexHorizons(ctx context.Context) error {
	r.mu.Lock()
	keys := make([]string, 0, len(r.memb.reaped))
	for k := range r.memb.reaped {
		keys = append(keys, k)
	}
	r.mu.Unlock()
	for _, key := range keys {
		if err := r.indexHorizon(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// indexHorizon indexes key at its horizon if it has one and is not stored.
func (r *Replica[T]) indexHorizon(ctx context.Context, key string) error {
	if len(key) > MaxKeyLen {
		return nil
	}
	return r.withStripe(ctx, key, func(st *stripe, rev uint64) error {
		h, ok := r.horizon(key)
		if !ok || rev != 0 {
			return nil
		}
		join, _ := h.Join().AppendBinary(nil) // never fails
		r.put(st, key, join, false)
		return nil
	})
}

// memHorizons are MemoryStore's horizons (see HorizonStore), their keys
// kept sorted for ScanHorizons.
type memHorizons struct {
	vals map[string][]byte
	keys keySet
}

// PutHorizon implements [HorizonStore].
func (m *MemoryStore) PutHorizon(ctx context.Context, key string, value []byte) error {
	if err := check(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.horizons.vals == nil {
		m.horizons.vals = map[string][]byte{}
	}
	m.horizons.vals[key] = clone(value)
	m.horizons.keys.insert(key)
	return nil
}

// DeleteHorizon implements [HorizonStore].
func (m *MemoryStore) DeleteHorizon(ctx context.Context, key string) error {
	if err := check(ctx, key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.horizons.vals, key)
	m.horizons.keys.remove(key)
	return nil
}

// ScanHorizons implements [HorizonStore].
func (m *MemoryStore) ScanHorizons(ctx context.Context, after string, limit int) ([]Entry, error) {
	if err := checkScan(ctx, "scan horizons", limit); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := m.horizons.keys.after(after, limit)
	out := make([]Entry, len(keys))
	for j, k := range keys {
		out[j] = Entry{Key: k, Value: clone(m.horizons.vals[k])}
	}
	return out, nil
}
