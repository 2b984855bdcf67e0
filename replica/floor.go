package replica

import (
	"context"
	"sync/atomic"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// The counter floor. A replica numbers its writes of a key from the
// counters the key's state holds, so a key it holds nothing of starts at
// 1. Once it has reaped a key, that is no longer safe: its writes of the
// key up to the reaped tombstone's counter were issued, and its peers'
// horizons (and the tombstones they have not reaped yet) cover them. While
// the Replica value keeps the key's horizon it plans from it; once the
// horizon is gone — dropped after the retention, or lost with the process
// — it would number the key's writes from 1 again and reissue dots its
// peers already hold, which they would drop as stale: acknowledged writes
// lost without an error (Riak's KV679, again).
//
// The floor closes that: one number per replica, raised before every reap
// to the tombstone's counter of this replica, and every local write is
// numbered above it (its context claims this replica's writes of the key
// up to the floor, which were reaped, or never existed). A replicated
// state may claim this replica's writes of a key up to the floor. When the
// store is a [FloorStore] the floor is kept in it, durably, so a replica
// that restarts over its store with its ID keeps numbering above every
// counter it reaped; with any other store the floor lives in the Replica
// value, and a replica that reaped must restart as a new incarnation.

// FloorStore is a [Store] that also keeps, durably beside its records, the
// counter floor of the replica that writes it: one number, which only
// grows. A replica over a FloorStore may reap tombstones, restart over the
// store, and keep its ID. [MemoryStore] is one (it survives a new Replica
// value over the same MemoryStore, not the process), and so are the
// SQLite, PostgreSQL and NATS adapters' stores; all are [HorizonStore]s
// too, which keep what refuses late copies of reaped records across a
// restart. A store need not be one: a replica over any other store keeps
// the floor in memory, and must restart as a new incarnation
// ([version.ID.Next]) once it has reaped. Package storetest checks a
// FloorStore's floor.
//
// The floor is a store's, not a key's: it never appears in Scan or Get.
// Implementations must be safe for concurrent use.
type FloorStore interface {
	// CounterFloor returns the floor stored, 0 if none was.
	CounterFloor(ctx context.Context) (uint64, error)
	// RaiseCounterFloor stores n as the floor if it is above the floor stored,
	// and returns only once it is as durable as a CompareAndSet. A lower
	// n changes nothing and is no error.
	RaiseCounterFloor(ctx context.Context, n uint64) error
}

// floor is a replica's counter floor, in memory: the value loaded from a
// FloorStore (once) or raised since.
type floor struct {
	n      atomic.Uint64
	loaded atomic.Bool
}

// CounterFloor returns the replica's counter floor: every write of this replica
// is numbered above it (see [FloorStore]). It is 0 until the replica
// reaps, and read from the store when it is a FloorStore.
func (r *Replica[T]) CounterFloor(ctx context.Context) (uint64, error) {
	if err := r.loadFloor(ctx); err != nil {
		return 0, err
	}
	return r.floor.n.Load(), nil
}

// floorFor makes the floor current for a write planned on cur: read from
// a FloorStore the first time, and again whenever cur holds no write of
// this replica — the only state whose next dot the floor decides — since
// another Replica value sharing the store may have raised it.
func (r *Replica[T]) floorFor(ctx context.Context, cur resolve.Siblings[T]) error {
	if r.floor.loaded.Load() && cur.Covers(version.Dot{ID: r.id, Counter: 1}) {
		return nil
	}
	return r.readFloor(ctx)
}

// loadFloor reads the floor from the store, once, if it is a FloorStore.
func (r *Replica[T]) loadFloor(ctx context.Context) error {
	if r.floor.loaded.Load() {
		return nil
	}
	return r.readFloor(ctx)
}

// readFloor reads the floor from the store if it is a FloorStore; a
// failure fails the write that needed it.
func (r *Replica[T]) readFloor(ctx context.Context) error {
	if fs, ok := r.store.(FloorStore); ok {
		n, err := fs.CounterFloor(ctx)
		if err != nil {
			return wrapf(err, "replica %v: counter floor", r.id)
		}
		r.raiseMem(n)
	}
	r.floor.loaded.Store(true)
	return nil
}

// raiseFloor raises the floor to n, in the store first when it is a
// FloorStore: a reap waits for it, so a tombstone leaves the store only
// once the floor above its counters is durable.
func (r *Replica[T]) raiseFloor(ctx context.Context, n uint64) error {
	if err := r.loadFloor(ctx); err != nil {
		return err
	}
	if n <= r.floor.n.Load() {
		return nil
	}
	if fs, ok := r.store.(FloorStore); ok {
		if err := fs.RaiseCounterFloor(ctx, n); err != nil {
			return wrapf(err, "replica %v: raise counter floor to %d", r.id, n)
		}
	}
	r.raiseMem(n)
	return nil
}

// raiseMem raises the floor in memory to n.
func (r *Replica[T]) raiseMem(n uint64) {
	for {
		cur := r.floor.n.Load()
		if n <= cur || r.floor.n.CompareAndSwap(cur, n) {
			return
		}
	}
}

// aboveFloor returns seen with this replica's entry raised to the floor,
// so that a write made with it is numbered above the floor.
func (r *Replica[T]) aboveFloor(seen version.Vector) version.Vector {
	f := r.floor.n.Load()
	if f == 0 || seen.Get(r.id) >= f {
		return seen
	}
	v, err := version.NewVector(version.Dot{ID: r.id, Counter: f})
	if err != nil {
		return seen // unreachable: a non-zero ID and counter
	}
	return seen.Join(v)
}

// CounterFloor implements [FloorStore].
func (m *MemoryStore) CounterFloor(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, wrapf(err, "replica: floor")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.floor, nil
}

// RaiseCounterFloor implements [FloorStore].
func (m *MemoryStore) RaiseCounterFloor(ctx context.Context, n uint64) error {
	if err := ctx.Err(); err != nil {
		return wrapf(err, "replica: floor")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.floor = max(m.floor, n)
	return nil
}
