package replica

import (
	"context"
	"hash/maphash"
	"sync"
)

// keyLocks is a set of per-key locks that honour context cancellation. The
// zero keyLocks is ready to use.
//
// The keys are spread over stripes by hash. Each stripe keeps one lock it
// lends to whichever key of the stripe is locked, so that locking a key
// whose stripe is free touches no map and allocates nothing; a key locked
// while its stripe's lock is lent to another key gets a lock of its own,
// kept in the stripe's map while it is held or waited for. A key has one
// lock at a time (the stripe's, or one in the map), so locks of different
// keys never exclude each other, whatever their hashes.
type keyLocks struct {
	stripes [lockStripes]lockStripe
}

// lockStripes is the number of stripes: enough that keys locked at once
// rarely share one (which costs a map entry and an allocation).
const lockStripes = 64

// lockSeed spreads keys over the stripes of every keyLocks.
var lockSeed = maphash.MakeSeed()

type lockStripe struct {
	mu   sync.Mutex
	lent keyLock             // lent to key while lent.refs > 0
	key  string              // the key lent is lent to
	m    map[string]*keyLock // the stripe's other locked keys
}

type keyLock struct {
	// held and refs are guarded by the stripe's mutex. A free key is taken
	// by setting held, without touching ch; a key locked already is waited
	// for on ch, on which unlock hands the lock to one waiter.
	held bool
	refs int           // holders and waiters
	ch   chan struct{} // the hand-over to a waiter, made when one first waits
}

// stripe returns the stripe of key.
func (l *keyLocks) stripe(key string) *lockStripe {
	return &l.stripes[maphash.String(lockSeed, key)%lockStripes]
}

// heldKey is a key's lock, held: the lock and its stripe, so that unlock
// need not hash the key again.
type heldKey struct {
	s *lockStripe
	k *keyLock
}

// lock locks key, waiting until it is free or ctx is done; the caller
// passes what it returns to unlock.
func (l *keyLocks) lock(ctx context.Context, key string) (heldKey, error) {
	s := l.stripe(key)
	s.mu.Lock()
	k := s.get(key)
	k.refs++
	if !k.held {
		k.held = true
		s.mu.Unlock()
		return heldKey{s, k}, nil
	}
	if k.ch == nil {
		k.ch = make(chan struct{}, 1)
	}
	s.mu.Unlock()
	select {
	case <-k.ch: // handed over: held stays set
		return heldKey{s, k}, nil
	case <-ctx.Done():
		s.cancel(key, k)
		return heldKey{}, ctx.Err()
	}
}

// get returns the lock of key, holding s.mu: the one key already has if
// it is held or waited for, else the stripe's own if it is free, else a
// new one.
func (s *lockStripe) get(key string) *keyLock {
	if s.lent.refs > 0 && s.key == key {
		return &s.lent
	}
	if k := s.m[key]; k != nil {
		return k
	}
	if s.lent.refs == 0 {
		s.key = key
		return &s.lent
	}
	if s.m == nil {
		s.m = map[string]*keyLock{}
	}
	k := &keyLock{}
	s.m[key] = k
	return k
}

// unlock unlocks key, locked as h.
func (l *keyLocks) unlock(key string, h heldKey) {
	h.s.mu.Lock()
	h.k.refs--
	h.s.pass(key, h.k) // does not panic: no deferred unlock needed
	h.s.mu.Unlock()
}

// cancel drops a waiter of k whose context ended. The lock may have been
// handed to it meanwhile: it then passes it on as unlock does.
func (s *lockStripe) cancel(key string, k *keyLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k.refs--
	select {
	case <-k.ch:
		s.pass(key, k)
	default:
	}
}

// pass hands k, just released, to a waiter, or frees it if none is left
// (a lock of the map then goes); holding s.mu.
func (s *lockStripe) pass(key string, k *keyLock) {
	if k.refs > 0 {
		k.ch <- struct{}{} // never blocks: held is set until a waiter takes it
		return
	}
	k.held = false
	if k != &s.lent {
		delete(s.m, key)
	}
}
