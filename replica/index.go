package replica

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
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
// the binary form of its causal context. It is built from the store once,
// by the first reconciliation (or session served); from then on every state
// the replica stores and every state it reads from the store is put in it
// (see seen), so that it follows the writes of other Replica values and
// processes sharing the store as soon as this one reads them. Until then
// nothing is put — the build reads every stored state anyway — so a
// replica that never reconciles (one fed by pushed writes alone) never
// pays for the index: a put hashes the key and context with SHA-256 and
// takes two locks, about a quarter of a replicated write.
//
// The updates of one key are ordered by its stripe: a state read from the
// store is put while holding the stripe's lock across the read, so an older
// state can never be put after a newer one. A write does not hold the lock
// across its compare-and-set (that would serialize the writes of every key
// of the stripe on the store's round trip): it notes the stripe's count of
// puts before, and puts its state afterwards only if no put was made in the
// stripe meanwhile — otherwise it reads the key again under the lock. The
// lock is never held while user code runs, and is taken after the key's
// write lock, never before.
type syncIndex struct {
	x       rangesync.Index
	mu      sync.Mutex // held while the index is built
	built   bool
	seed    maphash.Seed
	stripes [indexStripes]stripe
	// live is set once a build starts: from then on the states the replica
	// stores and reads are taken in (see storeIndexed and seen). Before,
	// nothing reads the index, and the build takes in every state.
	live atomic.Bool
}

// indexStripes is the number of stripes ordering index updates: enough
// that a write rarely finds another put in its stripe during its
// compare-and-set (which costs it one more read).
const indexStripes = 256

// stripe orders the index updates of the keys that hash to it.
type stripe struct {
	mu   sync.Mutex
	puts atomic.Uint64 // puts made under mu
}

// stripe returns the stripe of key.
func (ix *syncIndex) stripe(key string) *stripe {
	return &ix.stripes[maphash.String(ix.seed, key)%indexStripes]
}

// compareAndSet stores data, the encoding of s, under key by
// compare-and-set from revision rev, and indexes s (see syncIndex). It
// returns the revision stored.
func (r *Replica[T]) compareAndSet(ctx context.Context, key string, data []byte, rev uint64, s resolve.Siblings[T]) (uint64, error) {
	var buf [64]byte
	join, _ := s.Join().AppendBinary(buf[:0]) // never fails
	return r.storeIndexed(ctx, key, data, rev, join, isTombstone(s))
}

// storeIndexed is compareAndSet for a state known by the binary form of
// its context, join, and whether it is a tombstone.
func (r *Replica[T]) storeIndexed(ctx context.Context, key string, data []byte, rev uint64, join []byte, tomb bool) (uint64, error) {
	var st *stripe
	var before uint64
	if r.ix.live.Load() {
		st = r.ix.stripe(key)
		before = st.puts.Load()
	}
	next, err := r.store.CompareAndSet(ctx, key, data, rev)
	if err != nil {
		return 0, err
	}
	if !r.ix.live.Load() {
		// No build has started: the one that does starts after this load,
		// and so reads this state, or a newer one, from the store.
		r.noteTombstone(key, tomb)
		return next, nil
	}
	if st != nil {
		st.mu.Lock()
		if st.puts.Load() == before {
			// Every state put so far was read before this one was stored.
			r.put(st, key, join, tomb)
			st.mu.Unlock()
			return next, nil
		}
		st.mu.Unlock()
	}
	// A put meanwhile may hold a newer state of key (or the build, started
	// during the compare-and-set, may make one): put what the store holds
	// now, under the stripe's lock (see reindexLocked). The write is stored, so
	// the read goes on if ctx ends. If that read fails, nothing is put (the
	// state may be older than what is indexed): the next read of key takes
	// its state in.
	_, _, _, _ = r.reindexLocked(context.WithoutCancel(ctx), key)
	return next, nil
}

