package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/harborpoint/concord/resolve"
	"github.com/harborpoint/concord/version"
)

// A plan is one write style: from a record's current state it computes the
// state to store and what that means (a [resolve.Outcome]), and nothing
// else — it stores nothing and tells no one, so that commit may run it once
// per compare-and-set attempt. It returns an error to stop.
type plan[T any] func(cur resolve.Siblings[T]) (resolve.Outcome[T], error)

// committed is what commit did: the outcome of the attempt the store
// accepted (or that found nothing to store), and the state it read.
type committed[T any] struct {
	outcome  resolve.Outcome[T]
	cur      resolve.Siblings[T] // the state the plan ran on
	data     []byte              // the bytes stored; nil if nothing was stored
	from, to int                 // where the bytes of the last value encoded lie in data
}

// commit runs p on key's current state and stores the state it plans by
// compare-and-set, planning again from the new state whenever another
// writer got there first. Only once the store has accepted the state (or p
// found nothing to store) does it act on the outcome, once: it updates the
// review queue, tells the observer, logs the decisions and calls after
// (nil for none), all before any other write of key by this replica can
// start. An error from p ends the loop; a refused precondition is told
// once, as a Rejected event.
//
// The replica's own writers of one key take turns (a per-key lock), so the
// compare-and-set loses only to writers outside this Replica value — other
// processes or Replica values sharing the store.
func (r *Replica[T]) commit(ctx context.Context, key string, p plan[T], after func(*committed[T])) (committed[T], error) {
	if len(key) > MaxKeyLen {
		return committed[T]{}, fmt.Errorf("%w: %d bytes, limit %d", ErrKeyTooLong, len(key), MaxKeyLen)
	}
	lk, err := r.locks.lock(ctx, key)
	if err != nil {
		return committed[T]{}, wrapf(err, "replica %v: %q", r.id, key)
	}
	defer r.locks.unlock(key, lk)
	for range r.attempts {
		c, retry, err := r.attempt(ctx, key, p)
		if retry {
			continue
		}
		if err != nil {
			r.refused(key, &c, err)
			return c, err
		}
		r.done(ctx, key, &c)
		if after != nil {
			after(&c)
		}
		return c, nil
	}
	return committed[T]{}, wrapf(ErrContention, "replica %v: %q: %d attempts", r.id, key, r.attempts)
}

// attempt plans once and tries to store the result; retry reports that
// another writer changed the record meanwhile.
func (r *Replica[T]) attempt(ctx context.Context, key string, p plan[T]) (c committed[T], retry bool, err error) {
	cur, rev, err := r.load(ctx, key)
	if err != nil {
		return c, false, err
	}
	// A reaped key is planned against its horizon, the tombstone removed:
	// what it covers is stale, and a write over it supersedes the delete.
	h, reaped := r.horizon(key)
	if rev == 0 && reaped {
		cur = h
	}
	c.cur = cur
	c.outcome, err = p(cur)
	if err != nil {
		return c, false, err
	}
	if (rev != 0 || reaped) && c.outcome.State.Equal(cur) {
		return c, false, nil // nothing to store: stale, duplicate or replayed
	}
	// Size the buffer like the last state encoded, so that it rarely grows.
	buf := make([]byte, 0, r.sizeHint.Load()+64)
	data, from, to, err := r.encode(key, buf, c.outcome.State)
	if errors.Is(err, ErrTooLarge) {
		return c, false, err // refused before anything is stored
	}
	if err != nil {
		return c, false, wrapf(err, "replica %v: encode %q", r.id, key)
	}
	r.sizeHint.Store(int64(min(len(data), maxSizeHint)))
	if err = r.compareAndSet(ctx, key, data, rev, c.outcome.State); err != nil {
		if errors.Is(err, ErrRevisionMismatch) {
			return c, true, nil
		}
		return c, false, wrapf(err, "replica %v: store %q", r.id, key)
	}
	c.data, c.from, c.to = data, from, to
	if rev == 0 && reaped {
		r.mu.Lock()
		delete(r.memb.reaped, key) // stored again: the state descends from the horizon
		r.mu.Unlock()
	}
	return c, false, nil
}

// maxSizeHint bounds the buffer a write starts encoding into.
const maxSizeHint = 64 << 10

