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
	ch   chan struct{} // holds one token while the key is locked
	refs int           // holders and waiters
}

// stripe returns the stripe of key.
func (l *keyLocks) stripe(key string) *lockStripe {
	return &l.stripes[maphash.String(lockSeed, key)%lockStripes]
}

// lock locks key, waiting until it is free or ctx is done; the caller
// passes the lock it returns to unlock.
func (l *keyLocks) lock(ctx context.Context, key string) (*keyLock, error) {
	s := l.stripe(key)
	s.mu.Lock()
	k := s.get(key)
	k.refs++
	s.mu.Unlock()
	// A free key is taken without a two-way select, which locks both
	// channels (most of the cost of an uncontended lock).
	select {
	case k.ch <- struct{}{}:
		return k, nil
	default:
	}
	select {
	case k.ch <- struct{}{}:
		return k, nil
	case <-ctx.Done():
		s.release(key, k)
		return nil, ctx.Err()
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
		if s.lent.ch == nil {
			s.lent.ch = make(chan struct{}, 1)
		}
		s.key = key
		return &s.lent
	}
	if s.m == nil {
		s.m = map[string]*keyLock{}
	}
	k := &keyLock{ch: make(chan struct{}, 1)}
	s.m[key] = k
	return k
}

// unlock unlocks key, locked as k.
func (l *keyLocks) unlock(key string, k *keyLock) {
	<-k.ch
	l.stripe(key).release(key, k)
}

// release drops a holder or waiter of key's lock k: a lock of the map goes
// when none is left.
func (s *lockStripe) release(key string, k *keyLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k.refs--; k.refs == 0 && k != &s.lent {
		delete(s.m, key)
	}
}
