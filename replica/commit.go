package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/harborpoint/concord/policy"
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
// another writer changed the record meanwhile. It plans from the state this
// replica last stored for key when it remembers one (see recent), and from
// the store otherwise.
func (r *Replica[T]) attempt(ctx context.Context, key string, p plan[T]) (c committed[T], retry bool, err error) {
	if s, ok := r.recent.get(key); ok {
		if c, stored, err := r.attemptRemembered(ctx, key, p, s); stored || err != nil {
			return c, false, err
		}
	}
	cur, rev, err := r.load(ctx, key)
	if err != nil {
		return c, false, err
	}
	// A reaped key is planned against its horizon, the tombstone removed:
	// what it covers is stale, and a write over it supersedes the delete.
	if err := r.loadHorizons(ctx); err != nil {
		return c, false, err
	}
	h, reaped := r.horizon(key)
	if rev == 0 && reaped {
		cur = h
	}
	if err := r.floorFor(ctx, cur); err != nil {
		return c, false, err
	}
	c, data, err := r.planFrom(key, p, cur, rev != 0 || reaped)
	if err != nil || data == nil {
		return c, false, err
	}
	if retry, err = r.storeState(ctx, key, &c, data, rev); retry || err != nil {
		return c, retry, err
	}
	if rev == 0 && reaped {
		r.mu.Lock()
		delete(r.memb.reaped, key) // stored again: the state descends from the horizon
		r.countMemb()
		r.mu.Unlock()
		// The durable horizon goes too. If that fails, it is harmless: a
		// horizon is consulted only while its key is absent from the
		// store, which only a reap, replacing it, makes it again; and it
		// is dropped after the retention.
		_ = r.deleteHorizon(ctx, key)
	}
	return c, false, nil
}

// attemptRemembered plans from s, the state this replica last stored for
// key, and stores the result if the store still holds s: stored reports
// that it did; err, that the store failed. Anything else decided from s — a
// revision mismatch, an error of the plan, nothing to store — may be
// decided from a state that is no longer current, so s is forgotten and
// the caller decides again from the store.
func (r *Replica[T]) attemptRemembered(ctx context.Context, key string, p plan[T], s remembered) (c committed[T], stored bool, err error) {
	if r.nQuarantine.Load() == 0 { // a quarantined key is read from the store
		if cur, err := r.decode(key, s.data); err == nil && r.floorFor(ctx, cur) == nil {
			if c, data, err := r.planFrom(key, p, cur, true); err == nil && data != nil {
				retry, err := r.storeState(ctx, key, &c, data, s.rev)
				if !retry {
					return c, err == nil, err
				}
			}
		}
	}
	r.recent.forget(key)
	return committed[T]{}, false, nil
}

// planFrom runs p on cur, a state the store holds (exists: not the absent
// record) and encodes what it plans to store: data is nil when there is
// nothing to store (stale, duplicate or replayed).
func (r *Replica[T]) planFrom(key string, p plan[T], cur resolve.Siblings[T], exists bool) (c committed[T], data []byte, err error) {
	c.cur = cur
	c.outcome, err = p(cur)
	if err != nil {
		return c, nil, err
	}
	if exists && c.outcome.State.Equal(cur) {
		return c, nil, nil
	}
	// Size the buffer like the last state encoded, so that it rarely grows.
	buf := make([]byte, 0, r.sizeHint.Load()+64)
	data, c.from, c.to, err = r.encode(key, buf, c.outcome.State)
	if errors.Is(err, ErrTooLarge) {
		return c, nil, err // refused before anything is stored
	}
	if err != nil {
		return c, nil, wrapf(err, "replica %v: encode %q", r.id, key)
	}
	r.sizeHint.Store(int64(min(len(data), maxSizeHint)))
	return c, data, nil
}

// storeState stores data, the encoding of c's outcome, if key is still at
// rev, and remembers it; retry reports that it was not.
func (r *Replica[T]) storeState(ctx context.Context, key string, c *committed[T], data []byte, rev uint64) (retry bool, err error) {
	next, err := r.compareAndSet(ctx, key, data, rev, c.outcome.State)
	switch {
	case errors.Is(err, ErrRevisionMismatch):
		return true, nil
	case err != nil:
		r.recent.forget(key) // the write may or may not have been stored
		return false, wrapf(err, "replica %v: store %q", r.id, key)
	}
	c.data = data
	r.recent.put(key, data, next)
	return false, nil
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
// A write refused for the record's conflict queues it, as a read does (see
// refresh). (A write refused with a stale token of the review queue — a
// 412 — needs nothing more: it was refused on a state read by load, which
// made the item current, so the queue already hands out a token that
// settles what is stored.)
func (r *Replica[T]) refused(key string, c *committed[T], err error) {
	var (
		pf       *PreconditionFailed
		conflict *resolve.ConflictRequiresRetry
	)
	switch {
	case errors.As(err, &pf):
		r.observe(resolve.Event{Kind: resolve.Rejected, Entity: r.res.Entity(), Siblings: len(pf.Stamps)})
	case errors.As(err, &conflict) && c.cur.Len() > 1:
		r.refresh(key, &observed[T]{state: c.cur, join: c.cur.Join()}, true)
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
	// (RoundTrips is asked about the outcome's value, which is on the heap
	// already, so that res need not be.)
	if ex, ok := r.codec.(ExactCodec[T]); !ok || !r.roundTrips(ex, &o.Resolution.Value) {
		v, err := r.codec.Decode(c.data[c.from:c.to])
		if err != nil {
			return Record[T]{}, wrapf(err, "replica %v: stored record %q", r.id, key)
		}
		if r.cmdKeys != nil {
			// Stored beside the value's bytes, in a form that keeps them
			// exactly (see encodeState).
			*r.cmdKeys(&v) = *r.cmdKeys(&o.Resolution.Value)
		}
		res.Value = v
	}
	res.Seen = version.Vector{}
	v := res.Value
	return Record[T]{Key: key, Value: v, Stamp: res.Stamp, Context: res.Version, Token: res.Version.Token(),
		Branches: []resolve.Branch[T]{res.Branch}, Decisions: res.Decisions()}, nil
}

// roundTrips reports whether ex vouches for the round trip of *v as the
// codec sees it: without its idempotency keys, which the replica stores
// beside the value's bytes in binary that keeps any string exactly (see
// encodeStateLast), so that the codec's verdict on them — for JSON, that
// each is valid UTF-8, a pass over every key a record remembers — would be
// wasted work on every write. *v is as it was when roundTrips returns.
func (r *Replica[T]) roundTrips(ex ExactCodec[T], v *T) bool {
	if r.cmdKeys == nil {
		return ex.RoundTrips(v)
	}
	k := r.cmdKeys(v)
	if k.Len() == 0 {
		return ex.RoundTrips(v)
	}
	keys := *k
	*k = policy.Applied{}
	ok := ex.RoundTrips(v)
	*k = keys
	return ok
}

func (r *Replica[T]) observe(e resolve.Event) {
	if r.obs != nil {
		r.obs.Observe(e)
	}
}
