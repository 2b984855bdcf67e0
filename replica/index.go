package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/harborpoint/concord/replica/rangesync"
	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// MaxKeyLen is the longest key a replica accepts, in bytes: the longest a
// reconciliation message can name. A write of a longer key fails with
// ErrKeyTooLong and stores nothing.
const MaxKeyLen = rangesync.MaxKeyLen

// syncIndex is the replica's reconciliation index: every record's key with
// the binary form of its causal context. Every write the replica stores
// updates it; it is built from the store once, by the first [Replica.Rescan]
// or reconciliation.
type syncIndex struct {
	x     rangesync.Index
	mu    sync.Mutex // held while the index is built
	built bool
	// live is set once a build starts: from then on the states the replica
	// reads are taken in (see seen). Before, nothing reads the index, and
	// the build takes in every state.
	live atomic.Bool
}

// indexed records the state of key just stored. It runs under the key's
// lock, so that a build that reads the store under the same lock cannot
// put an older state after it.
func (r *Replica[T]) indexed(key string, s resolve.Siblings[T]) { r.put(key, s.Join()) }

func (r *Replica[T]) put(key string, join version.Vector) {
	var buf [64]byte
	v, _ := join.AppendBinary(buf[:0]) // never fails
	_ = r.ix.x.Put(key, v)             // the key's length was checked before the write
}

// index returns the reconciliation index, building it from the store the
// first time, and the records the build could not read.
func (r *Replica[T]) index(ctx context.Context) (*rangesync.Index, []KeyError, error) {
	r.ix.mu.Lock()
	defer r.ix.mu.Unlock()
	if r.ix.built {
		return &r.ix.x, nil, nil
	}
	r.ix.live.Store(true)
	skipped, err := r.rescanAll(ctx)
	if err != nil {
		return nil, nil, err
	}
	r.ix.built = true
	return &r.ix.x, skipped, nil
}

// Rescan reads every stored record and rebuilds from it the review queue
// and the reconciliation index, for a replica that restarted over a store
// that kept its records, or whose store other processes write too (each
// Replica value indexes the writes it makes itself). Without it, the first
// reconciliation builds the index. A record that cannot be read is skipped
// and reported in the error, which wraps each record's [*KeyError]; the
// others are scanned.
func (r *Replica[T]) Rescan(ctx context.Context) error {
	r.ix.mu.Lock()
	defer r.ix.mu.Unlock()
	r.ix.live.Store(true)
	skipped, err := r.rescanAll(ctx)
	if err != nil {
		return err
	}
	r.ix.built = true
	if len(skipped) == 0 {
		return nil
	}
	errs := make([]error, len(skipped))
	for i := range skipped {
		errs[i] = &skipped[i]
	}
	return fmt.Errorf("replica %v: rescan skipped %d records: %w", r.id, len(skipped), errors.Join(errs...))
}

// rescanAll rescans every key; the error is for a store that cannot list
// its keys or a context done.
func (r *Replica[T]) rescanAll(ctx context.Context) ([]KeyError, error) {
	var skipped []KeyError
	err := scanAll(ctx, r.store, func(e Entry) error {
		if err := r.rescan(ctx, e.Key); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			skipped = append(skipped, KeyError{Key: e.Key, Err: err})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replica %v: rescan: %w", r.id, err)
	}
	return skipped, nil
}

// rescan tracks and indexes the stored state of key, holding the key so
// that a write stored meanwhile is not overtaken by the older state read
// here.
func (r *Replica[T]) rescan(ctx context.Context, key string) error {
	lk, err := r.locks.lock(ctx, key)
	if err != nil {
		return err
	}
	defer r.locks.unlock(key, lk)
	data, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("replica %v: get %q: %w", r.id, key, err)
	}
	return r.takeIn(key, data, rev)
}

// takeIn tracks and indexes data, the state of key stored at revision rev
// (0: absent), read under the key's lock. Only a record with several
// siblings may be in the review queue, so only such a record's values are
// decoded.
func (r *Replica[T]) takeIn(key string, data []byte, rev uint64) error {
	var o resolve.Outcome[T]
	if rev == 0 {
		r.track(key, &o)
		return nil
	}
	join, n, err := r.storedContext(key, data, rev)
	if err != nil {
		return err
	}
	if n > 1 {
		if o.State, err = r.decodeStored(key, data, rev); err != nil {
			return err
		}
		if _, err := r.res.Resolve(o.State); err != nil {
			errors.As(err, &o.Conflict)
		}
	}
	r.track(key, &o)
	if len(key) > MaxKeyLen { // stored before the limit: it cannot be reconciled
		return fmt.Errorf("replica: %w: %d bytes", ErrKeyTooLong, len(key))
	}
	r.put(key, join)
	return nil
}

// seen keeps the index in step with what the replica reads: join is the
// causal context of the state of key just read from the store at revision
// rev. A state the index does not hold — stored by another Replica value
// or process sharing the store, since this one indexes its own writes as
// it stores them — is taken in (tracked and indexed). locked says the
// caller holds key's lock (the stored bytes are then data); otherwise the
// key is read again under its lock, so that the older state read here can
// never overtake a newer one indexed meanwhile. Reading the state of a key
// the index holds costs one hash and one lookup; taking one in, one more
// read of the store. A state that does not read is left out: it is
// quarantined and reported where it was read.
func (r *Replica[T]) seen(ctx context.Context, key string, rev uint64, join version.Vector, data []byte, locked bool) {
	if rev == 0 || len(key) > MaxKeyLen || !r.ix.live.Load() {
		return
	}
	var buf [64]byte
	v, _ := join.AppendBinary(buf[:0]) // never fails
	if r.ix.x.Has(key, v) {
		return
	}
	if locked {
		_ = r.takeIn(key, data, rev)
		return
	}
	_ = r.rescan(ctx, key)
}