// put indexes key at join, the binary form of its context, holding the
// lock of st, the key's stripe; tomb says the state is a tombstone.
// Before the index is built (see syncIndex) only the tombstone is noted.
func (r *Replica[T]) put(st *stripe, key string, join []byte, tomb bool) {
	if r.ix.live.Load() {
		_ = r.ix.x.Put(key, join) // the key's length was checked before the write
		st.puts.Add(1)
	}
	r.noteTombstone(key, tomb)
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
// that kept its records, or whose store other processes write too: each
// Replica value indexes the states it writes and reads itself, so a record
// another process wrote and this one never read is offered by this one's
// sessions only after a Rescan (see the package documentation, "Several
// writers on one store"). A replica that has not reconciled yet has no
// index to rebuild: its first session builds it from the store, and until
// then Rescan rebuilds the review queue alone (so that a replica fed by
// pushed writes alone never pays for the index). A record that cannot be
// read is skipped and reported in the error, which wraps each record's
// [*KeyError]; the others are scanned.
func (r *Replica[T]) Rescan(ctx context.Context) error {
	r.ix.mu.Lock()
	defer r.ix.mu.Unlock()
	skipped, err := r.rescanAll(ctx)
	if err != nil {
		return err
	}
	r.ix.built = r.ix.live.Load()
	if len(skipped) == 0 {
		return nil
	}
	errs := make([]error, len(skipped))
	for i := range skipped {
		errs[i] = &skipped[i]
	}
	return fmt.Errorf("replica %v: rescan skipped %d records:\n%w", r.id, len(skipped), errors.Join(errs...))
}

// rescanAll rescans every key; the error is for a store that cannot list
// its keys or a context done.
func (r *Replica[T]) rescanAll(ctx context.Context) ([]KeyError, error) {
	if err := r.loadHorizons(ctx); err != nil {
		return nil, err
	}
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
	if err == nil {
		err = r.indexHorizons(ctx)
	}
	if err != nil {
		return nil, wrapf(err, "replica %v: rescan", r.id)
	}
	return skipped, nil
}

// rescan tracks and indexes the stored state of key, holding the key so
// that the review queue is not overtaken by an older state either. Only a
// record with several siblings may conflict, so only such a record's
// values are decoded — and a record already in the queue, which may be
// there for a merge with a replicated state refused for size: it stays
// while that merge is still over the limit (see refresh).
func (r *Replica[T]) rescan(ctx context.Context, key string) error {
	lk, err := r.locks.lock(ctx, key)
	if err != nil {
		return err
	}
	defer r.locks.unlock(key, lk)
	data, rev, n, err := r.reindex(ctx, key)
	if err != nil {
		return err
	}
	switch it := r.peek(key); {
	case rev == 0:
		r.drop(key) // gone (reaped) meanwhile: nothing is left to settle
	case n > 1 || it != nil:
		s, err := r.decodeStored(key, data, rev)
		if err != nil {
			return err
		}
		r.refresh(key, &observed[T]{state: s, join: s.Join()}, true)
	}
	if rev != 0 && len(key) > MaxKeyLen { // stored before the limit: it cannot be reconciled
		return fmt.Errorf("%w: %d bytes, limit %d", ErrKeyTooLong, len(key), MaxKeyLen)
	}
	return nil
}

// reindex reads the stored state of key and indexes it under the key's
// stripe, and returns it with its number of siblings (0 if absent). A
// state that does not read is quarantined and reported (after the stripe
// is released: the observer and the logger are user code), and not
// indexed.
func (r *Replica[T]) reindex(ctx context.Context, key string) (data []byte, rev uint64, n int, err error) {
	data, rev, n, err = r.reindexLocked(ctx, key)
	if errors.Is(err, errUnread) {
		_, _, err = r.storedContext(key, data, rev)
		if err == nil { // read meanwhile: it changed, and the next read indexes it
			err = fmt.Errorf("replica %v: %q changed while read", r.id, key)
		}
	}
	return data, rev, n, err
}

// errUnread is reindexLocked's error for a state it could not read.
var errUnread = errors.New("replica: state not read")

func (r *Replica[T]) reindexLocked(ctx context.Context, key string) (data []byte, rev uint64, n int, err error) {
	st := r.ix.stripe(key)
	st.mu.Lock()
	defer st.mu.Unlock()
	return r.reindexHeld(ctx, st, key)
}

// withStripe runs f with st, the reconciliation index's stripe of key,
// locked — so that no update of the key's entry interleaves — and the
// revision of key the store holds meanwhile (0: none).
func (r *Replica[T]) withStripe(ctx context.Context, key string, f func(st *stripe, rev uint64) error) error {
	st := r.ix.stripe(key)
	st.mu.Lock()
	defer st.mu.Unlock()
	_, rev, err := r.store.Get(ctx, key)
	if err != nil {
		return wrapf(err, "replica %v: get %q", r.id, key)
	}
	return f(st, rev)
}

// reindexHeld is reindexLocked with the lock of st, key's stripe, held.
func (r *Replica[T]) reindexHeld(ctx context.Context, st *stripe, key string) (data []byte, rev uint64, n int, err error) {
	data, rev, err = r.store.Get(ctx, key)
	if err != nil {
		return nil, 0, 0, wrapf(err, "replica %v: get %q", r.id, key)
	}
	if rev == 0 {
		return nil, 0, 0, nil
	}
	if r.nQuarantine.Load() > 0 && r.quarantined(key, rev) != nil {
		return data, rev, 0, errUnread
	}
	payload, err := open(data, r.maxRecord)
	if err != nil {
		return data, rev, 0, errUnread
	}
	f, err := stateFrame(payload, r.stateLimits())
	if err != nil {
		return data, rev, 0, errUnread
	}
	if len(key) <= MaxKeyLen {
		var buf [64]byte
		r.put(st, key, f.AppendJoin(buf[:0]), frameTombstone(f))
	}
	return data, rev, f.Len(), nil
}

// seen keeps the index in step with what the replica reads: join is the
// causal context of the state of key just read from the store at revision
// rev. A state the index does not hold — stored by another Replica value
// or process sharing the store, since this one indexes its own writes as
// it stores them — is taken in: the key is read again under its stripe and
// indexed, so that the state read here, which may be older than one
// indexed meanwhile, is never what is put. Reading a state the index holds
// costs one hash and one lookup; taking one in, one more read of the
// store. It takes no write lock, so a read may run inside a write's
// function. The review queue is not updated here: a conflict stored by
// another writer enters it when this replica writes the key or rescans.
func (r *Replica[T]) seen(ctx context.Context, key string, rev uint64, join version.Vector) {
	if rev == 0 || len(key) > MaxKeyLen || !r.ix.live.Load() {
		return
	}
	var buf [64]byte
	v, _ := join.AppendBinary(buf[:0]) // never fails
	r.seenBinary(ctx, key, v)
}

// seenFrame is seen for a state read as its clock frame f, whose context it
// does not build.
func (r *Replica[T]) seenFrame(ctx context.Context, key string, rev uint64, f version.ClockFrame) {
	if rev == 0 || len(key) > MaxKeyLen || !r.ix.live.Load() {
		return
	}
	var buf [64]byte
	r.seenBinary(ctx, key, f.AppendJoin(buf[:0]))
}

// seenBinary is seen for a context in its binary form v.
func (r *Replica[T]) seenBinary(ctx context.Context, key string, v []byte) {
	if r.ix.x.Has(key, v) {
		return
	}
	_, _, _, _ = r.reindex(ctx, key) // a state that does not read is reported by reindex
}