// done acts on a committed outcome: review queue, events, decision log.
// (The reconciliation index took the state in as it was stored.)
func (r *Replica[T]) done(ctx context.Context, key string, c *committed[T]) {
	o := &c.outcome
	if r.obs != nil {
		for e := range o.Events() {
			r.obs.Observe(e)
		}
	}
	if c.data != nil {
		r.track(key, o)
	}
	if r.log != nil && o.Resolution != nil && r.log.Enabled(ctx, slog.LevelDebug) {
		for e := range o.Events() {
			if e.Kind == resolve.PolicyFired {
				r.log.LogAttrs(ctx, slog.LevelDebug, "concord decision",
					slog.String("key", key), slog.String("decision", e.Decision.String()))
			}
		}
	}
}

// refused tells the observer of a write refused to its client, and of a
// state refused for exceeding the record limit (with the key, in the log).
func (r *Replica[T]) refused(key string, c *committed[T], err error) {
	var pf *PreconditionFailed
	switch {
	case errors.As(err, &pf):
		r.observe(resolve.Event{Kind: resolve.Rejected, Entity: r.res.Entity(), Siblings: len(pf.Stamps)})
	case errors.Is(err, ErrTooLarge):
		r.report(resolve.Event{Kind: resolve.TooLarge, Entity: r.res.Entity(), Siblings: c.outcome.State.Len()}, key, err)
	}
}

// stored returns the record as it was stored by c: decoded from the bytes
// the store accepted, so that a caller sees exactly what a later read will
// (a value whose codec does not round-trip it exactly comes back as the
// codec makes it).
func (r *Replica[T]) stored(key string, c *committed[T]) (Record[T], error) {
	if c.data == nil {
		o := &c.outcome
		if o.Resolution == nil && o.Conflict == nil {
			return r.read(key, o.State), nil
		}
		return r.record(key, o.State, o.Resolution, o.Conflict), nil
	}
	o := &c.outcome
	if o.State.Len() != 1 || o.Resolution == nil || o.Resolution.Deleted {
		s, err := r.decode(key, c.data)
		if err != nil {
			return Record[T]{}, wrapf(err, "replica %v: stored record %q", r.id, key)
		}
		return r.read(key, s), nil
	}
	// One branch — every local write's result: its value as decoded from
	// the bytes stored, which is the value encoded when the codec says it
	// round-trips (ExactCodec). Its stamps and causal context are stored
	// exactly as they are in memory; what its writer had seen is not stored
	// for the only branch of a state (the state's context says it).
	res := *o.Resolution
	if ex, ok := r.codec.(ExactCodec[T]); !ok || !ex.RoundTrips(&res.Value) {
		v, err := r.codec.Decode(c.data[c.from:c.to])
		if err != nil {
			return Record[T]{}, wrapf(err, "replica %v: stored record %q", r.id, key)
		}
		res.Value = v
	}
	res.Seen = version.Vector{}
	v := res.Value
	return Record[T]{Key: key, Value: v, Stamp: res.Stamp, Context: res.Version, Token: res.Version.Token(),
		Branches: []resolve.Branch[T]{res.Branch}, Decisions: res.Decisions}, nil
}

func (r *Replica[T]) observe(e resolve.Event) {
	if r.obs != nil {
		r.obs.Observe(e)
	}
}

// keyLocks is a set of per-key locks that honour context cancellation. The
// zero keyLocks is ready to use.
type keyLocks struct {
	mu   sync.Mutex
	m    map[string]*keyLock
	free []*keyLock // unused locks, kept so that locking allocates nothing
}

type keyLock struct {
	ch   chan struct{} // holds one token while the key is locked
	refs int           // holders and waiters; the entry goes when it drops to 0
}

// lock locks key, waiting until it is free or ctx is done; the caller
// passes the lock it returns to unlock.
func (l *keyLocks) lock(ctx context.Context, key string) (*keyLock, error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	k := l.m[key]
	if k == nil {
		if n := len(l.free); n > 0 {
			k, l.free = l.free[n-1], l.free[:n-1]
		} else {
			k = &keyLock{ch: make(chan struct{}, 1)}
		}
		l.m[key] = k
	}
	k.refs++
	l.mu.Unlock()
	select {
	case k.ch <- struct{}{}:
		return k, nil
	case <-ctx.Done():
		l.release(key, k)
		return nil, ctx.Err()
	}
}

// unlock unlocks key, locked as k.
func (l *keyLocks) unlock(key string, k *keyLock) {
	<-k.ch
	l.release(key, k)
}

func (l *keyLocks) release(key string, k *keyLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k.refs--; k.refs == 0 {
		delete(l.m, key)
		if len(l.free) < maxFreeLocks {
			l.free = append(l.free, k)
		}
	}
}

// maxFreeLocks bounds the unused locks kept for reuse.
const maxFreeLocks = 64
